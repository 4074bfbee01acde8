// Native memory for system call arguments: allocations that are live together never overlap, memory handed out
// again is zeroed (nothing of an earlier call leaks into a buffer the kernel fills), and arguments too big for
// the scratch block still reach the kernel intact.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { linuxSys, withNative } from "../src/kernel/sys.js";
import { bpfMissing, testMap } from "./support/kernel.js";

describe("native argument memory", { skip: process.platform === "linux" ? undefined : "Linux only" }, () => {
  it("gives allocations live together disjoint, 8-byte aligned ranges, and zeroed memory when reused", () => {
    const sys = linuxSys();
    const sizes = [3, 144, 1, 4096, 17];
    withNative(sys, sizes, (mem) => {
      const ranges = mem.map((m, i) => [m.address, m.address + BigInt(sizes[i] as number)] as const);
      for (const [start] of ranges) assert.equal(start % 8n, 0n);
      for (let i = 0; i < ranges.length; i++) {
        for (let j = i + 1; j < ranges.length; j++) {
          const [a, b] = [ranges[i], ranges[j]] as [readonly [bigint, bigint], readonly [bigint, bigint]];
          assert.ok(a[1] <= b[0] || b[1] <= a[0], `allocations ${i} and ${j} overlap`);
        }
      }
      for (const m of mem) m.bytes.fill(0xa5);
    });
    withNative(sys, sizes, (mem) => {
      for (const m of mem) assert.ok(m.bytes.every((b) => b === 0));
    });
    // nested: an allocation made while another is live does not take its place
    withNative(sys, [new Uint8Array([1, 2, 3, 4])], ([outer]) => {
      withNative(sys, [64], ([inner]) => {
        inner?.bytes.fill(9);
      });
      assert.deepEqual([...(outer?.bytes ?? [])], [1, 2, 3, 4]);
    });
  });

  it("reuses the room of freed arguments while an older allocation is still held", () => {
    const sys = linuxSys();
    const held = sys.alloc(3); // e.g. a buffer someone keeps: what comes after it must not pile up behind it
    try {
      const addresses = (): bigint[] => withNative(sys, [4, 8, new Uint8Array(5)], (mem) => mem.map((m) => m.address));
      const first = addresses();
      for (let i = 0; i < 10_000; i++) addresses();
      assert.deepEqual(addresses(), first);
      assert.ok((first[0] as bigint) > held.address);
    } finally {
      held.free();
    }
  });

  it("takes back room freed out of turn once what lies above it is freed, and keeps kept memory out of the block", () => {
    const sys = linuxSys();
    const held = sys.alloc(3); // live throughout, so the block never empties
    try {
      const a = sys.alloc(16); // an asynchronous call's arguments, say, finishing before a later call's
      const b = sys.alloc(16);
      a.free();
      b.free();
      const c = sys.alloc(16);
      assert.equal(c.address, a.address, "the room of both is free again");
      c.free();
      const kept = sys.alloc(64, "kept");
      const d = sys.alloc(16);
      assert.equal(d.address, a.address, "kept memory takes no room in the block");
      d.free();
      kept.free();
    } finally {
      held.free();
    }
  });

  it("passes values bigger than the scratch block to the kernel and back intact", { skip: bpfMissing() }, () => {
    const valueSize = 1 << 19; // 512 KiB: more than the scratch block holds
    const map = testMap({
      name: "tsbpf_test_big",
      type: 2,
      typeName: "array",
      keySize: 4,
      valueSize,
      maxEntries: 1,
    });
    try {
      const value = new Uint8Array(valueSize).map((_, i) => (i * 7) & 0xff);
      map.set(new Uint8Array(4), value);
      assert.deepEqual(map.get(new Uint8Array(4)), value);
    } finally {
      map.close();
    }
  });

  it("gives element commands their keys and values intact on both sides of the reused room's limits", { skip: bpfMissing() }, () => {
    const pattern = (n: number, seed: number): Uint8Array => new Uint8Array(n).map((_, i) => (i * 13 + seed) & 0xff);
    // 512 bytes is both the largest hash key and all the room keys get; values up to 15872 bytes fit the room
    for (const [keySize, valueSize] of [
      [512, 15872],
      [4, 15880],
      [1, 1],
    ] as const) {
      const map = testMap({ name: "tsbpf_test_room", type: 1, typeName: "hash", keySize, valueSize, maxEntries: 4 });
      try {
        const [k1, k2] = [pattern(keySize, 1), pattern(keySize, 2)];
        const [v1, v2] = [pattern(valueSize, 3), pattern(valueSize, 4)];
        map.set(k1, v1);
        map.set(k2, v2);
        const got1 = map.get(k1);
        const got2 = map.get(k2); // a later lookup leaves what an earlier one returned alone
        assert.deepEqual(got1, v1, `${keySize}/${valueSize}`);
        assert.deepEqual(got2, v2, `${keySize}/${valueSize}`);
        assert.deepEqual([...map.keys()].map((k) => k[0]).sort(), [k1[0], k2[0]].sort());
        map.delete(k1);
        assert.equal(map.get(k1), undefined);
      } finally {
        map.close();
      }
    }
    // maps without keys get NULL for the key
    const queue = testMap({ name: "tsbpf_test_q", type: 22, typeName: "queue", keySize: 0, valueSize: 4, maxEntries: 2 });
    try {
      queue.set(new Uint8Array(0), new Uint8Array([1, 2, 3, 4]));
      assert.deepEqual(queue.lookupAndDelete(), new Uint8Array([1, 2, 3, 4]));
      assert.equal(queue.lookupAndDelete(), undefined);
    } finally {
      queue.close();
    }
  });
});
