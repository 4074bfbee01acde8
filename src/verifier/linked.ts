/**
 * Which registers may hold copies of one scalar before each instruction (a static stand-in for the
 * kernel's scalar ids): a move links its destination to its source, a whole-register spill puts a copy in
 * its stack slot and a fill of that slot takes it back out, and adding a non-negative constant keeps a link
 * (the kernel keeps the id with an offset); any other write breaks the destination's links. A conditional
 * jump refines every linked copy at once (sync_linked_regs), so the precision analysis treats the copies as
 * one. Slots remember which registers their copy is linked to, not each other.
 */
import type { Instruction } from "../isa/instruction.js";
import * as O from "../isa/opcodes.js";
import { validSuccessors } from "./flow.js";
import { ANY_OFFSET, CONST, type FpOffsets } from "./stack-pointers.js";

const REGS = 11;
const SLOTS = 64;

/**
 * Per instruction slot, `stride` words: one row per register, then one per stack slot the program uses (fp-8
 * is slot 0); bit m of a row is set when that register or slot may share a scalar with register m before the
 * instruction.
 */
export interface Links {
  readonly rows: Uint16Array;
  readonly stride: number;
}

export function linkedScalars(
  insns: readonly Instruction[],
  pcs: readonly number[],
  indexAt: Int32Array,
  slots: number,
  fp: readonly (FpOffsets | undefined)[],
): Links {
  const stackOffset = (pc: number, reg: number, off: number): number | undefined => {
    const base = reg === O.REG_FP ? 0 : fp[pc]?.[reg];
    return base === undefined || base === ANY_OFFSET ? base : base + off;
  };
  // Rows only for the slots some access reaches at a known offset: most programs use a few.
  let used = 0;
  insns.forEach((i, n) => {
    const cls = i.op & 7;
    if (cls !== O.CLASS_LDX && cls !== O.CLASS_STX && cls !== O.CLASS_ST) return;
    const at = stackOffset(pcs[n] as number, cls === O.CLASS_LDX ? i.src : i.dst, i.off);
    if (at !== undefined && at !== ANY_OFFSET && at < 0 && at >= -512) used = Math.max(used, Math.floor((-at - 1) / 8) + 1);
  });
  const NODES = REGS + Math.min(used, SLOTS);
  const links = new Uint16Array(slots * NODES);
  const row = new Uint16Array(NODES);
  const kill = (a: number): void => {
    for (let n = 0; n < NODES; n++) row[n] = (row[n] as number) & ~(1 << a);
    row[a] = 0;
  };
  // Register a takes a value that `linked` (registers) share: it becomes linked to them and they to it.
  const copy = (a: number, linked: number): void => {
    kill(a);
    const others = linked & ~(1 << a);
    row[a] = others;
    for (let n = 0; n < REGS; n++) if (others & (1 << n)) row[n] = (row[n] as number) | (1 << a);
    for (let k = REGS; k < NODES; k++) if ((row[k] as number) & others) row[k] = (row[k] as number) | (1 << a);
  };
  // The 8-byte slot at fp offset `at`, when it is one.
  const slotAt = (at: number | undefined): number | undefined => {
    if (at === undefined || at === ANY_OFFSET || at >= 0 || at < -512 || at % 8 !== 0) return undefined;
    const node = REGS + (-at / 8 - 1);
    return node < NODES ? node : undefined;
  };
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
    const whole = (i.op & 0x18) === O.SIZE_DW;
    if (cls === O.CLASS_ALU || cls === O.CLASS_ALU64) {
      const srcX = (i.op & O.SRC_X) !== 0;
      // Stack pointers and known constants get no id (assign_scalar_id_before_mov): their copies are not linked.
      const plain = fp[pc]?.[i.src] === undefined && fp[pc]?.[CONST + i.src] === undefined;
      if (code === O.ALU_MOV && srcX && i.src < REGS && i.src !== i.dst && plain) copy(i.dst, (row[i.src] as number) | (1 << i.src));
      // Only a 64-bit add of a non-negative constant keeps the id (with the constant as its offset).
      else if (!(code === O.ALU_ADD && !srcX && cls === O.CLASS_ALU64 && i.imm >= 0)) kill(i.dst);
    } else if (cls === O.CLASS_LDX) {
      // A fill of a whole spilled register is that register again; a narrower one is a new value.
      const slot = whole ? slotAt(stackOffset(pc, i.src, i.off)) : undefined;
      const linked = slot === undefined ? 0 : (row[slot] as number);
      kill(i.dst);
      if (linked) copy(i.dst, linked);
      // The slot's copy is linked to the register it was filled into.
      if (slot !== undefined) row[slot] = (row[slot] as number) | (1 << i.dst);
    } else if (cls === O.CLASS_STX || cls === O.CLASS_ST) {
      const at = stackOffset(pc, i.dst, i.off);
      const atomic = cls === O.CLASS_STX && (i.op & 0xe0) === O.MODE_ATOMIC;
      if (atomic && (i.imm & O.ATOMIC_FETCH) !== 0) kill(i.imm === O.ATOMIC_CMPXCHG ? 0 : i.src);
      if (at === ANY_OFFSET) {
        // Some slot changed: none of them is known to hold its copy any more.
        for (let k = REGS; k < NODES; k++) row[k] = 0;
      } else if (at !== undefined) {
        // Every slot the store touches loses its copy; a whole-register spill puts one there.
        const first = Math.floor((-at - 1) / 8);
        const size = [4, 2, 1, 8][(i.op >> 3) & 3] as number;
        const last = Math.floor((-(at + size - 1) - 1) / 8);
        for (let s = Math.max(0, last); s <= first && REGS + s < NODES; s++) row[REGS + s] = 0;
        const slot = slotAt(at);
        if (slot !== undefined && cls === O.CLASS_STX && !atomic && whole && i.src < REGS)
          row[slot] = ((row[i.src] as number) | (1 << i.src)) & 0x7ff;
      }
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
  return { rows: links, stride: NODES };
}
