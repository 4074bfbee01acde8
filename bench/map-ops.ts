/**
 * Map operations from TS: a hash map (4-byte keys, 8-byte values, 1024 entries) updated and looked up through
 * KernelMap.set / KernelMap.get, keys cycling over the first 256 — the same protocol as
 * bench/libbpf/map_ops.c, so the two are side by side. Best of 5 rounds, ns per operation.
 */
import { KernelMap } from "../src/kernel/map.js";

export function mapOpsNs(runs: number): { update: number; lookup: number } {
  const map = KernelMap.create({
    name: "tsbpf_bench_mo",
    type: 1,
    typeName: "hash",
    keySize: 4,
    valueSize: 8,
    maxEntries: 1024,
    flags: 0,
    pinning: 0,
    section: "bench",
  });
  try {
    const key = new Uint8Array(4);
    const value = new Uint8Array(8);
    const values = new DataView(value.buffer);
    let update = Number.POSITIVE_INFINITY;
    let lookup = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 5; round++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < runs; i++) {
        key[0] = i & 255;
        values.setUint32(0, i, true);
        map.set(key, value);
      }
      const t1 = process.hrtime.bigint();
      for (let i = 0; i < runs; i++) {
        key[0] = i & 255;
        if (!map.get(key)) throw new Error("map ops bench: an element set is missing");
      }
      const t2 = process.hrtime.bigint();
      update = Math.min(update, Number(t1 - t0) / runs);
      lookup = Math.min(lookup, Number(t2 - t1) / runs);
    }
    return { update, lookup };
  } finally {
    map.close();
  }
}

/**
 * A hash map of `entries` elements (4-byte keys, 8-byte values) dumped whole through KernelMap.lookupBatches,
 * `chunk` per call — bench/libbpf/map_batch.c's protocol. Best of 5, ns per element.
 */
export function mapBatchDumpNs(entries: number, chunk: number): number {
  const map = KernelMap.create({
    name: "tsbpf_bench_mb",
    type: 1,
    typeName: "hash",
    keySize: 4,
    valueSize: 8,
    maxEntries: entries,
    flags: 0,
    pinning: 0,
    section: "bench",
  });
  try {
    const fill: Array<[Uint8Array, Uint8Array]> = [];
    for (let k = 0; k < entries; k++) {
      const key = new Uint8Array(4);
      new DataView(key.buffer).setUint32(0, k, true);
      fill.push([key, new Uint8Array(8)]);
    }
    for (let at = 0; at < entries; at += 10_000) map.updateBatch(fill.slice(at, at + 10_000));
    let best = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 5; round++) {
      let total = 0;
      const t0 = process.hrtime.bigint();
      for (const batch of map.lookupBatches(chunk)) total += batch.count;
      const ns = Number(process.hrtime.bigint() - t0) / total;
      if (total !== entries) throw new Error(`batch dump bench: dumped ${total} of ${entries}`);
      best = Math.min(best, ns);
    }
    return best;
  } finally {
    map.close();
  }
}
