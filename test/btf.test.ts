// BTF: `tsbpf btf dump` (raw) prints exactly what bpftool prints — for every sample object with .BTF and for
// the running kernel's vmlinux — and malformed BTF gives typed errors.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { TsbpfError } from "../src/errors.js";
import { btfFromFile, dumpBtfC, dumpBtfRaw, parseBtf, parseBtfExt } from "../src/object/btf/index.js";
import { parseElf } from "../src/object/elf.js";
import { ObjectError } from "../src/object/errors.js";
import { tsbpf } from "./support/cli.js";
import { objectCorpus } from "./support/corpus.js";
import { SHARED, sharedMissing } from "./support/paths.js";
import { ensureTool } from "./support/tools.js";

const SAMPLES = join(SHARED, "ebpf-samples");
const VMLINUX = "/sys/kernel/btf/vmlinux";

const bpftoolDump = (path: string, format: "raw" | "c" = "raw"): string =>
  execFileSync("bpftool", ["btf", "dump", "file", path, "format", format], { encoding: "utf8", maxBuffer: 1 << 30 });

function objectsWithBtf(): string[] {
  return objectCorpus()
    .filter((c) => parseElf(c.bytes).sectionByName(".BTF") !== undefined)
    .map((c) => c.path);
}

const skip =
  sharedMissing() ?? (ensureTool("bpftool", "bpftool", ["version"]) ? undefined : "bpftool not installed (apt-get install bpftool)");

describe("btf dump against bpftool", { skip }, () => {
  it("matches bpftool for every sample object with .BTF", () => {
    const objects = objectsWithBtf();
    assert.ok(objects.length >= 60, `found ${objects.length}`);
    for (const path of objects) assert.equal(dumpBtfRaw(btfFromFile(readFileSync(path), path)), bpftoolDump(path), path);
  });

  it("matches bpftool for the kernel's vmlinux BTF", { skip: existsSync(VMLINUX) ? undefined : `${VMLINUX} not present` }, () => {
    const ours = dumpBtfRaw(btfFromFile(readFileSync(VMLINUX), VMLINUX));
    const theirs = bpftoolDump(VMLINUX);
    assert.ok(theirs.length > 1_000_000);
    assert.ok(ours === theirs, "vmlinux raw dump differs from bpftool's");
  });

  it("prints the same C header as bpftool (format c) for every object with .BTF", () => {
    for (const path of objectsWithBtf()) assert.equal(dumpBtfC(btfFromFile(readFileSync(path), path)), bpftoolDump(path, "c"), path);
  });

  it("prints the same vmlinux.h as bpftool", { skip: existsSync(VMLINUX) ? undefined : `${VMLINUX} not present` }, () => {
    const ours = dumpBtfC(btfFromFile(readFileSync(VMLINUX), VMLINUX));
    const theirs = bpftoolDump(VMLINUX, "c");
    assert.ok(theirs.split("\n").length > 10_000);
    assert.ok(ours === theirs, "vmlinux C dump differs from bpftool's");
  });

  it("is what `tsbpf btf dump` prints", () => {
    const path = join(SAMPLES, "build", "map_in_map.o");
    const r = tsbpf(["btf", "dump", path, "--format", "raw"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, bpftoolDump(path));
    const c = tsbpf(["btf", "dump", path, "--format", "c"]);
    assert.equal(c.status, 0, c.stderr);
    assert.equal(c.stdout, bpftoolDump(path, "c"));
  });
});

describe("malformed BTF", { skip: sharedMissing() }, () => {
  it("rejects bad magic, truncated sections and bad kinds with the offset", () => {
    assert.throws(
      () => parseBtf(new Uint8Array([1, 2, 3, 4])),
      (e: unknown) => e instanceof ObjectError && e.offset === 0,
    );
    const good = parseElf(readFileSync(join(SAMPLES, "build", "bpf2bpf.o"))).sectionByName(".BTF")?.data as Uint8Array;
    assert.throws(() => parseBtf(good.subarray(0, good.length - 10)), ObjectError);
  });

  it("throws only tsbpf errors on mutated BTF", () => {
    const corpus = objectsWithBtf()
      .slice(0, 20)
      .map((p) => parseElf(readFileSync(p)).sectionByName(".BTF")?.data as Uint8Array);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: corpus.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        (which, flips) => {
          const bytes = new Uint8Array(corpus[which] as Uint8Array);
          for (const [at, v] of flips) bytes[at % bytes.length] = v;
          try {
            dumpBtfRaw(parseBtf(bytes));
          } catch (e) {
            assert.ok(e instanceof TsbpfError, String(e));
          }
        },
      ),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 2000) },
    );
  });
});

describe(".BTF.ext", { skip: sharedMissing() }, () => {
  it("parses every sample; each func_info names the ELF function symbol at its offset", () => {
    let checked = 0;
    for (const path of objectsWithBtf()) {
      const elf = parseElf(readFileSync(path));
      const extSection = elf.sectionByName(".BTF.ext");
      if (!extSection) continue;
      const btf = parseBtf(elf.sectionByName(".BTF")?.data as Uint8Array);
      const ext = parseBtfExt(extSection.data, btf);
      for (const [sectionName, funcs] of ext.funcInfo) {
        const section = elf.sectionByName(sectionName);
        assert.ok(section, `${path}: func_info for missing section ${sectionName}`);
        for (const f of funcs) {
          const type = btf.type(f.typeId);
          assert.equal(type?.kind, "FUNC", `${path}: func_info type ${f.typeId}`);
          const symbol = elf.symbols.find((s) => s.shndx === section.index && s.value === f.insnOff && s.name === type?.name);
          assert.ok(symbol, `${path}: no symbol ${type?.name} at ${sectionName}+${f.insnOff}`);
          checked++;
        }
      }
      for (const [sectionName, lines] of ext.lineInfo) {
        const section = elf.sectionByName(sectionName);
        for (const l of lines)
          assert.ok(section && l.insnOff % 8 === 0 && l.insnOff < section.size, `${path}: line_info at ${sectionName}+${l.insnOff}`);
      }
    }
    assert.ok(checked > 50, `checked ${checked} func_info records`);
  });

  it("interleaves source lines in `tsbpf objdump -S`", () => {
    const path = join(SAMPLES, "cilium-examples", "cgroup_skb_bpf_bpfel.o");
    const r = tsbpf(["objdump", "-S", path]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /<count_egress_packets>:\n; int count_egress_packets\(struct __sk_buff \*skb\) \{\n\s+0:\tr1 = 0x0\n/);
  });
});
