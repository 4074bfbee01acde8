/**
 * Where each register may point in the stack, before each instruction (a forward analysis the stack liveness
 * and the precision analysis share): a known offset from the frame pointer, "some stack offset", or not a
 * stack pointer; and the register's value where it is a small constant or a map (to size helper reads).
 */
import type { Instruction } from "../isa/instruction.js";
import * as O from "../isa/opcodes.js";
import { successors } from "./flow.js";

/**
 * Per register: a known fp offset, ANY_OFFSET (a stack pointer, offset unknown), or undefined (not one); in
 * slots 11-21, the register's value when it is a known small constant or map (to size helper reads).
 */
export type FpOffsets = (number | undefined)[];
export const CONST = 11;
/** A map constant is kept as MAP_BASE - its index: far below any small constant or stack offset. */
export const MAP_BASE = -(2 ** 40);
/** A stack pointer whose offset is not known. */
export const ANY_OFFSET = Number.NEGATIVE_INFINITY;

function mergeOffsets(a: FpOffsets, b: FpOffsets): FpOffsets {
  return a.map((x, r) => {
    const y = b[r];
    if (r >= CONST) return x === y ? x : undefined;
    if (x === undefined) return y;
    if (y === undefined || x === y) return x;
    return ANY_OFFSET;
  });
}

const sameOffsets = (a: FpOffsets, b: FpOffsets): boolean => a.every((x, r) => x === b[r]);

/** Forward: what each register may point to in the stack, before each slot. */
export function stackPointerOffsets(
  insns: readonly Instruction[],
  pcs: readonly number[],
  indexAt: Int32Array,
  slots: number,
): (FpOffsets | undefined)[] {
  const into: (FpOffsets | undefined)[] = new Array(slots).fill(undefined);
  const start: FpOffsets = new Array(22).fill(undefined);
  start[10] = 0;
  into[0] = start;
  // A stack pointer stored outside the stack (or at an unknown stack offset) may come back from any load;
  // one stored in a known stack slot, from loads of that slot.
  let spilled = false;
  const fpSlots = new Set<number>();
  let changed = true;
  const flow = (t: number, v: FpOffsets): void => {
    if (t < 0 || t >= slots || (indexAt[t] as number) < 0) return;
    const old = into[t];
    const merged = old ? mergeOffsets(old, v) : v;
    if (!old || !sameOffsets(old, merged)) {
      into[t] = merged;
      changed = true;
    }
  };
  while (changed) {
    changed = false;
    for (let n = 0; n < insns.length; n++) {
      const pc = pcs[n] as number;
      const before = into[pc];
      if (!before) continue;
      const i = insns[n] as Instruction;
      const r = before.slice();
      r[10] = 0;
      const cls = i.op & 7;
      const srcX = (i.op & O.SRC_X) !== 0;
      // Constants: mov imm, lddw of a map; anything else that writes a register forgets its constant.
      const writes = cls === O.CLASS_ALU || cls === O.CLASS_ALU64 || cls === O.CLASS_LDX || i.op === O.OP_LDDW;
      if (writes && i.dst <= 10) {
        const code = i.op & 0xf0;
        r[CONST + i.dst] =
          (cls === O.CLASS_ALU || cls === O.CLASS_ALU64) && code === O.ALU_MOV && !srcX
            ? i.imm
            : i.op === O.OP_LDDW && i.src === O.LDDW_MAP_IDX
              ? MAP_BASE - i.imm
              : cls === O.CLASS_ALU64 && code === O.ALU_MOV && srcX
                ? r[CONST + i.src]
                : undefined;
      }
      switch (cls) {
        case O.CLASS_ALU:
        case O.CLASS_ALU64: {
          const code = i.op & 0xf0;
          if (code === O.ALU_MOV) r[i.dst] = srcX && cls === O.CLASS_ALU64 ? r[i.src] : undefined;
          else if (r[i.dst] !== undefined) {
            const d = r[i.dst] as number;
            r[i.dst] =
              !srcX && cls === O.CLASS_ALU64 && (code === O.ALU_ADD || code === O.ALU_SUB)
                ? d + (code === O.ALU_ADD ? i.imm : -i.imm)
                : ANY_OFFSET;
          } else if (srcX && r[i.src] !== undefined) r[i.dst] = ANY_OFFSET;
          break;
        }
        case O.CLASS_LD:
          if (i.op === O.OP_LDDW && i.src === O.LDDW_FUNC) {
            // A callback's frame: any argument may point into a caller's stack.
            const callee: FpOffsets = new Array(22).fill(undefined);
            for (let k = 1; k <= 5; k++) callee[k] = ANY_OFFSET;
            callee[10] = 0;
            flow(pc + 1 + i.imm, callee);
          }
          if (i.op === O.OP_LDDW) r[i.dst] = undefined;
          else for (let k = 0; k <= 5; k++) r[k] = undefined;
          break;
        case O.CLASS_LDX: {
          // A load brings back a stack pointer only from where one was stored.
          const base = r[i.src];
          const fromStack = base !== undefined;
          const slot = base !== undefined && base !== ANY_OFFSET ? Math.floor((-(base + i.off) - 1) / 8) : -1;
          r[i.dst] = spilled || (fromStack && (slot < 0 || fpSlots.has(slot)) && fpSlots.size > 0) ? ANY_OFFSET : undefined;
          break;
        }
        case O.CLASS_STX:
          if ((i.op & 0xe0) === O.MODE_ATOMIC) {
            if (i.imm === O.ATOMIC_CMPXCHG) r[0] = spilled ? ANY_OFFSET : undefined;
            else if ((i.imm & O.ATOMIC_FETCH) !== 0) r[i.src] = spilled ? ANY_OFFSET : undefined;
          }
          if (r[i.src] !== undefined) {
            const base = r[i.dst];
            if (base !== undefined && base !== ANY_OFFSET) {
              const slot = Math.floor((-(base + i.off) - 1) / 8);
              if (!fpSlots.has(slot)) {
                fpSlots.add(slot);
                changed = true;
              }
            } else if (!spilled) {
              spilled = true;
              changed = true;
            }
          }
          break;
        default:
          if ((i.op & 0xf0) === O.JMP_CALL) {
            for (let k = 0; k <= 5; k++) r[CONST + k] = undefined;
            if (i.src === O.CALL_LOCAL && cls === O.CLASS_JMP) {
              // The callee's frame: its r1-r5 point where the caller's did (another frame: any offset).
              const callee: FpOffsets = new Array(22).fill(undefined);
              for (let k = 1; k <= 5; k++) if (r[k] !== undefined) callee[k] = ANY_OFFSET;
              callee[10] = 0;
              flow(pc + 1 + i.imm, callee);
            }
            for (let k = 0; k <= 5; k++) r[k] = undefined;
          }
      }
      for (const t of successors(i, pc)) flow(t, r);
    }
  }
  return into;
}
