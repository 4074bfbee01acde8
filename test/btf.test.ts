// BTF: `tsbpf btf dump` (raw) prints exactly what bpftool prints — for every sample object with .BTF and for
// the running kernel's vmlinux — and malformed BTF gives typed errors.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { TsbpfError } from "../src/errors.js";
import { btfFromFile, dumpBtfRaw, parseBtf } from "../src/object/btf/index.js";
import { parseElf } from "../src/object/elf.js";
import { ObjectError } from "../src/object/errors.js";
import { tsbpf } from "./support/cli.js";
import { SHARED, sharedMissing } from "./support/paths.js";

const SAMPLES = join(SHARED, "ebpf-samples");
const VMLINUX = "/sys/kernel/btf/vmlinux";

function bpftool(): boolean {
  try {
    execFileSync("bpftool", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const bpftoolDump = (path: string): string =>
  execFileSync("bpftool", ["btf", "dump", "file", path, "format", "raw"], { encoding: "utf8", maxBuffer: 1 << 30 });

function objectsWithBtf(): string[] {
  return readdirSync(SAMPLES, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== "invalid")
    .flatMap((d) =>
      readdirSync(join(SAMPLES, d.name))
        .filter((f) => f.endsWith(".o"))
        .map((f) => join(SAMPLES, d.name, f)),
    )
    .filter((p) => parseElf(readFileSync(p)).sectionByName(".BTF") !== undefined);
}

const skip = sharedMissing() ?? (bpftool() ? undefined : "bpftool not installed (apt-get install bpftool)");

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

  it("is what `tsbpf btf dump` prints", () => {
    const path = join(SAMPLES, "build", "map_in_map.o");
    const r = tsbpf(["btf", "dump", path, "--format", "raw"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, bpftoolDump(path));
    assert.equal(tsbpf(["btf", "dump", path, "--format", "c"]).status, 1);
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
