// Load-time validation: each kind of structurally broken program is refused with a typed error naming the pc.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decode, parseHex } from "../src/isa/codec.js";
import { DecodeError, type ValidationCode, ValidationError } from "../src/isa/errors.js";
import { assemble } from "../src/isa/index.js";
import { insn } from "../src/isa/instruction.js";
import { validate } from "../src/isa/validate.js";
import { Machine } from "../src/vm/machine.js";

const rejects = (program: ReturnType<typeof assemble>, code: ValidationCode, pc: number): void => {
  assert.throws(
    () => validate(program),
    (e: unknown) => e instanceof ValidationError && e.code === code && e.pc === pc && e.message.endsWith(`at pc ${pc}`),
    `${code} at pc ${pc}`,
  );
};

describe("load-time validation", () => {
  it("rejects an unknown opcode", () => {
    rejects([insn({ op: 0xb7 }), insn({ op: 0x8f }), insn({ op: 0x95 })], "UNKNOWN_OPCODE", 1);
    rejects([insn({ op: 0x38 }), insn({ op: 0x95 })], "UNKNOWN_OPCODE", 0); // LD_ABS with DW size
  });

  it("rejects a bad register", () => {
    rejects([insn({ op: 0xbf, dst: 0, src: 11 }), insn({ op: 0x95 })], "BAD_REGISTER", 0);
    rejects([insn({ op: 0xb7 }), insn({ op: 0xb7, dst: 12 }), insn({ op: 0x95 })], "BAD_REGISTER", 1);
  });

  it("rejects r10 as a destination", () => {
    rejects(assemble("mov %r0, 0\nadd %r10, 8\nexit"), "R10_WRITE", 1);
    rejects(assemble("ldxdw %r10, [%r1]\nexit"), "R10_WRITE", 0);
    rejects(assemble("lock fetch add [%r1], %r10\nexit"), "R10_WRITE", 0);
    // r10 as a store's base register is fine
    validate(assemble("stdw [%r10-8], 1\nmov %r0, 0\nexit"));
  });

  it("rejects jumps outside the program and into the middle of lddw", () => {
    rejects(assemble("ja +5\nexit"), "JUMP_OUT_OF_RANGE", 0);
    rejects(assemble("mov %r0, 0\njeq %r0, 0, -3\nexit"), "JUMP_OUT_OF_RANGE", 1);
    rejects(assemble("ja +1\nlddw %r0, 1\nexit"), "JUMP_INTO_LDDW", 0);
    rejects(assemble("ja32 +1\nlddw %r0, 1\nexit"), "JUMP_INTO_LDDW", 0);
  });

  it("rejects an incomplete lddw", () => {
    const bytes = parseHex("b7 00 00 00 00 00 00 00 18 00 00 00 01 00 00 00");
    assert.throws(
      () => decode(bytes),
      (e: unknown) => e instanceof DecodeError && e.code === "INCOMPLETE_LDDW" && e.pc === 1 && /at pc 1$/.test(e.message),
    );
    assert.throws(() => new Machine().load(bytes), DecodeError);
  });

  it("rejects a call to an unknown local target", () => {
    rejects([insn({ op: 0x85, src: 1, imm: 10 }), insn({ op: 0x95 })], "BAD_CALL_TARGET", 0);
    rejects([insn({ op: 0x85, src: 1, imm: -5 }), insn({ op: 0x95 })], "BAD_CALL_TARGET", 0);
    rejects(assemble("call local +1\nlddw %r0, 1\nexit"), "BAD_CALL_TARGET", 0);
  });

  it("rejects falling off the end of a program or a subprogram", () => {
    rejects(assemble("mov %r0, 0"), "FALL_OFF_END", 0);
    rejects(assemble("mov %r0, 0\njeq %r0, 0, -2"), "FALL_OFF_END", 1);
    rejects(assemble("call local f\nexit\nf:\nmov %r0, 1"), "FALL_OFF_END", 2);
    rejects(assemble("mov %r0, 0\ncall local f\nmov %r0, 1\nf:\nexit"), "FALL_OFF_END", 2);
  });

  it("rejects jumps between subprograms", () => {
    rejects(assemble("call local f\nja g\nexit\nf:\ng:\nmov %r0, 1\nexit"), "JUMP_OUT_OF_RANGE", 1);
  });

  it("rejects nonzero reserved fields and bad field values", () => {
    rejects([insn({ op: 0x95, imm: 1 })], "RESERVED_FIELD", 0);
    rejects([insn({ op: 0xdc, dst: 0, imm: 24 }), insn({ op: 0x95 })], "BAD_FIELD", 0);
    rejects([insn({ op: 0xdb, dst: 10, src: 1, off: -8, imm: 0x02 }), insn({ op: 0x95 })], "BAD_FIELD", 0);
    rejects([insn({ op: 0xbf, dst: 0, src: 1, off: 4 }), insn({ op: 0x95 })], "BAD_FIELD", 0);
    rejects([insn({ op: 0x3f, dst: 0, src: 1, off: 2 }), insn({ op: 0x95 })], "BAD_FIELD", 0);
  });

  it("rejects an empty program", () => {
    rejects([], "EMPTY_PROGRAM", 0);
  });

  it("rejects calls to helpers the machine does not have", () => {
    assert.throws(
      () => new Machine().load(assemble("call 7\nexit")),
      (e: unknown) => e instanceof ValidationError && e.code === "UNKNOWN_HELPER" && e.pc === 0,
    );
  });

  it("returns the slot layout and subprograms of a valid program", () => {
    const v = validate(assemble("lddw %r0, 1\ncall local f\nexit\nf:\nmov %r0, 2\nexit"));
    assert.deepEqual(v.pcs, [0, 2, 3, 4, 5]);
    assert.equal(v.slots, 6);
    assert.deepEqual(v.subprograms, [0, 4]);
  });
});
