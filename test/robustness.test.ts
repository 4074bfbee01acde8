// Bad input never crashes: decoding, validating, running and assembling throw only tsbpf's own typed
// errors (with a location), whatever the bytes or text.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { TsbpfError } from "../src/errors.js";
import { VmError } from "../src/exec/errors.js";
import { decode, encode } from "../src/isa/codec.js";
import { AsmError, IsaError } from "../src/isa/errors.js";
import { assemble } from "../src/isa/index.js";
import { Machine } from "../src/vm/machine.js";
import { instructionList, runnableProgram } from "./support/gen.js";

const machine = new Machine();
const input = new Uint8Array(64);

/** Loads and runs; returns what happened, failing the property on any non-tsbpf exception. */
function attempt(program: Uint8Array): "ran" | "rejected" | "faulted" {
  let loaded: ReturnType<Machine["load"]>;
  try {
    loaded = machine.load(program, { budget: 2000 });
  } catch (e) {
    assert.ok(e instanceof IsaError, `load threw ${String(e)}`);
    assert.ok(e.pc !== undefined || e.byteOffset !== undefined, `no location in: ${e.message}`);
    return "rejected";
  }
  try {
    loaded.run({ input });
    return "ran";
  } catch (e) {
    assert.ok(e instanceof VmError, `run threw ${String(e)}`);
    assert.match(e.message, /at pc \d+/);
    return "faulted";
  }
}

describe("robustness", () => {
  it("random bytes are rejected or run, never crash", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 160 }), (bytes) => {
        attempt(bytes);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 3000) },
    );
  });

  it("random instruction streams are rejected or run, never crash", () => {
    fc.assert(
      fc.property(instructionList, (insns) => {
        attempt(encode(insns));
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 3000) },
    );
  });

  it("valid programs with arbitrary jumps run or fault with a pc, never crash", () => {
    const seen = { ran: 0, rejected: 0, faulted: 0 };
    fc.assert(
      fc.property(runnableProgram, (insns) => {
        seen[attempt(encode(insns))]++;
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 3000) },
    );
    // The generator must reach execution, not just validation errors.
    assert.equal(seen.rejected, 0, JSON.stringify(seen));
    assert.ok(seen.ran > 300, JSON.stringify(seen));
  });

  it("random text fails to assemble with a line-numbered AsmError, never a crash", () => {
    const line = fc.stringMatching(/^[a-z0-9%,+\-[\]() *=<>&|^#:.xsuw]{0,30}$/);
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 6 }),
        fc.constantFrom("conformance", "llvm") as fc.Arbitrary<"conformance" | "llvm">,
        (lines, dialect) => {
          try {
            assemble(lines.join("\n"), dialect);
          } catch (e) {
            assert.ok(e instanceof AsmError, `threw ${String(e)}`);
            assert.match(e.message, /^line \d+: /);
          }
        },
      ),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 5000) },
    );
  });

  it("decoding random bytes throws only DecodeErrors", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        try {
          decode(bytes);
        } catch (e) {
          assert.ok(e instanceof TsbpfError);
        }
      }),
    );
  });
});
