/** Where control goes from an instruction: the edges every analysis of the program's shape follows. */
import type { Instruction } from "../isa/instruction.js";
import * as O from "../isa/opcodes.js";

export const isJmpClass = (op: number): boolean => (op & 7) === O.CLASS_JMP || (op & 7) === O.CLASS_JMP32;

/** Successor slots of the instruction at `pc` (calls to helpers fall through; local calls also go to the callee). */
export function successors(i: Instruction, pc: number): number[] {
  const next = pc + (i.op === O.OP_LDDW ? 2 : 1);
  if (!isJmpClass(i.op)) return [next];
  const code = i.op & 0xf0;
  if (code === O.JMP_EXIT) return [];
  if (code === O.JMP_CALL) return [next];
  if (code === O.JMP_JA) return [pc + 1 + ((i.op & 7) === O.CLASS_JMP32 ? i.imm : i.off)];
  return [next, pc + 1 + i.off];
}

/** The successors that are instruction starts inside the program (what the dataflow analyses follow). */
export function validSuccessors(i: Instruction, pc: number, slots: number, indexAt: Int32Array): number[] {
  return successors(i, pc).filter((t) => t >= 0 && t < slots && (indexAt[t] as number) >= 0);
}
