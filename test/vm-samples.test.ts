// The sample programs in the userspace machine: every program the kernel accepts runs under testRun — packet
// programs (socket_filter, xdp, sched_cls…) on TCP, UDP, ARP and IPv6 packets, the others (kprobe, tracepoint,
// perf_event, sock_ops…) on a zeroed context; where bpf() is permitted, each socket_filter, xdp and sched_cls
// program gives the kernel's own BPF_PROG_TEST_RUN result (retval and packet out) — except those that call
// bpf_get_prandom_u32, whose results are random in both.
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { makePinDir } from "../src/kernel/bpffs.js";
import { loadKernelCollection } from "../src/kernel/collection.js";
import { VerifierError } from "../src/kernel/verifier-error.js";
import { type CollectionSpec, loadCollectionSpec } from "../src/object/collection.js";
import type { ProgramType } from "../src/object/section-types.js";
import { loadVmCollection } from "../src/vm/collection.js";
import { bpfMissing } from "./support/kernel.js";
import { isVariantRefusal } from "./support/kernel-variants.js";
import { arpPacket, ipv6UdpPacket, tcpPacket, udpPacket } from "./support/packets.js";
import { SHARED, sharedMissing } from "./support/paths.js";

const SAMPLES = join(SHARED, "ebpf-samples");
const TYPES = new Set(["socket_filter", "xdp", "sched_cls"]);
const PACKETS = { tcp: tcpPacket(), udp: udpPacket(), arp: arpPacket(), ipv6: ipv6UdpPacket() };

interface Sample {
  id: string;
  /** The object with only this program, typed as the kernel loaded it. */
  spec: CollectionSpec;
  full: CollectionSpec;
  name: string;
  type: ProgramType;
  random: boolean;
}

function samples(types: ReadonlySet<string> = TYPES): Sample[] {
  return readFileSync(join(SAMPLES, "kernel-verdicts.csv"), "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => l.split(","))
    .filter((c) => !(c[0] as string).startsWith("invalid/") && c[11] === "ACCEPT" && types.has(c[4] as string))
    .map(([object, , section, func, type]) => {
      const spec = loadCollectionSpec(readFileSync(join(SAMPLES, object as string)));
      const p = spec.programs.get(func as string) ?? [...spec.programs.values()].find((q) => q.section === section);
      assert.ok(p, `${object}: ${func}`);
      const one = { ...spec, programs: new Map([[p.name, { ...p, type: type as ProgramType }]]) };
      const random = p.instructions.some((i) => i.op === 0x85 && i.src === 0 && i.imm === 7);
      return { id: `${object}:${func}`, spec: one, full: spec, name: p.name, type: type as ProgramType, random };
    });
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

describe("sample programs in the userspace machine", { skip: sharedMissing() }, () => {
  it("every program the kernel accepts runs, on the JIT and the interpreter alike: packet programs on four packets, the others on a zeroed context", () => {
    const counts = new Map<string, number>();
    const failed: string[] = [];
    const all = new Set(
      readFileSync(join(SAMPLES, "kernel-verdicts.csv"), "utf8")
        .split("\n")
        .slice(1)
        .map((l) => l.split(",")[4] as string),
    );
    all.delete("");
    for (const s of samples(all)) {
      try {
        const program = loadVmCollection(s.spec).programs.get(s.name);
        const reference = loadVmCollection(s.spec, { engine: "interp" }).programs.get(s.name);
        assert.ok(program && reference);
        for (const data of Object.values(PACKETS)) {
          const a = program.testRun({ data });
          const b = reference.testRun({ data });
          // both engines: the same answer (bpf_get_prandom_u32 aside)
          if (!s.random && (a.retval !== b.retval || hex(a.dataOut) !== hex(b.dataOut)))
            throw new Error(`JIT ${a.retval} ${hex(a.dataOut)}, interpreter ${b.retval} ${hex(b.dataOut)}`);
        }
        counts.set(s.type, (counts.get(s.type) ?? 0) + 1);
      } catch (e) {
        failed.push(`${s.id}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    console.log(`# run in the machine: ${[...counts].map(([t, n]) => `${t} ${n}`).join(", ")}`);
    assert.deepEqual(failed, []);
    assert.equal(
      [...counts.values()].reduce((a, b) => a + b, 0),
      270,
    );
  });

  it("gives the kernel's BPF_PROG_TEST_RUN results", { skip: bpfMissing() }, () => {
    const pins = "/sys/fs/bpf/tsbpf_test_vm_samples";
    makePinDir(pins);
    const differ: string[] = [];
    let compared = 0;
    try {
      for (const s of samples().filter((x) => !x.random)) {
        const vm = loadVmCollection(s.spec).programs.get(s.name);
        let loaded: ReturnType<typeof loadKernelCollection>;
        try {
          loaded = loadKernelCollection(s.full, { programs: [s.name], types: new Map([[s.name, s.type]]), pinPath: pins });
        } catch (e) {
          if (!(e instanceof VerifierError) || !isVariantRefusal(s.type, e.message)) throw e;
          console.log(`# ${s.id}: this kernel refuses a helper it uses (a build variant): not compared`);
          continue;
        }
        using kernel = loaded;
        const k = kernel.programs.get(s.name);
        assert.ok(vm && k);
        for (const [what, data] of Object.entries(PACKETS)) {
          const a = vm.testRun({ data });
          const b = k.testRun({ data, dataOutSize: 4096 });
          if (a.retval !== b.retval || hex(a.dataOut) !== hex(b.dataOut))
            differ.push(`${s.id} ${what}: machine ${a.retval} ${hex(a.dataOut)}, kernel ${b.retval} ${hex(b.dataOut)}`);
        }
        compared++;
      }
    } finally {
      rmSync(pins, { recursive: true, force: true });
    }
    console.log(
      `# identical to the kernel: ${compared - new Set(differ.map((d) => d.split(" ")[0])).size}/${compared} programs x 4 packets`,
    );
    assert.deepEqual(differ, []);
  });
});
