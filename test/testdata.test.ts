// The C test programs in testdata/: the committed objects are what testdata/build.sh produces (checked when
// clang-19 is present), and the loader reads from them exactly what the C sources define.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadCollectionSpec, type ObjectCollectionSpec } from "../src/object/collection.js";
import type { MapSpec } from "../src/object/maps.js";
import { REPO } from "./support/paths.js";
import { ensureTool } from "./support/tools.js";

const TESTDATA = join(REPO, "testdata");
const load = (name: string): ObjectCollectionSpec => loadCollectionSpec(readFileSync(join(TESTDATA, `${name}.o`)));

describe("testdata objects", () => {
  it("match a fresh build by testdata/build.sh", {
    skip: ensureTool("clang-19", "clang-19") ? undefined : "clang-19 not installed",
  }, () => {
    const out = mkdtempSync(join(tmpdir(), "tsbpf-testdata-"));
    try {
      execFileSync(join(TESTDATA, "build.sh"), [out]);
      const objects = readdirSync(TESTDATA).filter((f) => f.endsWith(".o"));
      assert.ok(objects.length >= 4);
      for (const o of objects) assert.ok(readFileSync(join(out, o)).equals(readFileSync(join(TESTDATA, o))), `${o} differs from a rebuild`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("maps.c: BTF maps of every kind, as declared", () => {
    const maps = load("maps").maps;
    const def = (name: string): MapSpec => {
      const m = maps.get(name);
      assert.ok(m, name);
      return m;
    };
    const expect: Array<[string, string, number, number, number, number]> = [
      // name, type, key, value, max_entries, flags — from the declarations in maps.c
      ["hash", "hash", 4, 8, 128, 0],
      ["array", "array", 4, 8, 16, 0],
      ["percpu_hash", "percpu_hash", 8, 16, 32, 0],
      ["percpu_array", "percpu_array", 4, 4, 4, 0],
      ["lru_hash", "lru_hash", 8, 4, 64, 0],
      ["lru_percpu_hash", "lru_percpu_hash", 8, 4, 64, 0],
      ["lpm", "lpm_trie", 8, 4, 256, 1],
      ["events", "perf_event_array", 4, 4, 0, 0],
      ["ringbuf", "ringbuf", 0, 0, 4096, 0],
      ["queue", "queue", 0, 4, 8, 0],
      ["stack", "stack", 0, 8, 8, 0],
      ["bloom", "bloom_filter", 0, 4, 100, 0],
      ["stacks", "stack_trace", 4, 127 * 8, 128, 0],
      ["devmap", "devmap", 4, 4, 8, 0],
      ["cpumap", "cpumap", 4, 4, 2, 0],
      ["sockmap", "sockmap", 4, 4, 2, 0],
      ["outer", "array_of_maps", 4, 4, 4, 0],
      ["outer_hash", "hash_of_maps", 4, 4, 4, 0],
      ["jumps", "prog_array", 4, 4, 4, 0],
    ];
    for (const [name, type, key, value, max, flags] of expect) {
      const m = def(name);
      assert.deepEqual([m.typeName, m.keySize, m.valueSize, m.maxEntries, m.flags], [type, key, value, max, flags], name);
    }
    assert.equal(def("bloom").mapExtra, 3);
    assert.equal(def("pinned").pinning, 1);
    assert.equal(def("outer").inner?.typeName, "array");
    assert.equal(def("outer").inner?.maxEntries, 2);
    assert.deepEqual(
      def("outer").values,
      new Map([
        [0, "inner_a"],
        [2, "inner_b"],
      ]),
    );
    assert.deepEqual(
      def("jumps").values,
      new Map([
        [1, "tail_a"],
        [3, "tail_b"],
      ]),
    );
    assert.equal(def("hash").keyTypeId !== undefined && def("hash").valueTypeId !== undefined, true);
  });

  it("maps.c: programs reference the maps they use", () => {
    const entry = load("maps").programs.get("entry");
    assert.equal(entry?.type, "xdp");
    const refs = [...(entry?.references.values() ?? [])].map((r) => (r.kind === "extern" ? r.name : r.map));
    assert.deepEqual(new Set(refs), new Set(["array", "outer", "jumps"]));
  });

  it("legacy.c: iproute2 bpf_elf_map definitions", () => {
    const spec = load("legacy");
    const counters = spec.maps.get("counters");
    assert.deepEqual(
      [counters?.typeName, counters?.keySize, counters?.valueSize, counters?.maxEntries, counters?.legacyId, counters?.pinning],
      ["array", 4, 8, 256, 7, 2],
    );
    const flows = spec.maps.get("flows");
    assert.deepEqual([flows?.typeName, flows?.keySize, flows?.valueSize, flows?.maxEntries, flows?.flags], ["hash", 16, 4, 1024, 1]);
    assert.equal(spec.programs.get("count")?.type, "sched_cls");
  });

  it("globals.c: global data sections, bpf2bpf calls, callbacks, two programs in one section", () => {
    const spec = load("globals");
    const data = (name: string): MapSpec => spec.maps.get(name) as MapSpec;
    const u64 = (b: Uint8Array | undefined): bigint =>
      new DataView((b as Uint8Array).buffer, (b as Uint8Array).byteOffset).getBigUint64(0, true);
    assert.equal(u64(data(".data").contents), 5n); // counter = 5
    assert.equal(data(".rodata").readOnly, true);
    assert.equal(
      new DataView((data(".rodata").contents as Uint8Array).buffer, (data(".rodata").contents as Uint8Array).byteOffset).getUint32(0, true),
      100,
    );
    assert.deepEqual(data(".bss").contents, new Uint8Array(4));
    assert.equal(
      new DataView(
        (data(".data.custom").contents as Uint8Array).buffer,
        (data(".data.custom").contents as Uint8Array).byteOffset,
      ).getUint32(0, true),
      0xabcd,
    );
    assert.equal(new TextDecoder().decode(data(".rodata.str").contents).replace(/\0+$/, ""), "hello tsbpf");
    const first = spec.programs.get("first");
    const second = spec.programs.get("second");
    assert.equal(first?.section, "socket");
    assert.equal(second?.section, "socket");
    assert.deepEqual(
      first?.functions.map((f) => f.name),
      ["first", "loop_step", "global_add", "twice"],
    );
    assert.deepEqual(
      second?.functions.map((f) => f.name),
      ["second", "sum_elem", "twice"],
    );
    // The bpf_loop callback is passed as a function address (BPF_PSEUDO_FUNC) pointing at loop_step.
    const at = (first?.functions.find((f) => f.name === "loop_step")?.slot ?? -1) as number;
    let slot = 0;
    let funcRef = -1;
    for (const i of first?.instructions ?? []) {
      if (i.op === 0x18 && i.src === 4) funcRef = slot + 1 + i.imm;
      slot += i.op === 0x18 ? 2 : 1;
    }
    assert.equal(funcRef, at);
  });

  it("globals.c built big-endian reads the same as little-endian", () => {
    const le = load("globals");
    const be = load("globals_bpfeb");
    assert.equal(be.elf.byteOrder, "big");
    for (const [name, p] of le.programs) {
      const q = be.programs.get(name);
      assert.deepEqual(q?.instructions, p.instructions, name);
      assert.deepEqual(q?.functions, p.functions, name);
    }
    for (const [name, m] of le.maps)
      assert.deepEqual([be.maps.get(name)?.keySize, be.maps.get(name)?.valueSize], [m.keySize, m.valueSize], name);
    const counter = be.maps.get(".data")?.contents as Uint8Array;
    assert.equal(new DataView(counter.buffer, counter.byteOffset).getBigUint64(0, false), 5n); // stored big-endian
  });

  it("core.c: CO-RE relocations and kconfig externs are recorded", () => {
    const spec = load("core");
    const relos = spec.btfExt?.coreRelos.get("raw_tp/sys_enter") ?? [];
    const kinds = new Set(relos.map((r) => r.kind));
    for (const k of ["field_byte_offset", "field_exists", "type_size", "enumval_value"]) assert.ok(kinds.has(k as never), k);
    const externs = [...(spec.programs.get("core_reads")?.references.values() ?? [])].flatMap((r) => (r.kind === "extern" ? [r.name] : []));
    assert.deepEqual(new Set(externs), new Set(["CONFIG_HZ", "LINUX_KERNEL_VERSION", "CONFIG_NOT_A_REAL_OPTION"]));
  });
});
