/**
 * Which registers may hold copies of one scalar before each instruction (a static stand-in for the
 * kernel's scalar ids): a move links its destination to its source, a spill links the stack to the
 * register, a fill links the register to the stack, and adding a constant keeps a link (the kernel keeps
 * the id with an offset); any other write breaks the destination's links. A conditional jump refines
 * every linked copy at once (sync_linked_regs), so the precision analysis treats the copies as one.
 */
import type { Instruction } from "../isa/instruction.js";
import * as O from "../isa/opcodes.js";
import { validSuccessors } from "./flow.js";
import { CONST, type FpOffsets } from "./stack-pointers.js";

/** The node standing for every stack slot a scalar was spilled to. */
export const STACK_NODE = 11;
export const LINK_NODES = 12;
const NODES = LINK_NODES;

/**
 * Per slot, NODES words: bit m of word n is set when node n (a register, or STACK_NODE) may share a scalar
 * with node m before the instruction.
 */
export type Links = Uint16Array;

export function linkedScalars(
  insns: readonly Instruction[],
  pcs: readonly number[],
  indexAt: Int32Array,
  slots: number,
  fp: readonly (FpOffsets | undefined)[],
): Links {
  const links = new Uint16Array(slots * NODES);
  const row = new Uint16Array(NODES);
  const kill = (a: number): void => {
    for (let n = 0; n < NODES; n++) row[n] = (row[n] as number) & ~(1 << a);
    row[a] = 0;
  };
  // a becomes a copy of b: linked to b and to everything b is linked to.
  const copy = (a: number, b: number): void => {
    if (a === b) return;
    const others = (row[b] as number) & ~(1 << a);
    kill(a);
    row[a] = others | (1 << b);
    for (let n = 0; n < NODES; n++) if ((row[a] as number) & (1 << n)) row[n] = (row[n] as number) | (1 << a);
  };
  // The stack node accumulates: a spilled copy stays linked wherever it may be filled from.
  const spill = (b: number): void => {
    const s = STACK_NODE;
    const joined = (row[b] as number) | (1 << b);
    row[s] = ((row[s] as number) | joined) & ~(1 << s);
    for (let n = 0; n < NODES; n++) if (joined & (1 << n)) row[n] = (row[n] as number) | (1 << s);
  };
  const onStack = (pc: number, reg: number): boolean => reg === O.REG_FP || fp[pc]?.[reg] !== undefined;
  const work: number[] = [0];
  const queued = new Uint8Array(slots);
  const reached = new Uint8Array(slots);
  // Every function's entry starts with no links (the callee's registers are its own).
  insns.forEach((i, n) => {
    const pc = pcs[n] as number;
    if ((i.op === O.OP_CALL && i.src === O.CALL_LOCAL) || (i.op === O.OP_LDDW && i.src === O.LDDW_FUNC)) {
      const t = pc + 1 + i.imm;
      if (t >= 0 && t < slots && !reached[t]) {
        reached[t] = 1;
        work.push(t);
      }
    }
  });
  reached[0] = 1;
  for (const t of work) queued[t] = 1;
  while (work.length > 0) {
    const pc = work.pop() as number;
    queued[pc] = 0;
    const n = indexAt[pc] as number;
    if (n < 0) continue;
    const i = insns[n] as Instruction;
    for (let k = 0; k < NODES; k++) row[k] = links[pc * NODES + k] as number;
    const cls = i.op & 7;
    const code = i.op & 0xf0;
    if (cls === O.CLASS_ALU || cls === O.CLASS_ALU64) {
      const srcX = (i.op & O.SRC_X) !== 0;
      // Stack pointers and known constants get no id (assign_scalar_id_before_mov): their copies are not linked.
      const plain = fp[pc]?.[i.src] === undefined && fp[pc]?.[CONST + i.src] === undefined;
      if (code === O.ALU_MOV && srcX && i.src <= 10 && plain) copy(i.dst, i.src);
      // Only a 64-bit add of a non-negative constant keeps the id (with the constant as its offset).
      else if (!(code === O.ALU_ADD && !srcX && cls === O.CLASS_ALU64 && i.imm >= 0)) kill(i.dst);
    } else if (cls === O.CLASS_LDX) {
      // A fill of a whole spilled register is that register again; a narrower one is a new value.
      const fromStack = onStack(pc, i.src) && (i.op & 0x18) === O.SIZE_DW;
      kill(i.dst);
      if (fromStack) copy(i.dst, STACK_NODE);
    } else if (cls === O.CLASS_STX) {
      if ((i.op & 0xe0) === O.MODE_ATOMIC) {
        if ((i.imm & O.ATOMIC_FETCH) !== 0) kill(i.imm === O.ATOMIC_CMPXCHG ? 0 : i.src);
      } else if (onStack(pc, i.dst) && i.src <= 10 && (i.op & 0x18) === O.SIZE_DW) spill(i.src);
    } else if (cls === O.CLASS_LD) {
      if (i.op === O.OP_LDDW) kill(i.dst);
      else for (let r = 0; r <= 5; r++) kill(r);
    } else if (code === O.JMP_CALL && cls === O.CLASS_JMP) {
      for (let r = 0; r <= 5; r++) kill(r);
    }
    for (const t of validSuccessors(i, pc, slots, indexAt)) {
      let grew = !reached[t];
      reached[t] = 1;
      for (let k = 0; k < NODES; k++) {
        const at = t * NODES + k;
        const merged = (links[at] as number) | (row[k] as number);
        if (merged !== links[at]) {
          links[at] = merged;
          grew = true;
        }
      }
      if (grew && !queued[t]) {
        queued[t] = 1;
        work.push(t);
      }
    }
  }
  return links;
}
