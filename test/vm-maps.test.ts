// Userspace maps against the kernel's: the same random sequence of updates (with BPF_ANY, NOEXIST, EXIST),
// lookups, deletes and pushes/pops goes to a map of each type in the machine and in the kernel; every result
// (value or errno) and the final set of keys must match. Without bpf(), the kernel side is skipped and the
// machine's own semantics are checked by the targeted tests below.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Memory } from "../src/exec/memory.js";
import { KernelMap, possibleCpus } from "../src/kernel/map.js";
import { linuxSys } from "../src/kernel/sys.js";
import { createMap } from "../src/maps/create.js";
import type { VmMap } from "../src/maps/map.js";
import type { QueueMap } from "../src/maps/queue.js";
import type { MapSpec } from "../src/object/maps.js";
import { bpfMissing } from "./support/kernel.js";
import { hex, outcome, type UserOp, userOp } from "./support/map-ops.js";

function spec(type: number, typeName: string, keySize: number, valueSize: number, maxEntries: number, flags = 0): MapSpec {
  return { name: `tsbpf_${typeName}`.slice(0, 15), type, typeName, keySize, valueSize, maxEntries, flags, pinning: 0, section: ".maps" };
}

function vmMap(s: MapSpec, cpus = 2): VmMap {
  let id = 1;
  return createMap(
    s,
    { memory: new Memory(), cpus, currentCpu: () => 0, nextId: () => id++ },
    { program: () => undefined, map: () => undefined },
  );
}

type Op = UserOp | { op: "pop" };

/** One operation's outcome, in a form both backends produce: a value, "ok", or the errno's name. */
function apply(map: VmMap | KernelMap, s: MapSpec, op: Op, perCpu: boolean): string {
  const key = (k: number): Uint8Array => {
    const b = new Uint8Array(s.keySize);
    if (s.type === 11) {
      new DataView(b.buffer).setUint32(0, [8, 16, 24, 32][k % 4] as number, true); // LPM: prefixlen, then the address
      b.set([10, k % 3, k % 5, k], 4);
    } else if (s.keySize >= 4) {
      new DataView(b.buffer).setUint32(0, k, true);
      b[s.keySize - 1] ^= k * 37; // longer keys differ in their last byte too
    }
    return b;
  };
  const value = (v: number): Uint8Array => {
    const b = new Uint8Array(s.valueSize);
    new DataView(b.buffer).setUint32(0, v, true);
    return b;
  };
  if (op.op === "pop") return outcome(() => (map instanceof KernelMap ? hex(map.lookupAndDelete()) : hex((map as QueueMap).pop())));
  return userOp(map, op, { key, value }, perCpu ? { cpus: possibleCpus() } : undefined);
}

const ZERO_SEED = 64;

/**
 * `ordered`: keys come back in the kernel's order too (a hash table walks its buckets in an order its random
 * seed decides, so without BPF_F_ZERO_SEED only the set is compared).
 */
const CASES: Array<{ spec: MapSpec; perCpu?: boolean; keys: number; ordered?: boolean }> = [
  { spec: spec(1, "hash", 4, 8, 6), keys: 10 },
  { spec: spec(9, "lru_hash", 4, 8, 6), keys: 10 },
  { spec: spec(2, "array", 4, 8, 6), keys: 10, ordered: true },
  { spec: spec(5, "percpu_hash", 4, 8, 6), perCpu: true, keys: 10 },
  { spec: spec(6, "percpu_array", 4, 8, 6), perCpu: true, keys: 10, ordered: true },
  { spec: spec(11, "lpm_trie", 8, 8, 6, 1), keys: 12, ordered: true },
  // BPF_F_ZERO_SEED: the kernel's bucket order is reproducible, so walks must give keys in the same order
  { spec: spec(1, "hash", 4, 8, 6, ZERO_SEED), keys: 10, ordered: true },
  { spec: spec(1, "hash", 6, 8, 20, ZERO_SEED), keys: 30, ordered: true },
  { spec: spec(1, "hash", 13, 8, 20, ZERO_SEED), keys: 30, ordered: true },
  { spec: spec(1, "hash", 16, 8, 20, ZERO_SEED), keys: 30, ordered: true },
  { spec: spec(5, "percpu_hash", 4, 8, 6, ZERO_SEED), perCpu: true, keys: 10, ordered: true },
  { spec: spec(9, "lru_hash", 4, 8, 6, ZERO_SEED), keys: 10, ordered: true },
  { spec: spec(22, "queue", 0, 8, 4), keys: 1 },
  { spec: spec(23, "stack", 0, 8, 4), keys: 1 },
];

const ops = (keys: number, queue: boolean): fc.Arbitrary<Op[]> =>
  fc.array<Op>(
    queue
      ? fc.oneof<fc.Arbitrary<Op>[]>(
          fc.record({ op: fc.constant("set" as const), key: fc.constant(0), value: fc.nat(1000), flags: fc.constantFrom(0, 2) }),
          fc.constant({ op: "pop" as const }),
          fc.record({ op: fc.constant("get" as const), key: fc.constant(0) }),
        )
      : fc.oneof<fc.Arbitrary<Op>[]>(
          fc.record({ op: fc.constant("set" as const), key: fc.nat(keys - 1), value: fc.nat(1000), flags: fc.constantFrom(0, 1, 2) }),
          fc.record({ op: fc.constantFrom("get" as const, "delete" as const), key: fc.nat(keys - 1) }),
        ),
    { maxLength: 60 },
  );

describe("userspace maps behave as the kernel's", { skip: bpfMissing() }, () => {
  for (const c of CASES) {
    it(`${c.spec.typeName}: random operation sequences give the same results`, () => {
      const queue = c.spec.type === 22 || c.spec.type === 23;
      fc.assert(
        fc.property(ops(c.keys, queue), (sequence) => {
          const vm = vmMap(c.spec, possibleCpus());
          using kernel = KernelMap.create(c.spec);
          // the machine runs on CPU 0; so must this thread (an LRU table's free lists are per CPU)
          const unpin = linuxSys().pinThread(0);
          try {
            for (const [i, op] of sequence.entries()) {
              const a = apply(vm, c.spec, op, c.perCpu ?? false);
              const b = apply(kernel, c.spec, op, c.perCpu ?? false);
              assert.equal(a, b, `operation ${i} ${JSON.stringify(op)}: machine ${a}, kernel ${b}`);
            }
          } finally {
            unpin();
          }
          if (!queue) {
            const keys = (m: VmMap | KernelMap) => {
              const all = [...m.keys()].map(hex);
              return c.ordered ? all : all.sort();
            };
            assert.deepEqual(keys(vm), keys(kernel), c.ordered ? "the same keys in the same order" : "the same keys at the end");
          }
        }),
        { numRuns: 150, seed: 20261122 },
      );
    });
  }
});

describe("LRU eviction", () => {
  const lru = spec(9, "lru_hash", 4, 8, 6);
  const key = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
  const keys = (m: VmMap | KernelMap): number[] =>
    [...m.keys()].map((b) => new DataView(b.buffer, b.byteOffset).getUint32(0, true)).sort((a, b) => a - b);
  /** Ten keys into six slots, then key 4 updated again, then four more keys. */
  const drive = (m: VmMap | KernelMap): number[][] => {
    const seen: number[][] = [];
    for (let i = 0; i < 10; i++) m.set(key(i), new Uint8Array(8));
    seen.push(keys(m));
    m.set(key(4), new Uint8Array(8));
    for (let i = 10; i < 14; i++) m.set(key(i), new Uint8Array(8));
    seen.push(keys(m));
    return seen;
  };

  it("evicts the least recently updated element when full", () => {
    assert.deepEqual(drive(vmMap(lru)), [
      [4, 5, 6, 7, 8, 9],
      [4, 9, 10, 11, 12, 13], // 4 was updated again, so 5-8 went first
    ]);
  });

  it("as the kernel's LRU hash does", { skip: bpfMissing() }, () => {
    using kernel = KernelMap.create(lru);
    const unpin = linuxSys().pinThread(0);
    try {
      assert.deepEqual(drive(vmMap(lru)), drive(kernel));
    } finally {
      unpin();
    }
  });
});

describe("bloom filters", () => {
  const bloom = (valueSize: number, maxEntries: number, hashes: number): MapSpec => ({
    ...spec(30, "bloom_filter", 0, valueSize, maxEntries, ZERO_SEED),
    mapExtra: hashes,
  });
  const value = (n: number, size: number): Uint8Array => {
    const b = new Uint8Array(size);
    new DataView(b.buffer).setUint32(0, n * 2654435761, true);
    b[size - 1] ^= n;
    return b;
  };

  it("never forgets a pushed value, and a crowded filter answers 'maybe' for others too", () => {
    const m = vmMap(bloom(4, 2, 5)) as unknown as { push(v: Uint8Array): void; has(v: Uint8Array): boolean };
    for (let i = 0; i < 40; i++) m.push(value(i, 4));
    for (let i = 0; i < 40; i++) assert.ok(m.has(value(i, 4)), `value ${i} was pushed`);
    const falsePositives = Array.from({ length: 200 }, (_, i) => m.has(value(1000 + i, 4))).filter(Boolean).length;
    assert.ok(falsePositives > 0, "40 values in a 64-bit filter: some others must look present");
  });

  // with BPF_F_ZERO_SEED both use seed 0, so even the false positives must agree
  for (const [valueSize, maxEntries, hashes] of [
    [4, 3, 1],
    [4, 10, 0],
    [6, 3, 2],
    [16, 40, 3],
  ] as const) {
    it(`answers as the kernel's does (values of ${valueSize} bytes, ${maxEntries} entries, ${hashes || 5} hashes)`, {
      skip: bpfMissing(),
    }, () => {
      const s = bloom(valueSize, maxEntries, hashes);
      const ours = vmMap(s) as unknown as { push(v: Uint8Array): void; has(v: Uint8Array): boolean };
      using kernel = KernelMap.create(s);
      for (let i = 0; i < maxEntries + 2; i++) {
        ours.push(value(i * 7, valueSize));
        kernel.set(new Uint8Array(0), value(i * 7, valueSize));
      }
      const answers = (has: (v: Uint8Array) => boolean) =>
        Array.from({ length: 300 }, (_, i) => (has(value(i, valueSize)) ? 1 : 0)).join("");
      assert.equal(
        answers((v) => ours.has(v)),
        answers((v) => kernel.has(v)),
      );
    });
  }
});
