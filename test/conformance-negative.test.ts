// The suite's negative tests: each must make a conforming runner report failure. Assembler errors name
// the line; programs with nonzero reserved fields are refused by the plugin with the pc.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { toHex } from "../src/isa/codec.js";
import { AsmError } from "../src/isa/errors.js";
import { assemble } from "../src/isa/index.js";
import { CONFORMANCE_HELPERS } from "../src/vm/conformance-helpers.js";
import { Machine } from "../src/vm/machine.js";
import { tsbpf } from "./support/cli.js";
import { conformanceCases } from "./support/conformance.js";
import { sharedMissing } from "./support/paths.js";

const skip = sharedMissing();

// The ten files whose assembly text is malformed; the error is in each one's first instruction, and the
// messages are those of bpf_conformance's own assembler (raw/tests.jsonl, asm_error).
const ASSEMBLER_ERRORS: Record<string, RegExp> = {
  "invalid_imm32_dec_range.data": /Immediate out of 32-bit range: 2147483648/,
  "invalid_imm32_hex_range.data": /Immediate out of 32-bit range: 0x100000000/,
  "invalid_label.data": /Invalid label: NOT_A_LABEL/,
  "invalid_lock.data": /Invalid number of operands for lock/,
  "invalid_lock2.data": /Invalid number of operands for lock/,
  "invalid_mnemonic.data": /Invalid mnemonic: ldxq/,
  "invalid_offset.data": /Failed to decode register and offset: %r1/,
  "invalid_offset_range.data": /Offset out of 16-bit range/,
  "invalid_operand_count.data": /Invalid number of operands for mnemonic: lddw/,
  "invalid_register.data": /Invalid register: %r50/,
};

describe("bpf_conformance negative tests", { skip }, () => {
  const cases = skip ? [] : conformanceCases("negative");
  const byName = new Map(cases.map((c) => [c.name, c]));

  for (const [name, message] of Object.entries(ASSEMBLER_ERRORS)) {
    it(`rejects ${name} with a line-numbered message`, () => {
      const asm = byName.get(name)?.data.asm;
      assert.ok(asm !== undefined);
      const line = asm.split("\n").findIndex((l) => l.trim() !== "" && !l.trim().startsWith("#")) + 1;
      assert.throws(
        () => assemble(asm),
        (e: unknown) => e instanceof AsmError && e.line === line && message.test(e.message) && e.message.startsWith(`line ${line}:`),
      );
    });
  }

  it("refuses every program with a nonzero reserved field, through the plugin, naming the pc", () => {
    const unused = cases.filter((c) => c.name.startsWith("unused-"));
    assert.ok(unused.length >= 40, `found ${unused.length} unused-field tests`);
    for (const c of unused) {
      const r = tsbpf(["plugin"], toHex(c.data.raw ?? new Uint8Array()));
      assert.notEqual(r.status, 0, c.name);
      assert.match(r.stderr, /at pc 0/, c.name);
    }
  });

  it("fails the remaining negative tests (wrong expectations, empty programs)", () => {
    const run = (name: string): bigint => {
      const c = byName.get(name);
      return new Machine()
        .load(assemble(c?.data.asm ?? ""), { helpers: CONFORMANCE_HELPERS })
        .run({ input: c?.data.mem ?? new Uint8Array() }).r0;
    };
    // error.data expects an error, but `or %r0, %r10` is a valid program: the run succeeds.
    assert.doesNotThrow(() => run("error.data"));
    // incorrect_return_value_high_bits.data expects a wrong value.
    const c = byName.get("incorrect_return_value_high_bits.data");
    assert.notEqual(run("incorrect_return_value_high_bits.data"), c?.data.result);
    assert.equal(run("incorrect_return_value_high_bits.data"), 0x8877665544332211n);
    for (const empty of ["empty.data", "empty_instructions.data", "invalid_unknown_directive.data"]) {
      assert.throws(() => assemble(byName.get(empty)?.data.asm ?? ""), AsmError, empty);
    }
  });
});
