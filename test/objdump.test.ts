// `tsbpf objdump` against llvm-objdump (the oracle) for every real clang object in ../shared/ebpf-samples,
// and malformed objects yield typed errors, never crashes.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { TsbpfError } from "../src/errors.js";
import { loadCollectionSpec } from "../src/object/collection.js";
import { parseElf } from "../src/object/elf.js";
import { ObjectError } from "../src/object/errors.js";
import { objdump } from "../src/object/objdump.js";
import { tsbpf } from "./support/cli.js";
import { objectCorpus } from "./support/corpus.js";
import { SHARED, sharedMissing } from "./support/paths.js";
import { ensureTool } from "./support/tools.js";

const SAMPLES = join(SHARED, "ebpf-samples");

/** Every .o under ebpf-samples except invalid/, and our own testdata/ objects. */
function sampleObjects(): string[] {
  return objectCorpus().map((c) => c.path);
}

/** Instruction text per section: "section NAME" lines, symbol labels and instructions, whitespace-normalized. */
function instructionText(dump: string): string[] {
  return dump
    .split("\n")
    .map((l) => l.replace(/\s+/g, " ").trim())
    .filter((l) => l !== "" && !l.includes("file format"));
}

const llvm = ensureTool("llvm-objdump-19", "llvm-19");
const skipSamples = sharedMissing() ?? (llvm ? undefined : "llvm-objdump-19 not installed (apt-get install llvm-19)");

describe("tsbpf objdump against llvm-objdump 19", { skip: skipSamples }, () => {
  it("prints the same instruction text for every sample object", () => {
    const objects = sampleObjects();
    assert.ok(objects.length >= 140, `found ${objects.length} objects`);
    for (const path of objects) {
      let theirs: string;
      try {
        theirs = execFileSync(llvm as string, ["-d", "--no-show-raw-insn", path], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      } catch {
        // Old clang wrote e_machine = EM_NONE; llvm-objdump then needs to be told the target.
        theirs = execFileSync(llvm as string, ["-d", "--no-show-raw-insn", "--triple=bpfel", path], { encoding: "utf8" });
      }
      const ours = objdump(parseElf(readFileSync(path)), path);
      assert.deepEqual(instructionText(ours), instructionText(theirs), path);
    }
  });

  it("is what `tsbpf objdump` prints", () => {
    const path = join(SAMPLES, "build", "bpf2bpf.o");
    const r = tsbpf(["objdump", path]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, objdump(parseElf(readFileSync(path)), path));
  });
});

describe("malformed objects", { skip: sharedMissing() }, () => {
  it("rejects truncated and corrupt ELF files with an ObjectError naming the offset", () => {
    const good = readFileSync(join(SAMPLES, "build", "bpf2bpf.o"));
    assert.throws(() => parseElf(new Uint8Array(10)), ObjectError);
    assert.throws(
      () => parseElf(good.subarray(0, 100)),
      (e: unknown) => e instanceof ObjectError && e.offset !== undefined,
    );
    const wrongClass = new Uint8Array(good);
    wrongClass[4] = 1;
    assert.throws(() => parseElf(wrongClass), /ELF class 1/);
  });

  it("locates a relocation naming a missing symbol and a section offset past 2^53", () => {
    const good = readFileSync("testdata/sched_count.o");
    const view = new DataView(good.buffer, good.byteOffset, good.byteLength);
    const shoff = Number(view.getBigUint64(0x28, true));
    const elf = parseElf(good);
    const rel = elf.sections.find((s) => s.type === 9) as { index: number; offset: number; info: number };
    assert.match(elf.sections[rel.info]?.name ?? "", /^tracepoint\//); // the program's relocations
    const badSymbol = new Uint8Array(good);
    new DataView(badSymbol.buffer).setUint32(rel.offset + 12, 0xffff, true); // r_info's symbol half
    // relocations are read when the section they apply to is: by the loader, not by parseElf
    const parsed = parseElf(badSymbol);
    for (const read of [() => parsed.relocationsOf(rel.info), () => loadCollectionSpec(badSymbol)]) {
      assert.throws(
        read,
        (e: unknown) => e instanceof ObjectError && e.code === "EELFREL" && e.offset === rel.offset && /symbol 65535/.test(e.message),
      );
    }
    const hugeOffset = new Uint8Array(good);
    const field = shoff + rel.index * 64 + 24; // sh_offset
    new DataView(hugeOffset.buffer).setUint32(field + 4, 0xffffffff, true);
    assert.throws(
      () => parseElf(hugeOffset),
      (e: unknown) => e instanceof ObjectError && e.code === "ERANGE" && e.offset === field && /sh_offset 0xffffffff/.test(e.message),
    );
  });

  it("locates a line_info source line outside the BTF strings, although line text is decoded only when read", () => {
    const good = readFileSync("testdata/sched_count.o");
    const ext = parseElf(good).sectionByName(".BTF.ext") as { offset: number };
    const header = new DataView(good.buffer, good.byteOffset + ext.offset);
    // .BTF.ext header: hdr_len at 4, line_info_off at 16; the block: rec_size, sec_name_off, num_info, records
    const lineOffField = header.getUint32(4, true) + header.getUint32(16, true) + 12 + 8;
    const bad = new Uint8Array(good);
    new DataView(bad.buffer).setUint32(ext.offset + lineOffField, 0xfffff, true);
    assert.throws(
      () => loadCollectionSpec(bad),
      (e: unknown) =>
        e instanceof ObjectError && e.code === "EBTFEXT" && e.offset === lineOffField && /source line offset 1048575/.test(e.message),
    );
    const lines = [...(loadCollectionSpec(good).btfExt?.lineInfo.values() ?? [])].flat();
    assert.ok(lines.length > 0 && lines.every((l) => typeof l.line === "string" && l.fileName.endsWith(".c")));
    assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(lines[0]))).sort(), [
      "column",
      "fileName",
      "fileNameOff",
      "insnOff",
      "line",
      "lineCol",
      "lineNumber",
      "lineOff",
    ]);
  });

  it("throws only tsbpf errors for the invalid/ corpus", () => {
    for (const f of readdirSync(join(SAMPLES, "invalid"))) {
      try {
        objdump(parseElf(readFileSync(join(SAMPLES, "invalid", f))), f);
      } catch (e) {
        assert.ok(e instanceof TsbpfError, `${f}: ${String(e)}`);
      }
    }
  });

  it("survives mutated corpus objects (short fuzz run; FUZZ_RUNS=100000 for the long one)", () => {
    const corpus = sampleObjects()
      .slice(0, 40)
      .map((p) => new Uint8Array(readFileSync(p)));
    const runs = Number(process.env.FUZZ_RUNS ?? 2000);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: corpus.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.option(fc.nat(), { nil: undefined }),
        (which, flips, cut) => {
          const bytes = new Uint8Array(corpus[which] as Uint8Array);
          for (const [at, value] of flips) bytes[at % bytes.length] = value;
          const input = cut === undefined ? bytes : bytes.subarray(0, cut % bytes.length);
          try {
            objdump(parseElf(input), "fuzz.o");
          } catch (e) {
            assert.ok(e instanceof TsbpfError, String(e));
          }
        },
      ),
      { numRuns: runs },
    );
  });
});
