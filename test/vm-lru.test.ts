// LRU hash tables evict exactly what the kernel evicts. The same random sequence — user-space updates with
// every flag, lookups and deletes, lookups from a program (the only ones that set the kernel's reference
// bit), and moves between CPUs (each CPU has its own free and pending lists) — goes to an LRU table in the
// machine and in the kernel, with this thread pinned to the CPU the machine is told it runs on. Every
// result and the set of keys after every step must match, for the common LRU, the per-CPU-list LRU
// (BPF_F_NO_COMMON_LRU) and the per-CPU-value LRU hash.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Memory } from "../src/exec/memory.js";
import { assemble } from "../src/isa/index.js";
import { KernelMap, possibleCpus } from "../src/kernel/map.js";
import { KernelProgram } from "../src/kernel/program.js";
import { linuxSys } from "../src/kernel/sys.js";
import { createMap } from "../src/maps/create.js";
import type { VmMap } from "../src/maps/map.js";
import type { MapSpec } from "../src/object/maps.js";
import { bpfMissing } from "./support/kernel.js";
import { outcome, type UserOp, userOp } from "./support/map-ops.js";

type Op = UserOp | { op: "lookup"; key: number } | { op: "cpu"; cpu: number };

function spec(type: number, typeName: string, maxEntries: number, flags: number): MapSpec {
  return {
    name: `tsbpf_${typeName}`.slice(0, 15),
    type,
    typeName,
    keySize: 4,
    valueSize: 8,
    maxEntries,
    flags,
    pinning: 0,
    section: ".maps",
  };
}

const CASES = [
  { what: "LRU hash, common lists", spec: spec(9, "lru_hash", 6, 0) },
  { what: "LRU hash, common lists, 40 elements", spec: spec(9, "lru_hash", 40, 0), keys: 70 },
  { what: "LRU hash, one list per CPU", spec: spec(9, "lru_hash", 7, 2) },
  { what: "LRU per-CPU hash", spec: spec(10, "lru_percpu_hash", 6, 0), perCpu: true },
  { what: "LRU per-CPU hash, one list per CPU", spec: spec(10, "lru_percpu_hash", 6, 2), perCpu: true },
];

const ops = (keys: number, cpus: number): fc.Arbitrary<Op[]> =>
  fc.array<Op>(
    fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({
          op: fc.constant("set" as const),
          key: fc.nat(keys - 1),
          value: fc.nat(1000),
          flags: fc.constantFrom(0, 0, 1, 2),
        }) as fc.Arbitrary<Op>,
      },
      { weight: 3, arbitrary: fc.record({ op: fc.constant("lookup" as const), key: fc.nat(keys - 1) }) as fc.Arbitrary<Op> },
      {
        weight: 2,
        arbitrary: fc.record({ op: fc.constantFrom("get" as const, "delete" as const), key: fc.nat(keys - 1) }) as fc.Arbitrary<Op>,
      },
      { weight: 1, arbitrary: fc.record({ op: fc.constant("cpu" as const), cpu: fc.nat(cpus - 1) }) as fc.Arbitrary<Op> },
    ),
    { maxLength: 120 },
  );

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: number): Uint8Array => new Uint8Array(new BigUint64Array([BigInt(n)]).buffer);

/** Both sides of one comparison: how to apply each operation, and the keys present. */
interface Side {
  apply(op: Op): string;
  keys(): number[];
}

const encode = { key: u32, value: u64 };

const keysOf = (map: VmMap | KernelMap): number[] =>
  [...map.keys()].map((b) => new DataView(b.buffer, b.byteOffset).getUint32(0, true)).sort((a, b) => a - b);

function machineSide(s: MapSpec, cpus: number, perCpu: boolean): Side {
  let cpu = 0;
  let id = 1;
  const memory = new Memory();
  const map = createMap(s, { memory, cpus, currentCpu: () => cpu, nextId: () => id++ }, { program: () => undefined, map: () => undefined });
  const scratch = memory.map("key", 8, true).start;
  return {
    apply: (op) =>
      outcome(() => {
        if (op.op === "cpu") {
          cpu = op.cpu;
          return "ok";
        }
        if (op.op !== "lookup") return userOp(map, op, encode, perCpu ? { cpus } : undefined);
        memory.bytes.set(u32(op.key), scratch);
        return map.lookupFromProgram(scratch) !== 0 ? "found" : "missing";
      }),
    keys: () => keysOf(map),
  };
}

/** The kernel's table, and an XDP program that looks up the u32 at the packet's start (1 = found). */
function kernelSide(map: KernelMap, program: KernelProgram, perCpu: boolean, cpus: number, pin: (cpu: number) => void): Side {
  return {
    apply: (op) =>
      outcome(() => {
        if (op.op === "cpu") {
          pin(op.cpu);
          return "ok";
        }
        if (op.op !== "lookup") return userOp(map, op, encode, perCpu ? { cpus } : undefined);
        const data = new Uint8Array(64);
        data.set(u32(op.key));
        return program.testRun({ data }).retval === 1 ? "found" : "missing";
      }),
    keys: () => keysOf(map),
  };
}

const LOOKUP = (fd: number): string => `
  ldxw %r2, [%r1+0]
  ldxw %r3, [%r1+4]
  mov %r4, %r2
  add %r4, 4
  jgt %r4, %r3, +12
  ldxw %r5, [%r2+0]
  stxw [%r10-4], %r5
  lddw %r1, map_fd(${fd})
  mov %r2, %r10
  add %r2, -4
  call 1
  mov %r1, %r0
  mov %r0, 2
  jeq %r1, 0, +1
  mov %r0, 1
  exit
  mov %r0, 2
  exit`;

describe("LRU tables evict what the kernel's LRU lists evict", { skip: bpfMissing() }, () => {
  const cpus = possibleCpus();
  for (const c of CASES) {
    it(`${c.what}: random sequences of updates, program lookups and CPU moves`, () => {
      const sys = linuxSys();
      fc.assert(
        fc.property(ops(c.keys ?? 10, cpus), (sequence) => {
          using map = KernelMap.create(c.spec);
          using program = KernelProgram.load(assemble(LOOKUP(map.fd)), { type: "xdp", name: "tsbpf_lru" });
          let restore = sys.pinThread(0);
          const pin = (cpu: number): void => {
            restore();
            restore = sys.pinThread(cpu);
          };
          try {
            const ours = machineSide(c.spec, cpus, c.perCpu ?? false);
            const theirs = kernelSide(map, program, c.perCpu ?? false, cpus, pin);
            for (const [i, op] of sequence.entries()) {
              const a = ours.apply(op);
              const b = theirs.apply(op);
              assert.equal(a, b, `operation ${i} ${JSON.stringify(op)}: machine ${a}, kernel ${b}`);
              assert.deepEqual(ours.keys(), theirs.keys(), `keys after operation ${i} ${JSON.stringify(op)}`);
            }
          } finally {
            restore();
          }
        }),
        { numRuns: 120, seed: 20261122 },
      );
    });
  }
});
