// The kernel commands take bpftool's command lines as they are — objects named `id ID`, `pinned PATH`, `name NAME`
// or `tag TAG`, bytes as `key [hex] BYTE...`, update flags — and do what bpftool's do: map create, getnext,
// push/peek/pop and pin; prog loadall ... autoattach, prog run and prog dump xlated; link show, pin and detach;
// iter pin; and the btf, net, cgroup, perf and feature listings. bpftool, run on the same kernel objects, is the judge.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { assemble } from "../src/isa/index.js";
import { makePinDir } from "../src/kernel/bpffs.js";
import { attachCgroup, createTestCgroup } from "../src/kernel/cgroup.js";
import { loadKernelCollection } from "../src/kernel/collection.js";
import { programById } from "../src/kernel/inventory.js";
import { attachRawTracepoint, attachTcx, attachTracepoint, attachUprobe } from "../src/kernel/link.js";
import { KernelMap } from "../src/kernel/map.js";
import { createVethPair } from "../src/kernel/netns.js";
import { KernelProgram } from "../src/kernel/program.js";
import { attachTcFilter, attachXdpNetlink } from "../src/kernel/rtnetlink.js";
import { symbolFileOffset } from "../src/kernel/symbols.js";
import { loadCollectionSpec } from "../src/object/collection.js";
import type { ProgramType } from "../src/object/section-types.js";
import { tsbpf } from "./support/cli.js";
import { bpfMissing, testMap } from "./support/kernel.js";
import { BIN, REPO } from "./support/paths.js";
import { ensureTool } from "./support/tools.js";

/** A command line's words (the paths here have no spaces). */
const words = (line: string): string[] => line.split(/\s+/).filter((w) => w !== "");
/** `bpftool LINE -j`, parsed. */
const bpftool = (line: string): unknown => JSON.parse(execFileSync("bpftool", [...words(line), "-j"], { encoding: "utf8" }));
const bpftoolText = (line: string): string => execFileSync("bpftool", words(line), { encoding: "utf8" });
/** bpftool's JSON bytes (["0x2a", ...]) as tsbpf prints them ("2a ..."). */
const bytesOf = (hex: string[]): string => hex.map((b) => b.slice(2)).join(" ");
/** A little-endian u32 from bpftool's JSON bytes. */
const u32Of = (hex: string[]): number => new DataView(Uint8Array.from(hex, (b) => Number.parseInt(b, 16)).buffer).getUint32(0, true);
const run = (line: string) => tsbpf(words(line));
/** `tsbpf LINE`, which must succeed: its stdout. */
const ok = (line: string): string => {
  const r = run(line);
  assert.equal(r.status, 0, `tsbpf ${line}: ${r.stderr}`);
  return r.stdout;
};

const skip =
  bpfMissing() ??
  (ensureTool("bpftool", "bpftool", ["version"]) ? undefined : "bpftool not installed") ??
  (ensureTool("ping", "iputils-ping", ["-V"]) ? undefined : "ping not installed (iputils-ping)");

describe("kernel commands with bpftool's command lines", { skip }, () => {
  const dir = `/sys/fs/bpf/tsbpf_test_cli_${process.pid}`;

  it("name maps by id, pinned path and name, and read and write bytes as bpftool writes them", () => {
    makePinDir(dir);
    try {
      using map = testMap({ name: "tsbpf_cli_hash", type: 1, typeName: "hash", keySize: 4, valueSize: 8, maxEntries: 8 });
      const id = map.kernelId();
      const path = join(dir, "hash");
      map.pin(path);
      for (const handle of [`${id}`, `id ${id}`, `pinned ${path}`, "name tsbpf_cli_hash"])
        assert.equal((JSON.parse(ok(`map show ${handle} --json`)) as { id: number }).id, id, handle);
      assert.equal((bpftool(`map show pinned ${path}`) as { id: number }).id, id);

      ok(`map update pinned ${path} key 1 0 0 0 value hex 2a 0 0 0 0 0 0 0 noexist`);
      assert.equal(bytesOf((bpftool(`map lookup id ${id} key 1 0 0 0`) as { value: string[] }).value), "2a 00 00 00 00 00 00 00");
      const again = run(`map update id ${id} key 1 0 0 0 value 0 0 0 0 0 0 0 0 noexist`);
      assert.notEqual(again.status, 0);
      assert.match(again.stderr, /EEXIST/);
      assert.match(run("map update name tsbpf_cli_hash key 2 0 0 0 value 0 0 0 0 0 0 0 0 exist").stderr, /ENOENT/);
      // strtoul's bases: 0x hex, 0 octal, else decimal
      ok("map update name tsbpf_cli_hash key 0x02 0 0 0 value 010 0x10 16 0 0 0 0 0");
      assert.equal(
        bytesOf((bpftool(`map lookup pinned ${path} key hex 02 00 00 00`) as { value: string[] }).value),
        "08 10 10 00 00 00 00 00",
      );
      assert.equal(ok(`map lookup pinned ${path} key hex 02 00 00 00`), "value: 08 10 10 00 00 00 00 00\n");
      {
        using byPin = KernelMap.fromPin(path); // from TypeScript: the pinned map, shaped as the kernel says
        assert.deepEqual([byPin.kernelId(), byPin.spec.keySize, byPin.spec.valueSize], [id, 4, 8]);
        assert.deepEqual(byPin.get(new Uint8Array([2, 0, 0, 0])), new Uint8Array([8, 16, 16, 0, 0, 0, 0, 0]));
      }

      // getnext walks the keys in the kernel's order, as bpftool's does
      const theirNext = (from: string): string => bytesOf((bpftool(`map getnext id ${id} ${from}`) as { next_key: string[] }).next_key);
      const ourNext = (from: string): string => (JSON.parse(ok(`map getnext id ${id} ${from} --json`)) as { nextKey: string }).nextKey;
      const first = ourNext("");
      assert.equal(first, theirNext(""));
      const second = ourNext(`key hex ${first}`);
      assert.equal(second, theirNext(`key hex ${first}`));
      assert.notEqual(second, first);
      assert.match(run(`map getnext id ${id} key hex ${second}`).stderr, /no key after this one/);

      const short = run(`map lookup pinned ${path} key 1 0 0 value`);
      assert.equal(short.status, 2);
      assert.match(short.stderr, /key has 3 bytes; map \d+'s keys have 4/);
      assert.match(run(`map lookup pinned ${path} key 1 0 0 256`).stderr, /byte 3 of the key, '256', is not a byte/);
      assert.match(
        run(`map update pinned ${path} key 1 0 0 0 value hex 1 0 0 0 0 0 0 0 sometimes`).stderr,
        /'sometimes' is not an update flag/,
      );

      ok(`map pin name tsbpf_cli_hash ${join(dir, "hash2")}`);
      assert.equal((bpftool(`map show pinned ${join(dir, "hash2")}`) as { id: number }).id, id);
      assert.match(run("map show name tsbpf_no_such").stderr, /no map with name tsbpf_no_such/);
      assert.match(run(`map show pinned ${join(dir, "none")}`).stderr, /ENOENT \(nothing is pinned at /);
      assert.match(run("map show pinned /tmp").stderr, /\/tmp is not in a bpf filesystem; bpffs is mounted at /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("create maps, and fill map-in-maps and prog arrays with maps and programs named as bpftool names them", () => {
    makePinDir(dir);
    try {
      const at = (name: string): string => join(dir, name);
      ok(`map create ${at("hash")} type hash key 4 value 8 entries 16 name tsbpf_cli_new flags 0x1`);
      const hash = bpftool(`map show pinned ${at("hash")}`) as Record<string, unknown>;
      assert.deepEqual(
        [hash.type, hash.name, hash.bytes_key, hash.bytes_value, hash.max_entries, hash.flags],
        ["hash", "tsbpf_cli_new", 4, 8, 16, 1],
      );
      ok(`map create ${at("inner")} type array key 4 value 4 entries 2 name tsbpf_cli_in`);
      ok(`map create ${at("outer")} type array_of_maps key 4 value 4 entries 4 name tsbpf_cli_out inner_map pinned ${at("inner")}`);
      ok(`map update pinned ${at("outer")} key 1 0 0 0 value pinned ${at("inner")}`);
      const innerId = (bpftool(`map show pinned ${at("inner")}`) as { id: number }).id;
      const slot = bpftool(`map lookup pinned ${at("outer")} key 1 0 0 0`) as { value: string[] };
      assert.equal(u32Of(slot.value), innerId, "the slot holds the inner map");

      using program = KernelProgram.load(assemble("mov %r0, 0\nexit"), { type: "socket_filter", name: "tsbpf_cli_tail" });
      ok(`map create ${at("jumps")} type prog_array key 4 value 4 entries 2 name tsbpf_cli_jmp`);
      ok(`map update pinned ${at("jumps")} key 0 0 0 0 value id ${program.kernelId()}`);
      const jump = bpftool(`map lookup pinned ${at("jumps")} key 0 0 0 0`) as { value: string[] };
      assert.equal(u32Of(jump.value), program.kernelId());

      assert.match(run(`map create ${at("x")} type no_such key 4 value 4 entries 1 name x`).stderr, /unknown map type 'no_such'/);
      assert.match(run(`map create ${at("x")} type hash key 4 value 4 name x`).stderr, /map create needs entries/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("load, attach and pin as bpftool prog loadall ... autoattach does, and unload when the pins go", async () => {
    makePinDir(dir);
    const programNamed = (name: string) =>
      JSON.parse(ok("prog list --json")).find((x: { name: string }) => x.name === name) as { id: number } | undefined;
    const until = async (what: string, done: () => boolean): Promise<void> => {
      for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(done(), what);
    };
    try {
      const out = ok(`prog loadall ${join(REPO, "testdata", "sched_count.o")} ${join(dir, "sched")} autoattach`);
      const link = join(dir, "sched", "count_switches");
      assert.equal(out, `count_switches: tracepoint attached; its link pinned at ${link}\n`);
      const theirs = bpftool(`link show pinned ${link}`) as { type: string; prog_id: number };
      assert.deepEqual([theirs.type, theirs.prog_id], ["perf_event", programNamed("count_switches")?.id]);
      // the program runs after the command has ended: the scheduler switches tasks all the time
      await until("sched_switch events are counted", () => JSON.parse(ok("map dump name switches --json")).length > 0);
      // a program that cannot attach by itself (XDP wants an interface) is pinned as a program
      const xdp = JSON.parse(ok(`prog load ${join(REPO, "testdata", "xdp_deny.o")} ${join(dir, "xdp")} autoattach --json`)) as Array<{
        attached: boolean;
      }>;
      assert.equal(xdp[0]?.attached, false);
      assert.equal((bpftool(`prog show pinned ${join(dir, "xdp")}`) as { name: string }).name, "xdp_deny");
      assert.match(run(`prog loadall ${join(REPO, "testdata", "sched_count.o")}`).stderr, /usage: tsbpf prog load/);
      assert.match(run(`prog loadall ${join(REPO, "no_such.o")} ${join(dir, "never")}`).stderr, /ENOENT/);
      assert.ok(!existsSync(join(dir, "never")), "a bad object leaves no pin directory behind");
      assert.match(
        run(`prog load ${join(REPO, "testdata", "xdp_deny.o")} ${join(dir, "x.y")}`).stderr,
        /bpffs allows no '\.' in a name \(x\.y\)/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await until("unpinned, the link and its program go", () => programNamed("count_switches") === undefined);
  });

  it("pin an iterator as bpftool iter pin does: each read of the pin runs it", () => {
    makePinDir(dir);
    try {
      const path = join(dir, "tasks");
      ok(`iter pin ${join(REPO, "testdata", "iter_task.o")} ${path}`);
      assert.equal((bpftool(`link show pinned ${path}`) as { type: string }).type, "iter");
      // iter_task.c writes { u32 pid; char comm[16]; } for every task: this process is one of them
      const records = readFileSync(path);
      const pids = Array.from({ length: Math.floor(records.length / 20) }, (_, i) => records.readUInt32LE(i * 20));
      assert.ok(pids.includes(process.pid), `pid ${process.pid} among ${pids.length} tasks`);
      assert.match(run(`iter pin ${join(REPO, "testdata", "sched_count.o")} ${join(dir, "x")}`).stderr, /is not an iterator/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("push, peek and pop a queue as bpftool does", () => {
    using queue = testMap({ name: "tsbpf_cli_queue", type: 22, typeName: "queue", keySize: 0, valueSize: 4, maxEntries: 4 });
    const id = queue.kernelId();
    ok(`map push id ${id} value 1 2 3 4`);
    ok(`map enqueue id ${id} value hex a b c d`);
    assert.equal(bytesOf((bpftool(`map peek id ${id}`) as { value: string[] }).value), "01 02 03 04");
    assert.equal(ok(`map peek id ${id}`), "value: 01 02 03 04\n");
    assert.equal((JSON.parse(ok(`map pop id ${id} --json`)) as { value: string }).value, "01 02 03 04");
    assert.equal(ok(`map dequeue id ${id}`), "value: 0a 0b 0c 0d\n");
    const empty = run(`map pop id ${id}`);
    assert.notEqual(empty.status, 0);
    assert.match(empty.stderr, /queue is empty/);
  });

  it("name programs by pinned path, name and tag, and dump them as `prog dump xlated`", () => {
    makePinDir(dir);
    try {
      using program = KernelProgram.load(assemble("mov %r0, 7\nexit"), { type: "socket_filter", name: "tsbpf_cli_prog" });
      const path = join(dir, "prog");
      program.pin(path);
      const theirs = bpftool(`prog show pinned ${path}`) as { id: number; tag: string };
      assert.equal(theirs.tag, programById(theirs.id)?.tag);
      for (const handle of [`pinned ${path}`, "name tsbpf_cli_prog", `tag ${theirs.tag}`, `id ${theirs.id}`])
        assert.equal((JSON.parse(ok(`prog show ${handle} --json`)) as { id: number }).id, theirs.id, handle);
      const dumped = ok(`prog dump xlated pinned ${path}`);
      assert.equal(dumped, ok(`prog dump ${theirs.id}`));
      assert.match(dumped, /^ +0: r0 = 0x7\n +1: exit\n$/);
      assert.match(run(`map dump pinned ${path}`).stderr, /holds a program, not a map/);
      assert.throws(() => KernelMap.fromPin(path), /holds a program, not a map/);
      assert.match(run(`prog dump jited pinned ${path}`).stderr, /prog dump jited is not supported/);
      ok(`prog pin tag ${theirs.tag} ${join(dir, "prog2")}`);
      assert.equal((bpftool(`prog show pinned ${join(dir, "prog2")}`) as { id: number }).id, theirs.id);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("dump a program's instructions under the source lines they came from, as bpftool prog dump xlated does", () => {
    using objs = loadKernelCollection(loadCollectionSpec(readFileSync(join(REPO, "testdata", "sched_count.o"))));
    const id = (objs.programs.get("count_switches") as KernelProgram).kernelId();
    // each `; source` line, with the slot of the instruction it precedes
    const sourceLines = (text: string): string[] => {
      const lines = text.split("\n");
      return lines.flatMap((l, i) =>
        l.startsWith("; ") ? [`${/^\s*(\d+):/.exec(lines.slice(i).find((n) => /^\s*\d+:/.test(n)) ?? "")?.[1]} ${l}`] : [],
      );
    };
    const ours = ok(`prog dump xlated id ${id}`);
    assert.deepEqual(sourceLines(ours), sourceLines(bpftoolText(`prog dump xlated id ${id}`)));
    assert.ok(sourceLines(ours).includes("0 ; __u32 pid = bpf_get_current_pid_tgid() >> 32;"), ours);
    assert.match(ours, /^count_switches:\n/);
  });

  it("run programs as bpftool prog run does, printing output as its hex dump", () => {
    makePinDir(dir);
    try {
      using program = KernelProgram.load(assemble("mov %r0, 2\nexit"), { type: "xdp", name: "tsbpf_cli_run" });
      const path = join(dir, "xdp");
      program.pin(path);
      const file = join(tmpdir(), `tsbpf_cli_packet_${process.pid}`);
      writeFileSync(
        file,
        Uint8Array.from({ length: 40 }, (_, i) => (i * 37 + 11) & 0xff), // bytes printable and not, and a short last row
      );
      try {
        const withoutTimes = (text: string): string => text.replace(/duration.*$/m, "");
        const line = `prog run pinned ${path} data_in ${file} data_out - repeat 3`;
        assert.equal(withoutTimes(ok(line)), withoutTimes(bpftoolText(line)));
        assert.match(ok(line), /^Return value: 2, duration \(average\): \d+ns$/m);
        const ours = JSON.parse(ok(`prog run pinned ${path} data_in ${file} data_out - --json`)) as { retval: number; data_out: number[] };
        const theirs = bpftool(`prog run pinned ${path} data_in ${file} data_out -`) as { retval: number; data_out: number[] };
        assert.deepEqual([ours.retval, ours.data_out], [theirs.retval, theirs.data_out]);
        assert.match(
          run(`prog run pinned ${path} data_in ${file} data_out - data_size_out 4`).stderr,
          /ENOSPC \(the output is larger than data_size_out 4/,
        );
      } finally {
        rmSync(file, { force: true });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("dump and list the kernel's BTF objects as bpftool does", () => {
    using objs = loadKernelCollection(loadCollectionSpec(readFileSync(join(REPO, "testdata", "typed_map.o"))));
    const mapId = (objs.maps.get("records") as KernelMap).kernelId();
    const progId = (objs.programs.get("fill") as KernelProgram).kernelId();
    for (const what of [
      `map id ${mapId}`,
      `map id ${mapId} key`,
      `map id ${mapId} all`,
      `map id ${mapId} value format c`,
      `prog id ${progId}`,
    ])
      assert.equal(ok(`btf dump ${what}`), bpftoolText(`btf dump ${what}`), what);
    type Listed = { id: number; size: number; kernel: boolean; name: string };
    const ours = JSON.parse(ok("btf list --json")) as Array<Listed & { progIds: number[]; mapIds: number[] }>;
    const theirs = bpftool("btf list") as Array<Listed & { prog_ids: number[]; map_ids: number[] }>;
    const btfId = (bpftool(`map show id ${mapId}`) as { btf_id: number }).btf_id;
    const mine = ours.find((b) => b.id === btfId);
    const theirsMine = theirs.find((b) => b.id === btfId);
    const sorted = (ids: number[] | undefined): number[] => [...(ids ?? [])].sort((a, b) => a - b);
    assert.deepEqual(
      [mine?.size, mine?.kernel, sorted(mine?.mapIds), sorted(mine?.progIds)],
      [theirsMine?.size, theirsMine?.kernel, sorted(theirsMine?.map_ids), sorted(theirsMine?.prog_ids)],
    );
    const vmlinux = (list: Listed[]): unknown => list.filter((b) => b.name === "vmlinux").map((b) => [b.id, b.size, b.kernel]);
    assert.deepEqual(vmlinux(ours), vmlinux(theirs));
  });

  it("list an interface's XDP and tc programs as bpftool net show does", () => {
    using net = createVethPair("10.213.15.1", "10.213.15.2");
    using objs = loadKernelCollection(loadCollectionSpec(readFileSync(join(REPO, "testdata", "tc_count.o"))));
    const tc = objs.programs.get("count_ingress") as KernelProgram;
    using xdp = KernelProgram.load(assemble("mov %r0, 2\nexit"), { type: "xdp", name: "tsbpf_cli_xdp" });
    using _xdp = attachXdpNetlink(xdp, net.hostIfindex, "generic");
    using _filter = attachTcFilter(tc, net.hostIfindex, "ingress");
    const line = `net show dev ${net.host}`;
    assert.equal(ok(line), bpftoolText(line));
    assert.deepEqual(JSON.parse(ok(`${line} --json`)), bpftool(line));
    assert.match(ok(line), new RegExp(`^${net.host}\\(${net.hostIfindex}\\) generic id ${xdp.kernelId()}$`, "m"));
    // tcx, which bpftool 7.1 does not list yet: the program and the link holding it
    using link = attachTcx(tc, net.hostIfindex, "egress");
    const shown = (JSON.parse(ok(`${line} --json`)) as Array<{ tc: Array<Record<string, unknown>> }>)[0]?.tc.find(
      (t) => t.kind === "tcx/egress",
    );
    assert.deepEqual(shown, {
      devname: net.host,
      ifindex: net.hostIfindex,
      kind: "tcx/egress",
      name: "count_ingress",
      prog_id: tc.kernelId(),
      link_id: link.kernelId(),
    });
    assert.match(run("net show dev tsbpf_none0").stderr, /ENODEV \(no interface tsbpf_none0\)/);
  });

  it("list a namespace's flow dissector as bpftool net show does", () => {
    using objs = loadKernelCollection(loadCollectionSpec(readFileSync(join(REPO, "testdata", "flow_dissector.o"))));
    const id = ([...objs.programs.values()][0] as KernelProgram).kernelId();
    const namespace = `tsbpf_cli_fd_${process.pid}`;
    const inside = (...command: string[]): string => execFileSync("ip", ["netns", "exec", namespace, ...command], { encoding: "utf8" });
    execFileSync("ip", ["netns", "add", namespace]);
    try {
      inside("bpftool", "prog", "attach", "id", String(id), "flow_dissector"); // held by the namespace until it goes
      const ours = inside(process.execPath, BIN, "net", "show");
      assert.equal(ours, inside("bpftool", "net", "show"));
      assert.match(ours, new RegExp(`^flow_dissector:\\nid ${id}\\n`, "m"));
    } finally {
      execFileSync("ip", ["netns", "del", namespace]);
    }
  });

  it("list a cgroup's programs hook by hook as bpftool cgroup show does", () => {
    using cgroup = createTestCgroup();
    const load = (type: ProgramType, expectedAttachType: number, name: string) =>
      KernelProgram.load(assemble("mov %r0, 1\nexit"), { type, expectedAttachType, name });
    using egress = load("cgroup_skb", 1, "tsbpf_cli_egr");
    using sock = load("cgroup_sock", 2, "tsbpf_cli_sock");
    assert.equal(ok(`cgroup show ${cgroup.path}`), "", "nothing attached: nothing printed, as bpftool does");
    using _egress = attachCgroup(egress, cgroup.path, "cgroup_inet_egress");
    using _sock = attachCgroup(sock, cgroup.path, "cgroup_inet_sock_create");
    for (const line of [`cgroup show ${cgroup.path}`, `cgroup show ${cgroup.path} effective`]) {
      assert.equal(ok(line), bpftoolText(line), line);
      assert.deepEqual(JSON.parse(ok(`${line} --json`)), bpftool(line), line);
    }
    assert.match(ok(`cgroup show ${cgroup.path}`), new RegExp(`^${egress.kernelId()} +cgroup_inet_egress +multi +tsbpf_cli_egr `, "m"));
    assert.match(run("cgroup show /proc").stderr, /\/proc is not a cgroup v2 directory/);
  });

  it("list the programs processes attach through perf events and raw tracepoints as bpftool perf list does", () => {
    using objs = loadKernelCollection(loadCollectionSpec(readFileSync(join(REPO, "testdata", "sched_count.o"))));
    const tracepoint = objs.programs.get("count_switches") as KernelProgram;
    using _tracepoint = attachTracepoint(tracepoint, "sched", "sched_switch");
    using raw = KernelProgram.load(assemble("mov %r0, 0\nexit"), { type: "raw_tracepoint", name: "tsbpf_cli_raw" });
    using _raw = attachRawTracepoint(raw, "sched_switch");
    using probe = KernelProgram.load(assemble("mov %r0, 0\nexit"), { type: "kprobe", name: "tsbpf_cli_probe" });
    // on libc's getpid (wherever this machine keeps libc), in this process only: the machine is shared
    const libc = readFileSync("/proc/self/maps", "utf8").match(/\S*\/libc\.so\.6$/m)?.[0] as string;
    const offset = symbolFileOffset(libc, "getpid");
    using _entry = attachUprobe(probe, libc, offset, { pid: process.pid });
    using _return = attachUprobe(probe, libc, offset, { retprobe: true, pid: process.pid });
    // the machine is shared: this process's lines only
    const mine = (text: string): string =>
      text
        .split("\n")
        .filter((l) => l.startsWith(`pid ${process.pid} `))
        .join("\n");
    const ours = mine(ok("perf list"));
    assert.equal(ours, mine(bpftoolText("perf list")));
    assert.match(ours, new RegExp(`prog_id ${tracepoint.kernelId()}  tracepoint  sched_switch$`, "m"));
    assert.match(ours, new RegExp(`prog_id ${probe.kernelId()}  uretprobe  filename ${libc}  offset ${offset}$`, "m"));
    type Entry = { pid: number };
    const json = (entries: Entry[]): Entry[] => entries.filter((e) => e.pid === process.pid);
    assert.deepEqual(json(JSON.parse(ok("perf list --json"))), json(bpftool("perf list") as Entry[]));
    assert.equal(json(JSON.parse(ok("perf list --json"))).length, 4);
  });

  it("report the program types, map types, helpers and features this kernel has, as bpftool feature probe does", () => {
    type Report = {
      program_types: Record<string, boolean>;
      map_types: Record<string, boolean>;
      helpers: Record<string, string[]>;
      misc: Record<string, boolean>;
    };
    const ours = JSON.parse(ok("feature probe kernel --json")) as Report;
    const theirs = bpftool("feature probe kernel") as Report;
    // the same verdict for every type and feature bpftool knows (tsbpf knows some newer ones too)
    for (const section of ["program_types", "map_types", "misc"] as const)
      for (const [name, available] of Object.entries(theirs[section])) assert.equal(ours[section][name], available, `${section} ${name}`);
    // bpftool 7.1 does not read this kernel's "program of this type cannot use helper": it lists too much. Every
    // helper listed here it lists too; where it lists none (types it cannot probe), neither does tsbpf.
    for (const [type, helpers] of Object.entries(theirs.helpers)) {
      const mine = ours.helpers[type] ?? [];
      assert.deepEqual(
        mine.filter((h) => !helpers.includes(h)),
        [],
        type,
      );
      if (helpers.length === 0) assert.deepEqual(mine, [], type);
    }
    assert.ok(ours.helpers.socket_filter_available_helpers?.includes("bpf_map_lookup_elem"));
    assert.ok(!ours.helpers.socket_filter_available_helpers?.includes("bpf_override_return"), "kprobe programs' own helper");
    assert.ok(!ours.helpers.socket_filter_available_helpers?.includes("bpf_trace_printk"), "left out without `full`, as bpftool does");
    // the text: bpftool's lines, with tsbpf's for the types bpftool does not know yet
    const text = ok("feature probe");
    const theirText = bpftoolText("feature probe kernel");
    const section = (t: string, from: string, to: string): string[] => t.slice(t.indexOf(from), t.indexOf(to)).split("\n");
    const known = (line: string): boolean =>
      !/eBPF (program|map)_type (\w+) /.test(line) || theirText.includes(line.replace(/ is (NOT )?available$/, " "));
    assert.deepEqual(
      section(text, "Scanning eBPF program types", "Scanning eBPF helper").filter(known),
      section(theirText, "Scanning eBPF program types", "Scanning eBPF helper"),
    );
    assert.equal(text.slice(text.indexOf("Scanning miscellaneous")), theirText.slice(theirText.indexOf("Scanning miscellaneous")));
  });

  it("show, pin and detach links", () => {
    makePinDir(dir);
    try {
      using net = createVethPair("10.213.14.1", "10.213.14.2");
      // TC_ACT_SHOT: while attached, the host's veth drops what comes in
      using program = KernelProgram.load(assemble("mov %r0, 2\nexit"), { type: "sched_cls", name: "tsbpf_cli_tcx" });
      using link = attachTcx(program, net.hostIfindex, "ingress");
      const linkId = link.kernelId();
      const listed = (JSON.parse(ok("link list --json")) as Array<{ id: number; progId: number }>).find((l) => l.id === linkId);
      assert.equal(listed?.progId, program.kernelId());
      const theirs = bpftool(`link show id ${linkId}`) as { type: string | number; prog_id: number };
      const ours = JSON.parse(ok(`link show id ${linkId} --json`)) as { type: number; typeName: string; progId: number };
      // a bpftool older than tcx links prints their type as a number
      assert.deepEqual([typeof theirs.type === "number" ? ours.type : ours.typeName, ours.progId], [theirs.type, theirs.prog_id]);
      assert.equal(ours.typeName, "tcx");
      const pingHost = (): boolean => net.exec(["ping", "-c", "1", "-W", "1", net.hostAddress]);
      assert.equal(pingHost(), false, "dropped while attached");
      const path = join(dir, "link");
      ok(`link pin ${linkId} ${path}`);
      assert.equal((bpftool(`link show pinned ${path}`) as { id: number }).id, linkId);
      ok(`link detach pinned ${path}`);
      // detached: the link lives on (pinned, and held by us), no longer on the interface
      assert.ok(pingHost(), "passes once detached");
      assert.equal((bpftool(`link show pinned ${path}`) as { id: number }).id, linkId);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
