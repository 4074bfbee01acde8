// CollectionSpec from real clang objects, checked against ../shared/ebpf-samples/kernel-verdicts.csv (what
// a libbpf-based harness and the kernel saw): every program found, linked to the same instruction count
// (entry function plus bpf2bpf subprograms), and typed from its section name.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { TsbpfError } from "../src/errors.js";
import { validate } from "../src/isa/validate.js";
import { type CollectionSpec, loadCollectionSpec } from "../src/object/collection.js";
import { tsbpf } from "./support/cli.js";
import { SHARED, sharedMissing } from "./support/paths.js";

const SAMPLES = join(SHARED, "ebpf-samples");

interface Verdict {
  object: string;
  section: string;
  func: string;
  type: string;
  typeSource: string;
  insnCount: number;
  verdict: string;
}

function verdicts(): Verdict[] {
  return readFileSync(join(SAMPLES, "kernel-verdicts.csv"), "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => l.split(","))
    .filter((c) => !(c[0] as string).startsWith("invalid/") && c[4] !== "")
    .map((c) => ({
      object: c[0] as string,
      section: c[2] as string,
      func: c[3] as string,
      type: c[4] as string,
      typeSource: c[5] as string,
      insnCount: Number(c[9]),
      verdict: c[11] as string,
    }));
}

describe("CollectionSpec from sample objects", { skip: sharedMissing() }, () => {
  const specs = new Map<string, CollectionSpec>();
  const spec = (object: string): CollectionSpec => {
    let s = specs.get(object);
    if (!s) {
      s = loadCollectionSpec(readFileSync(join(SAMPLES, object)));
      specs.set(object, s);
    }
    return s;
  };

  it("finds every program the kernel saw, linked to the same instruction count", () => {
    const rows = verdicts();
    assert.ok(rows.length >= 290, `${rows.length} rows`);
    for (const v of rows) {
      const s = spec(v.object);
      const p = s.programs.get(v.func) ?? [...s.programs.values()].find((q) => q.section === v.section);
      assert.ok(p, `${v.object}: program ${v.func} in ${v.section}`);
      const slots = p.instructions.reduce((n, i) => n + (i.op === 0x18 ? 2 : 1), 0);
      assert.equal(slots, v.insnCount, `${v.object} ${v.func}`);
      if (v.verdict === "ACCEPT") assert.doesNotThrow(() => validate(p.instructions), `${v.object} ${v.func} links into a valid program`);
    }
  });

  // The rest use names whose type only their own loader knows (`filter` is sched_cls in one object and
  // socket_filter in another); libbpf users set those types explicitly.
  it("infers the program type from the section name as the harness did for at least 90%", () => {
    const rows = verdicts();
    let agree = 0;
    for (const v of rows) {
      const p = [...spec(v.object).programs.values()].find((q) => q.section === v.section);
      if (p?.type === v.type && p.typeSource === v.typeSource) agree++;
    }
    console.log(`# program type from section name: ${agree}/${rows.length} agree with kernel-verdicts.csv`);
    assert.ok(agree / rows.length >= 0.9, `${agree}/${rows.length}`);
  });

  it("reads BTF map-in-map definitions, prog array values, legacy maps and global data", () => {
    const mim = spec("build/map_in_map.o").maps.get("array_of_maps");
    assert.equal(mim?.typeName, "array_of_maps");
    assert.equal(mim?.inner?.typeName, "array");
    assert.equal(mim?.inner?.valueSize, 4);
    const legacy = spec("bpf_cilium_test/bpf_lb-DLB_L3.o").maps.get("cilium_lxc");
    assert.ok(legacy && legacy.keySize > 0 && legacy.maxEntries > 0);
    const data = [...spec("build/global_variable.o").maps.values()].find(
      (m) => m.section.startsWith(".data") || m.section.startsWith(".bss") || m.section.startsWith(".rodata"),
    );
    assert.ok(data?.contents && data.maxEntries === 1 && data.keySize === 4);
  });

  it("prints programs and maps with `tsbpf obj info`", () => {
    const r = tsbpf(["obj", "info", join(SAMPLES, "build", "map_in_map.o")]);
    assert.equal(r.status, 0, r.stderr);
    const info = JSON.parse(r.stdout) as {
      programs: Array<{ name: string; insn_count: number; helpers: number[] }>;
      maps: Array<{ name: string; type: string }>;
    };
    assert.equal(info.programs[0]?.name, "func");
    assert.deepEqual(info.programs[0]?.helpers, [1]);
    assert.ok(info.maps.some((m) => m.name === "array_of_maps" && m.type === "array_of_maps"));
  });

  it("rejects every object in invalid/ with a typed error or loads it whole", () => {
    for (const f of readdirSync(join(SAMPLES, "invalid"))) {
      try {
        loadCollectionSpec(readFileSync(join(SAMPLES, "invalid", f)));
      } catch (e) {
        assert.ok(e instanceof TsbpfError, `${f}: ${String(e)}`);
      }
    }
  });
});
