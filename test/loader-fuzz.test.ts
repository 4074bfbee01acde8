// Mutated corpus objects through the whole loader — ELF, BTF, BTF.ext, maps, programs, linking, CO-RE against
// the object's own BTF, objdump — yield typed errors or a spec, never an uncaught exception or a hang.
// `npm test` runs a short campaign; FUZZ_RUNS=100000 npm test runs the long one. A failing seed printed by
// fast-check goes into REGRESSIONS below.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { TsbpfError } from "../src/errors.js";
import { loadCollectionSpec } from "../src/object/collection.js";
import { applyCoreRelocations } from "../src/object/core/relocate.js";
import { objdump } from "../src/object/objdump.js";
import { objectCorpus } from "./support/corpus.js";
import { sharedMissing } from "./support/paths.js";

/** Loads like a user would; throws whatever the loader throws. */
function loadEverything(bytes: Uint8Array): void {
  const spec = loadCollectionSpec(bytes);
  objdump(spec.elf, "fuzz.o");
  if (spec.btf && spec.btfExt) {
    for (const p of spec.programs.values()) applyCoreRelocations(p, spec.btf, spec.btfExt.coreRelos, spec.btf);
  }
}

const mutation = fc.record({
  flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 }),
  // Bias some writes toward the headers, where one byte changes the most.
  headerFlips: fc.array(fc.tuple(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 255 })), { maxLength: 2 }),
  cut: fc.option(fc.nat(), { nil: undefined }),
});

describe("loader fuzzing", { skip: sharedMissing() }, () => {
  const corpus = sharedMissing() ? [] : objectCorpus();

  it("loads every unmutated corpus object", () => {
    for (const { path, bytes } of corpus) assert.doesNotThrow(() => loadEverything(bytes), path);
  });

  it("throws only tsbpf errors on mutated objects", () => {
    const runs = Number(process.env.FUZZ_RUNS ?? 1500);
    let rejected = 0;
    const started = Date.now();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: corpus.length - 1 }), mutation, (which, m) => {
        const bytes = new Uint8Array((corpus[which] as { bytes: Uint8Array }).bytes);
        for (const [at, v] of m.flips) bytes[at % bytes.length] = v;
        for (const [at, v] of m.headerFlips) bytes[at] = v;
        const input = m.cut === undefined ? bytes : bytes.subarray(0, m.cut % bytes.length);
        try {
          loadEverything(input);
        } catch (e) {
          if (!(e instanceof TsbpfError)) throw e;
          rejected++;
        }
      }),
      { numRuns: runs },
    );
    console.log(`# loader fuzz: ${runs} mutated objects, ${rejected} rejected with typed errors, ${Date.now() - started} ms`);
  });
});
