// The ring buffer reader against a real kernel ring buffer: every record arrives intact and in order, discarded
// records are skipped, waiting does not block the event loop, and the async iterator ends when closed.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { assemble } from "../src/isa/index.js";
import { KernelError } from "../src/kernel/errors.js";
import { type KernelMap, possibleCpus } from "../src/kernel/map.js";
import { PerfBufReader } from "../src/kernel/perfbuf.js";
import { supportsHelper, supportsLinkType, supportsMapType, supportsProgramType } from "../src/kernel/probe.js";
import { KernelProgram } from "../src/kernel/program.js";
import { RingBufReader } from "../src/kernel/ringbuf.js";
import { linuxSys } from "../src/kernel/sys.js";
import { bpfMissing, testMap } from "./support/kernel.js";

const ring = (): KernelMap =>
  testMap({
    name: "tsbpf_test_rb",
    type: 27,
    typeName: "ringbuf",
    keySize: 0,
    valueSize: 0,
    maxEntries: 1 << 16,
  });

/** A program that writes one 16-byte record: a counter from its map value slot and a marker. */
function writer(map: KernelMap, discard: boolean): KernelProgram {
  const source = discard
    ? `lddw %r1, map_fd(${map.fd})\nmov %r2, 16\nmov %r3, 0\ncall 131\njeq %r0, 0, +3\nmov %r1, %r0\nmov %r2, 0\ncall 133\nmov %r0, 0\nexit`
    : `stdw [%r10-16], 0x1234\nstdw [%r10-8], 0x5678\nlddw %r1, map_fd(${map.fd})\nmov %r2, %r10\nadd %r2, -16\nmov %r3, 16\nmov %r4, 0\ncall 130\nmov %r0, 0\nexit`;
  return KernelProgram.load(assemble(source), { type: "socket_filter", name: "tsbpf_test_rbw" });
}

describe("ring buffer reader", { skip: bpfMissing() }, () => {
  it("delivers every record intact and skips discarded ones", () => {
    using map = ring();
    using out = writer(map, false);
    using dropped = writer(map, true);
    using reader = new RingBufReader(map);
    out.testRun({ data: new Uint8Array(64), repeat: 100 });
    dropped.testRun({ data: new Uint8Array(64), repeat: 7 });
    out.testRun({ data: new Uint8Array(64), repeat: 50 });
    const seen: Array<[bigint, bigint]> = [];
    const n = reader.poll((r) => {
      const v = new DataView(r.buffer, r.byteOffset, r.byteLength);
      seen.push([v.getBigUint64(0, true), v.getBigUint64(8, true)]);
    });
    assert.equal(n, 150);
    assert.ok(seen.every(([a, b]) => a === 0x1234n && b === 0x5678n));
    assert.equal(reader.stats.discarded, 7);
    assert.equal(
      reader.poll(() => {}),
      0,
    );
  });

  it("waits without blocking the event loop, and iterates records as they come", async () => {
    using map = ring();
    using out = writer(map, false);
    const reader = new RingBufReader(map);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const t0 = Date.now();
    await reader.wait(100); // nothing arrives: times out while timers keep running
    clearInterval(timer);
    assert.ok(Date.now() - t0 >= 90);
    assert.ok(ticks >= 5, `event loop ran ${ticks} ticks while waiting`);
    setTimeout(() => out.testRun({ data: new Uint8Array(64), repeat: 3 }), 20);
    const got: Uint8Array[] = [];
    for await (const r of reader) {
      got.push(r);
      if (got.length === 3) reader.close();
    }
    assert.equal(got.length, 3);
    assert.equal(got[0]?.length, 16);
  });
});

describe("per-CPU maps", { skip: bpfMissing() }, () => {
  it("read and write one value per possible CPU, and refuse single-value access", () => {
    using map = testMap({
      name: "tsbpf_test_pcpu",
      type: 6,
      typeName: "percpu_array",
      keySize: 4,
      valueSize: 4,
      maxEntries: 2,
    });
    const cpus = possibleCpus();
    const key = new Uint8Array(4);
    map.setPerCpu(
      key,
      Array.from({ length: cpus }, (_, c) => new Uint8Array([c + 1, 0, 0, 0])),
    );
    assert.deepEqual(
      map.getPerCpu(key)?.map((v) => v[0]),
      Array.from({ length: cpus }, (_, c) => c + 1),
    );
    assert.throws(() => map.get(key), /getPerCpu/);
    assert.throws(() => map.set(key, new Uint8Array(4)), /setPerCpu/);
    assert.throws(() => [...map.entries()], /use entriesPerCpu/);
  });

  it("list every entry with its value on each CPU, in batches, as key-by-key lookups give them", () => {
    using map = testMap({
      name: "tsbpf_test_pcpuh",
      type: 5,
      typeName: "percpu_hash",
      keySize: 4,
      valueSize: 12, // 16 bytes per CPU in the kernel's answer
      maxEntries: 64,
    });
    const cpus = possibleCpus();
    for (let k = 0; k < 40; k++) {
      const values = Array.from({ length: cpus }, (_, c) => new Uint8Array(12).fill(k * 4 + c));
      map.setPerCpu(new Uint8Array(new Uint32Array([k]).buffer), values);
    }
    const show = (entries: Iterable<[Uint8Array, Uint8Array[]]>): string[] =>
      [...entries].map(([k, vs]) => `${Buffer.from(k).toString("hex")}=${vs.map((v) => Buffer.from(v).toString("hex")).join("/")}`).sort();
    const byKey = show([...map.keys()].map((k): [Uint8Array, Uint8Array[]] => [k, map.getPerCpu(k) ?? []]));
    assert.equal(byKey.length, 40);
    assert.deepEqual(show(map.entriesPerCpu()), byKey);
    assert.deepEqual(show(map.entriesPerCpu(3)), byKey);
    assert.ok(byKey.every((e) => e.split("=")[1]?.split("/").length === cpus));
  });
});

describe("perf buffer reader", { skip: bpfMissing() }, () => {
  it("delivers bpf_perf_event_output samples and counts lost ones", () => {
    using map = testMap({
      name: "tsbpf_test_perf",
      type: 4,
      typeName: "perf_event_array",
      keySize: 4,
      valueSize: 4,
      maxEntries: 0,
    });
    using reader = new PerfBufReader(map, 1); // one data page per CPU: easy to overflow
    // Every run on one CPU: the lost-samples record goes to the ring of the CPU that lost them, and a process
    // the shared machine moved to another CPU would never make room there (other tests pin the same way).
    const unpin = linuxSys().pinThread(0);
    using _pinned = { [Symbol.dispose]: unpin };
    // bpf_perf_event_output(ctx, map, BPF_F_CURRENT_CPU, data, 16)
    const source = `mov %r6, %r1\nstdw [%r10-16], 0x1111\nstdw [%r10-8], 0x2222\nmov %r1, %r6\nlddw %r2, map_fd(${map.fd})\nlddw %r3, 0xffffffff\nmov %r4, %r10\nadd %r4, -16\nmov %r5, 16\ncall 25\nmov %r0, 0\nexit`;
    using program = KernelProgram.load(assemble(source), { type: "socket_filter", name: "tsbpf_test_pout" });
    program.testRun({ data: new Uint8Array(64), repeat: 10 });
    const got: Uint8Array[] = [];
    reader.poll((s) => got.push(s.slice()));
    assert.equal(got.length, 10);
    assert.ok(
      got.every(
        (s) =>
          s.length >= 16 &&
          new DataView(s.buffer).getBigUint64(0, true) === 0x1111n &&
          new DataView(s.buffer).getBigUint64(8, true) === 0x2222n,
      ),
    );
    // 1000 samples into a 4 KiB ring: most are lost. The kernel reports how many with a PERF_RECORD_LOST
    // written before the next sample that fits once we have made room.
    program.testRun({ data: new Uint8Array(64), repeat: 1000 });
    let delivered = 0;
    reader.poll(() => delivered++);
    // The record goes to the ring of the CPU that lost the samples: the shared machine may have moved this
    // process to another CPU since, so send single samples until one lands there (100 at most).
    let sent = 1000;
    while (sent < 1100 && reader.stats.lost === 0) {
      program.testRun({ data: new Uint8Array(64), repeat: 1 });
      sent++;
      reader.poll(() => delivered++);
    }
    assert.ok(reader.stats.lost > 0, "lost samples are reported");
    assert.equal(delivered + reader.stats.lost, sent);
  });
});

describe("batch map operations", { skip: bpfMissing() }, () => {
  it("update, look up and delete many hash entries per system call", () => {
    using map = testMap({
      name: "tsbpf_test_batch",
      type: 1,
      typeName: "hash",
      keySize: 4,
      valueSize: 8,
      maxEntries: 2048,
    });
    const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
    const u64 = (n: number): Uint8Array => new Uint8Array(new BigUint64Array([BigInt(n) * 3n]).buffer);
    const entries = Array.from({ length: 1000 }, (_, i) => [u32(i), u64(i)] as const);
    map.updateBatch(entries);
    const got = map.lookupBatch(128);
    assert.equal(got.length, 1000);
    const byKey = new Map(got.map(([k, v]) => [new DataView(k.buffer).getUint32(0, true), new DataView(v.buffer).getBigUint64(0, true)]));
    for (let i = 0; i < 1000; i++) assert.equal(byKey.get(i), BigInt(i) * 3n);
    map.deleteBatch(entries.slice(0, 600).map(([k]) => k));
    assert.equal([...map.keys()].length, 400);
    assert.equal(map.lookupBatch().length, 400);
  });

  it("read entries() in batches, growing a chunk smaller than a bucket, and key by key where the kernel cannot batch", () => {
    const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
    const byKeyWalk = (map: KernelMap): string[] => [...map.keys()].map((k) => `${hex(k)}=${hex(map.get(k) ?? new Uint8Array(0))}`).sort();
    const listed = (entries: Iterable<[Uint8Array, Uint8Array]>): string[] => [...entries].map(([k, v]) => `${hex(k)}=${hex(v)}`).sort();
    using hash = testMap({
      name: "tsbpf_test_ents",
      type: 1,
      typeName: "hash",
      keySize: 4,
      valueSize: 8,
      maxEntries: 1024,
    });
    hash.updateBatch(
      Array.from(
        { length: 1000 },
        (_, i) => [new Uint8Array(new Uint32Array([i * 7919]).buffer), new Uint8Array(8).fill(i & 255)] as const,
      ),
    );
    const walked = byKeyWalk(hash);
    assert.equal(walked.length, 1000);
    assert.deepEqual(listed(hash.entries()), walked);
    // lookupBatches: the same entries as packed native buffers, chunk by chunk (a chunk of 1 grows past buckets)
    for (const chunk of [1, 100, 4096]) {
      const packed: string[] = [];
      for (const { count, keys, values } of hash.lookupBatches(chunk)) {
        assert.equal(keys.length, count * 4);
        for (let i = 0; i < count; i++) packed.push(`${hex(keys.subarray(i * 4, i * 4 + 4))}=${hex(values.subarray(i * 8, i * 8 + 8))}`);
      }
      assert.deepEqual(packed.sort(), walked, `chunk ${chunk}`);
    }
    // one entry per call: some bucket holds two or more, which the kernel refuses (ENOSPC) until the chunk grows
    assert.deepEqual(listed(hash.entries(1)), walked);
    // a devmap has no batch lookup in the kernel: entries() walks its keys, lookupBatch says why it cannot
    using devmap = testMap({
      name: "tsbpf_test_dev",
      type: 14,
      typeName: "devmap",
      keySize: 4,
      valueSize: 4,
      maxEntries: 4,
    });
    devmap.set(new Uint8Array([2, 0, 0, 0]), new Uint8Array([1, 0, 0, 0])); // slot 2 -> ifindex 1 (lo)
    assert.deepEqual(listed(devmap.entries()), ["02000000=01000000"]);
    assert.deepEqual(
      byKeyWalk(devmap).filter((e) => !e.endsWith("=")),
      ["02000000=01000000"],
    );
    assert.throws(
      () => devmap.lookupBatch(),
      (e: unknown) => e instanceof KernelError && e.errno === 524 && /ENOTSUPP/.test(e.message),
    );
  });
});

describe("walking a map's keys", { skip: bpfMissing() }, () => {
  it("stops with an error instead of going on for ever when the map keeps changing under the walk", () => {
    using map = testMap({
      name: "tsbpf_test_walk",
      type: 1,
      typeName: "hash",
      keySize: 4,
      valueSize: 4,
      maxEntries: 8,
    });
    const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
    for (let i = 0; i < 8; i++) map.set(u32(i), u32(i));
    assert.equal([...map.keys()].length, 8); // unchanged: every key once
    // Each key met is replaced by a new one: the kernel answers the deleted key with the first key again.
    let next = 8;
    let met = 0;
    assert.throws(
      () => {
        for (const key of map.keys()) {
          met++;
          map.delete(key);
          map.set(u32(next), u32(next++));
          if (met > 1000) assert.fail("the walk did not stop");
        }
      },
      (e: unknown) => e instanceof KernelError && e.errno === 11 /* EAGAIN */ && /more than its 8 entries/.test(e.message),
    );
    assert.equal(met, 8);
  });
});

describe("feature probing", { skip: bpfMissing() }, () => {
  it("finds what this kernel supports, and what it does not", () => {
    assert.equal(supportsMapType(2), true); // array
    assert.equal(supportsMapType(27), true); // ringbuf
    assert.equal(supportsMapType(11), true); // lpm_trie
    assert.equal(supportsMapType(999), false);
    assert.equal(supportsProgramType("socket_filter"), true);
    assert.equal(supportsProgramType("xdp"), true);
    assert.equal(supportsHelper("socket_filter", 1), true); // map_lookup_elem (refused only for its arguments)
    assert.equal(supportsHelper("socket_filter", 5), true); // ktime_get_ns
    assert.equal(supportsHelper("socket_filter", 99999), false);
    assert.equal(supportsHelper("socket_filter", 58), false); // override_return is for kprobes only
  });

  it("finds the link types this kernel has, as its build configuration says", () => {
    // the link types other tests attach for real
    for (const t of ["xdp", "tcx", "cgroup", "iter", "perf_event", "raw_tracepoint"] as const) assert.equal(supportsLinkType(t), true, t);
    // kprobe_multi links need fprobe; uprobe_multi links need uprobes: compare with the kernel's own config
    let config = "";
    try {
      config = gunzipSync(readFileSync("/proc/config.gz")).toString();
    } catch {
      return; // no /proc/config.gz: nothing to compare with
    }
    assert.equal(supportsLinkType("kprobe_multi"), /^CONFIG_FPROBE=y$/m.test(config));
    assert.equal(supportsLinkType("uprobe_multi"), /^CONFIG_UPROBES=y$/m.test(config));
    assert.equal(supportsLinkType("netfilter"), /^CONFIG_NETFILTER_BPF_LINK=y$/m.test(config));
  });
});
