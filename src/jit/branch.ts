/**
 * The condition of a conditional jump as the i32 wasm branches on: JMP compares 64 bits (immediates
 * sign-extended), JMP32 the low 32 bits; jset tests the AND of its operands.
 */
import type { Instruction } from "../isa/instruction.js";
import { type Emit, src32, src64 } from "./alu.js";
import { OP } from "./wasm.js";

const CMP64: Record<number, number> = {
  16: OP.i64Eq,
  32: OP.i64GtU,
  48: OP.i64GeU,
  80: OP.i64Ne,
  96: OP.i64GtS,
  112: OP.i64GeS,
  160: OP.i64LtU,
  176: OP.i64LeU,
  192: OP.i64LtS,
  208: OP.i64LeS,
};

const CMP32: Record<number, number> = {
  16: OP.i32Eq,
  32: OP.i32GtU,
  48: OP.i32GeU,
  80: OP.i32Ne,
  96: OP.i32GtS,
  112: OP.i32GeS,
  160: OP.i32LtU,
  176: OP.i32LeU,
  192: OP.i32LtS,
  208: OP.i32LeS,
};

/** Pushes the jump's condition (i32: taken when non-zero). */
export function condition(e: Emit, ins: Instruction): void {
  const c = e.c;
  const wide = (ins.op & 7) === 5;
  const code = ins.op & 0xf0;
  c.get(e.reg(ins.dst));
  if (wide) {
    src64(e, ins);
  } else {
    c.op(OP.i32WrapI64);
    src32(e, ins);
  }
  if (code === 0x40) {
    // jset
    c.op(wide ? OP.i64And : OP.i32And);
    if (wide) {
      c.op(OP.i64Eqz);
      c.op(OP.i32Eqz);
    }
  } else {
    const cmp = (wide ? CMP64 : CMP32)[code];
    if (cmp === undefined) throw new Error(`JIT: jump op 0x${ins.op.toString(16)}`);
    c.op(cmp);
  }
}
