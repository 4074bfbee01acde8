/**
 * The logical instruction. One `Instruction` is one eBPF instruction; lddw is a single instruction that
 * occupies two 8-byte slots (its second slot's imm is `imm2`). Raw slots exist only at the edges
 * (see codec.ts). Program counters, jump and call offsets count *slots*, as the kernel and llvm do.
 */
import { CLASS_JMP, CLASS_JMP32, JMP_CALL, JMP_EXIT, JMP_JA, OP_LDDW, opClass, opCode } from "./opcodes.js";

export interface Instruction {
  /** The opcode byte. */
  readonly op: number;
  /** Destination register field, 0..15 (values above 10 exist only in invalid programs). */
  readonly dst: number;
  /** Source register field, 0..15; for lddw and calls it selects a pseudo kind. */
  readonly src: number;
  /** Signed 16-bit offset. */
  readonly off: number;
  /** Signed 32-bit immediate. */
  readonly imm: number;
  /** lddw only: the signed 32-bit imm of the second slot (high half of the constant, or a value offset). */
  readonly imm2?: number;
}

/** A slot index into a program: what "pc N" means in every message. */
export type Pc = number;

export function isLddw(insn: Instruction): boolean {
  return insn.op === OP_LDDW;
}

/** Slots an instruction occupies (2 for lddw, else 1). */
export function slotCount(insn: Instruction): 1 | 2 {
  return insn.op === OP_LDDW ? 2 : 1;
}

/** Builds an instruction, filling absent fields with zero. */
export function insn(fields: Partial<Instruction> & { op: number }): Instruction {
  const out: Instruction = {
    op: fields.op & 0xff,
    dst: fields.dst ?? 0,
    src: fields.src ?? 0,
    off: fields.off ?? 0,
    imm: fields.imm ?? 0,
  };
  return fields.op === OP_LDDW ? { ...out, imm2: fields.imm2 ?? 0 } : out;
}

/** The 64-bit constant of an lddw, unsigned, as a BigInt (for tools, not for hot paths). */
export function lddwValue(insn: Instruction): bigint {
  return (BigInt((insn.imm2 ?? 0) >>> 0) << 32n) | BigInt(insn.imm >>> 0);
}

/** Splits a 64-bit constant into the (imm, imm2) pair of an lddw. */
export function splitImm64(value: bigint): { imm: number; imm2: number } {
  const v = BigInt.asUintN(64, value);
  return { imm: Number(BigInt.asIntN(32, v)), imm2: Number(BigInt.asIntN(32, v >> 32n)) };
}

/** Slot index of every instruction, and the total slot count. */
export function slotOffsets(insns: readonly Instruction[]): { pcs: Pc[]; slots: number } {
  const pcs: Pc[] = [];
  let pc = 0;
  for (const i of insns) {
    pcs.push(pc);
    pc += slotCount(i);
  }
  return { pcs, slots: pc };
}

/** Whether the instruction is a jump whose target is pc + 1 + offset (conditional jumps, ja, gotol). */
export function isJump(insn: Instruction): boolean {
  const cls = opClass(insn.op);
  if (cls !== CLASS_JMP && cls !== CLASS_JMP32) return false;
  const code = opCode(insn.op);
  return code !== JMP_CALL && code !== JMP_EXIT;
}

/** The relative slot offset of a jump: gotol (JMP32|JA) keeps it in imm, all others in off. */
export function jumpOffset(insn: Instruction): number {
  return opClass(insn.op) === CLASS_JMP32 && opCode(insn.op) === JMP_JA ? insn.imm : insn.off;
}
