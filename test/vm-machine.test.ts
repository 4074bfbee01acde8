// Features of the userspace machine, each against what testdata/machine.c says it computes and, where bpf() is
// permitted, against the kernel running the same object: tail calls up to the kernel's limit (33), ring
// buffer records in order (submit, discard, output from a bpf_loop callback), for_each_map_elem over a hash
// from a bpf2bpf call with its own stack, a packet rewrite with an IPv4 checksum fix-up, skb_adjust_room,
// bpf_snprintf; and a helper the machine lacks fails with a typed error naming it.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadCollection } from "../src/collection.js";
import { VmError } from "../src/exec/errors.js";
import { assemble } from "../src/isa/index.js";
import type { Instruction } from "../src/isa/instruction.js";
import { loadKernelCollection } from "../src/kernel/collection.js";
import type { KernelMap } from "../src/kernel/map.js";
import { KernelProgram } from "../src/kernel/program.js";
import { RingBufReader } from "../src/kernel/ringbuf.js";
import type { RingBufMap } from "../src/maps/ringbuf.js";
import { parseBtf } from "../src/object/btf/parse.js";
import { type CollectionSpec, loadCollectionSpec } from "../src/object/collection.js";
import type { ProgramSpec } from "../src/object/programs.js";
import type { ProgramType } from "../src/object/section-types.js";
import { VerifierError } from "../src/verifier/index.js";
import { loadVmCollection } from "../src/vm/collection.js";
import { parseTracepointFormat, tracepointContext } from "../src/vm/tracepoint.js";
import { tsbpf } from "./support/cli.js";
import { bpfMissing } from "./support/kernel.js";
import { udpPacket } from "./support/packets.js";
import { REPO } from "./support/paths.js";

const spec = (): CollectionSpec => loadCollectionSpec(readFileSync(join(REPO, "testdata", "machine.o")));
const records = (list: Uint8Array[]): Array<[number, number]> =>
  list.map((r) => {
    const v = new DataView(r.buffer, r.byteOffset, r.length);
    return [v.getUint32(0, true), v.getUint32(4, true)];
  });

/** What machine.c's programs compute, from the C source. */
const EXPECTED = {
  hop: 34, // the first run and 33 tail calls (MAX_TAIL_CALL_CNT)
  produce: 5, // bpf_loop's iterations
  weigh: 15045, // sum over k = 1..5 of k * 1000 + 3k
  rewrite: 0,
  records: [
    [0, 0],
    [1, 1],
    [2, 4],
    [100, 0],
    [101, 1],
    [102, 4],
    [103, 9],
    [104, 16],
  ],
};

describe("the userspace machine runs machine.c", () => {
  it("computes what the C source says", () => {
    const vm = loadVmCollection(spec());
    const run = (name: string) => vm.programs.get(name)?.testRun({ data: udpPacket() });
    assert.equal(run("hop")?.retval, EXPECTED.hop);
    assert.equal(run("produce")?.retval, EXPECTED.produce);
    const got: Uint8Array[] = [];
    (vm.maps.get("events") as RingBufMap).poll((r) => got.push(r));
    assert.deepEqual(records(got), EXPECTED.records, "ring buffer records in order, the discarded one skipped");
    assert.equal(run("weigh")?.retval, EXPECTED.weigh);
    const out = run("rewrite");
    assert.equal(out?.retval, EXPECTED.rewrite);
    const ip = (out as { dataOut: Uint8Array }).dataOut.subarray(14, 34);
    assert.deepEqual([...ip.subarray(16, 20)], [10, 0, 0, 99]);
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += ((ip[i] as number) << 8) | (ip[i + 1] as number);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    assert.equal(sum, 0xffff, "the IPv4 header checksum still verifies");
    const grown = run("grow");
    assert.equal(grown?.retval, udpPacket().length + 8, "8 bytes of room");
    assert.deepEqual([...(grown?.dataOut.subarray(34, 42) ?? [])], [0, 0, 0, 0, 0, 0, 0, 0], "right after the IPv4 header");
    assert.deepEqual(grown?.dataOut.subarray(42), udpPacket().subarray(34), "the UDP header and payload moved behind it");
    assert.equal(run("format")?.retval, 10);
    const xlat = run("xlat");
    assert.equal(xlat?.retval, 28 | (1 << 8) | (1 << 9), "20 + 8 bytes longer, protocol IPv6, IPv6 -> IPv6 refused (ENOTSUPP)");
    assert.deepEqual(xlat?.dataOut.subarray(0, 14), udpPacket().subarray(0, 14), "the MAC header moved to the front");
    assert.deepEqual([...(xlat?.dataOut.subarray(14, 34) ?? [])], new Array(20).fill(0), "20 zeroed bytes after it");
    assert.deepEqual(xlat?.dataOut.subarray(34, 54), udpPacket().subarray(14, 34), "then the IPv4 header");
    const back = run("xlat_back");
    assert.equal(back?.retval, udpPacket().length);
    assert.deepEqual(back?.dataOut, udpPacket(), "IPv4 -> IPv6 -> IPv4 gives the packet back");
    assert.deepEqual(vm.maps.get(".bss")?.typed().get(0), { hops: EXPECTED.hop, text: "-5-7 ff|z" });
  });

  it("gives the kernel's results", { skip: bpfMissing() }, () => {
    const vm = loadVmCollection(spec());
    using kernel = loadKernelCollection(spec());
    for (const name of ["hop", "produce", "weigh", "rewrite", "grow", "format", "xlat", "xlat_back"]) {
      const a = vm.programs.get(name)?.testRun({ data: udpPacket() });
      const b = kernel.programs.get(name)?.testRun({ data: udpPacket() });
      assert.ok(a && b);
      assert.equal(a.retval, b.retval, name);
      assert.deepEqual(a.dataOut, b.dataOut, name);
    }
    const ours: Uint8Array[] = [];
    (vm.maps.get("events") as RingBufMap).poll((r) => ours.push(r));
    const theirs: Uint8Array[] = [];
    const reader = new RingBufReader(kernel.maps.get("events") as KernelMap);
    reader.poll((r) => theirs.push(r.slice()));
    reader.close();
    assert.deepEqual(records(ours), records(theirs));
    assert.deepEqual(vm.maps.get(".bss")?.typed().get(0), (kernel.maps.get(".bss") as KernelMap).typed().get(0), "text from bpf_snprintf");
  });

  it("names a helper it does not implement when a program reaches it", () => {
    // bpf_d_path: a file's path, which the machine cannot know. The verifier refuses it (xdp programs may not
    // call bpf_d_path): loaded unverified to reach the helper.
    const only = soloXdp("stack", "call 147\nmov %r0, 0\nexit");
    assert.throws(
      () => loadVmCollection(only),
      (e: unknown) => e instanceof VerifierError && /cannot use helper bpf_d_path#147/.test(e.message),
    );
    const vm = loadVmCollection(only, { verify: false });
    assert.throws(
      () => vm.programs.get("stack")?.testRun({ data: udpPacket() }),
      (e: unknown) => e instanceof VmError && e.code === "UNSUPPORTED" && /bpf_d_path \(147\) at pc 0 is not implemented/.test(e.message),
    );
  });
});

/** machine.o's collection with one xdp program of its own in place of its programs, and no maps. */
function soloXdp(name: string, source: string | Instruction[], type: ProgramType = "xdp"): CollectionSpec {
  const program: ProgramSpec = {
    name,
    section: type,
    type,
    sleepable: false,
    typeSource: "section",
    instructions: typeof source === "string" ? assemble(source) : source,
    references: new Map(),
    functions: [],
    license: "GPL",
    kernelVersion: 0,
  };
  return { ...spec(), programs: new Map([[name, program]]), maps: new Map() };
}

describe("verification before the machine runs a program", () => {
  it("refuses what the verifier rejects, with its log, unless verify: false", () => {
    const only = soloXdp("unread", "mov %r0, %r5\nexit"); // r5 was never written: the kernel says R5 !read_ok
    assert.throws(
      () => loadVmCollection(only),
      (e: unknown) => e instanceof VerifierError && e.failure.reason === "R5 !read_ok" && e.failure.insn === 0 && /R5 !read_ok/.test(e.log),
    );
    assert.throws(() => loadCollection(only, { backend: "vm" }), VerifierError);
    // Opted out, it runs, checked only: r5 holds what the machine left there.
    assert.throws(() => loadVmCollection(only, { verify: false, mode: "trusted" }), /runs only verified programs/);
    const vm = loadVmCollection(only, { verify: false });
    assert.equal(vm.programs.get("unread")?.loaded.mode, "checked");
    assert.equal(typeof vm.programs.get("unread")?.testRun({ data: udpPacket() }).retval, "number");
  });
});

describe("what verification lets the machine run", () => {
  // r0 = 1; if r0 == 1 goto +1; r11 = 0 (never reached: r11 does not exist); exit, with offset -1
  const program: Instruction[] = [
    { op: 0xb7, dst: 0, src: 0, off: 0, imm: 1 },
    { op: 0x15, dst: 0, src: 0, off: 1, imm: 1 },
    { op: 0xb7, dst: 11, src: 0, off: 0, imm: 0 },
    { op: 0x95, dst: 0, src: 0, off: -1, imm: 0 },
  ];

  it("runs verified programs trusted: the JIT without run-time checks", () => {
    const vm = loadVmCollection(soloXdp("pass", "mov %r0, 2\nexit"));
    assert.equal(vm.programs.get("pass")?.loaded.mode, "trusted");
    assert.equal(vm.programs.get("pass")?.testRun({ data: udpPacket() }).retval, 2);
  });

  it("runs what the kernel accepts though its fields are malformed where no path goes", () => {
    const vm = loadVmCollection(soloXdp("odd", program), { engine: "interp" });
    assert.equal(vm.programs.get("odd")?.testRun({ data: udpPacket() }).retval, 1);
    // without the verifier's word on what runs, the machine's own checks refuse it
    assert.throws(() => loadVmCollection(soloXdp("odd", program), { verify: false }), /invalid register r11/);
  });

  it("the kernel accepts that program too", { skip: bpfMissing() }, () => {
    KernelProgram.load(program, { type: "xdp", name: "tsbpf_odd" }).close();
  });

  // tp_prog_is_valid_access compares the offset as unsigned: any negative one passes, as do those below 2048
  const farReads = "ldxdw %r2, [%r1-32768]\nldxdw %r3, [%r1-8]\nldxdw %r0, [%r1+2040]\nadd %r0, %r2\nadd %r0, %r3\nexit";

  it("gives tracepoint programs all the context the kernel lets them read", () => {
    const vm = loadVmCollection(soloXdp("far", farReads, "tracepoint"), { engine: "interp" });
    assert.equal(vm.programs.get("far")?.testRun({ ctx: new Uint8Array(8).fill(1) }).retval, 0);
  });

  it("the kernel accepts those reads too", { skip: bpfMissing() }, () => {
    KernelProgram.load(assemble(farReads), { type: "tracepoint", name: "tsbpf_far" }).close();
  });

  it("may_goto leaves a loop after the kernel's BPF_MAX_LOOPS (2^23) rounds, in every engine", () => {
    // r0 = 0; loop: may_goto out; r0 += 1; goto loop; out: exit
    const loop = soloXdp("spin", "mov %r0, 0\nl: may_goto +2\nadd %r0, 1\nja l\nexit");
    for (const options of [
      { engine: "interp" as const },
      { engine: "jit" as const, mode: "checked" as const },
      { engine: "jit" as const, mode: "trusted" as const },
    ]) {
      const vm = loadVmCollection(loop, { ...options, budget: 30_000_000 });
      assert.equal(vm.programs.get("spin")?.testRun({ data: udpPacket() }).retval, 2 ** 23, JSON.stringify(options));
    }
  });
});

describe("loadCollection and tsbpf test-run", () => {
  it("load into the machine by default, with typed maps", () => {
    const objs = loadCollection(spec());
    assert.equal(objs.programs.get("weigh")?.testRun({ data: udpPacket() }).retval, EXPECTED.weigh);
    // fill_and_sum stored k -> 3k for k = 1..5
    const weights = objs.maps.get("weights")?.typed<number, bigint>();
    assert.deepEqual(
      [...(weights?.entries() ?? [])].sort((a, b) => a[0] - b[0]),
      [1, 2, 3, 4, 5].map((k) => [k, BigInt(3 * k)]),
    );
    weights?.set(9, 7n);
    assert.equal(weights?.get(9), 7n);
  });

  it("runs a program of an object on a packet from a file", () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-test-run-"));
    try {
      writeFileSync(join(dir, "in.bin"), udpPacket());
      const r = tsbpf([
        "test-run",
        join(REPO, "testdata", "machine.o"),
        "rewrite",
        "--data-in",
        join(dir, "in.bin"),
        "--data-out",
        join(dir, "out.bin"),
        "--json",
      ]);
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { retval: number; duration: number; data_out_size: number };
      assert.equal(out.retval, 0);
      assert.equal(out.data_out_size, udpPacket().length);
      assert.deepEqual([...readFileSync(join(dir, "out.bin")).subarray(30, 34)], [10, 0, 0, 99]);
      const plain = tsbpf(["test-run", join(REPO, "testdata", "machine.o"), "weigh", "--data-in", join(dir, "in.bin"), "--repeat", "3"]);
      assert.match(plain.stdout, /^Return value: 15045, duration \(average\): \d+ns\n$/);
      const missing = tsbpf(["test-run", join(REPO, "testdata", "machine.o"), "nope"]);
      assert.equal(missing.status, 2);
      assert.match(missing.stderr, /has no program 'nope' \(it has: ([a-z_]+, )*weigh(, [a-z_]+)*\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("tracepoint contexts from format files", () => {
  const format = readFileSync(join(REPO, "testdata", "sched_switch.format"), "utf8");

  it("lay out the record a tracepoint program reads", () => {
    const f = parseTracepointFormat(format);
    assert.equal(f.name, "sched_switch");
    assert.deepEqual(
      f.fields.filter((x) => x.name.startsWith("next")).map((x) => [x.name, x.offset, x.size]),
      [
        ["next_comm", 40, 16],
        ["next_pid", 56, 4],
        ["next_prio", 60, 4],
      ],
    );
    const ctx = tracepointContext(f, { next_pid: 42, prev_comm: "A" });
    const vm = loadVmCollection(spec());
    assert.equal(vm.programs.get("switched")?.testRun({ ctx }).retval, 42 + 65);
    assert.throws(() => tracepointContext(f, { next_pdi: 1 }), /has no field 'next_pdi'/);
    assert.throws(() => tracepointContext(f, { next_pid: 2 ** 31 }), /does not fit field 'next_pid' \(pid_t, 4 bytes\)/);
  });

  it("match the running kernel's format and its trace_event_raw_sched_switch", {
    skip: existsSync("/sys/kernel/tracing/events/sched/sched_switch/format") ? undefined : "no tracefs here",
  }, () => {
    assert.equal(
      readFileSync("/sys/kernel/tracing/events/sched/sched_switch/format", "utf8").replace(/^ID: \d+\n/m, ""),
      format.replace(/^ID: \d+\n/m, ""),
    );
    const btf = parseBtf(readFileSync("/sys/kernel/btf/vmlinux"));
    const raw = btf.types.find((t) => t.kind === "STRUCT" && t.name === "trace_event_raw_sched_switch");
    assert.ok(raw && raw.kind === "STRUCT");
    const offsets = new Map(raw.members.map((x) => [x.name, x.bitOffset / 8]));
    for (const field of parseTracepointFormat(format).fields.filter((x) => !x.name.startsWith("common_"))) {
      assert.equal(offsets.get(field.name), field.offset, field.name);
    }
  });
});
