/**
 * Which stack slots a path may still read before overwriting them (the stack half of the kernel's
 * liveness): a slot nothing reads again holds nothing that matters, so pruning skips it. Stack pointers are
 * followed statically: each register's known offset from the frame pointer (or "some stack offset"); a read
 * through a pointer whose offset is known reads slots from there up, through an unknown one any slot.
 */
import type { Instruction } from "../isa/instruction.js";
import * as O from "../isa/opcodes.js";
import { successors, validSuccessors } from "./cfg.js";
import { HELPER_PROTOS } from "./helpers.js";
import { helperArgs } from "./precision.js";

/**
 * Per register: a known fp offset, ANY_OFFSET (a stack pointer, offset unknown), or undefined (not one); in
 * slots 11-21, the register's value when it is a known small constant or map (to size helper reads).
 */
type FpOffsets = (number | undefined)[];
const CONST = 11;
/** Map constants are kept as -(index + 1) - 2^40, far from any small constant. */
const MAP_BASE = -(2 ** 40);
const ANY_OFFSET = Number.NEGATIVE_INFINITY;

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
function stackPointers(
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

/** Bits for the slots an access of `size` bytes at fp offset `at` touches (two 32-bit words). */
function slotsOf(at: number, size: number): [number, number] {
  let w0 = 0;
  let w1 = 0;
  const first = Math.max(0, Math.floor(-(at + size) / 8));
  const last = Math.min(63, Math.floor((-at - 1) / 8));
  for (let k = first; k <= last; k++) {
    if (k < 32) w0 |= 1 << k;
    else w1 |= 1 << (k - 32);
  }
  return [w0 >>> 0, w1 >>> 0];
}

/** Slots from fp offset `at` up to the frame pointer: what a read of unknown size starting there may touch. */
const slotsFrom = (at: number): [number, number] => (at === ANY_OFFSET || at < -512 ? [0xffffffff, 0xffffffff] : slotsOf(at, -at));

/** Live stack slots per instruction slot (two words each). */
export function stackLiveness(
  insns: readonly Instruction[],
  pcs: readonly number[],
  indexAt: Int32Array,
  slots: number,
  maps: readonly { keySize: number; valueSize: number }[] = [],
): Uint32Array {
  const fp = stackPointers(insns, pcs, indexAt, slots);
  const live = new Uint32Array(slots * 2);
  let changed = true;
  while (changed) {
    changed = false;
    for (let n = insns.length - 1; n >= 0; n--) {
      const i = insns[n] as Instruction;
      const pc = pcs[n] as number;
      const regs = fp[pc];
      if (!regs) continue;
      let w0 = 0;
      let w1 = 0;
      for (const t of validSuccessors(i, pc, slots, indexAt)) {
        w0 |= live[t * 2] as number;
        w1 |= live[t * 2 + 1] as number;
      }
      const read = (at: number | undefined, size?: number): void => {
        if (at === undefined) return;
        const [a, b] = size === undefined || at === ANY_OFFSET ? slotsFrom(at) : slotsOf(at, size);
        w0 |= a;
        w1 |= b;
      };
      const cls = i.op & 7;
      const size = [4, 2, 1, 8][(i.op >> 3) & 3] as number;
      if (cls === O.CLASS_LDX) read(regs[i.src] === undefined ? undefined : (regs[i.src] as number) + i.off, size);
      else if (cls === O.CLASS_STX && (i.op & 0xe0) === O.MODE_ATOMIC)
        read(regs[i.dst] === undefined ? undefined : (regs[i.dst] as number) + i.off, size);
      else if ((cls === O.CLASS_STX || cls === O.CLASS_ST) && size === 8 && regs[i.dst] !== undefined && regs[i.dst] !== ANY_OFFSET) {
        const at = (regs[i.dst] as number) + i.off;
        if (at % 8 === 0 && at < 0 && at >= -512) {
          const [a, b] = slotsOf(at, 8);
          w0 &= ~a;
          w1 &= ~b;
        }
      } else if (i.op === O.OP_CALL) {
        if (i.src === O.CALL_LOCAL) {
          w0 = 0xffffffff;
          w1 = 0xffffffff;
        } else {
          const proto = HELPER_PROTOS.get(i.imm);
          const { reads } = helperArgs(i.imm);
          const mapOf = (reg: number): { keySize: number; valueSize: number } | undefined => {
            const v = regs[CONST + reg];
            return v !== undefined && v <= MAP_BASE ? maps[MAP_BASE - v] : undefined;
          };
          for (let k = 1; k <= 5; k++) {
            if ((reads & (1 << k)) === 0) continue;
            // The size a helper reads through a stack pointer, where the program makes it known.
            const kind = proto?.args[k - 1];
            const next = proto?.args[k];
            const sizeReg = regs[CONST + k + 1];
            let size: number | undefined;
            if ((kind === "key" || kind === "value") && mapOf(1)) size = kind === "key" ? mapOf(1)?.keySize : mapOf(1)?.valueSize;
            else if ((next === "size" || next === "size0") && sizeReg !== undefined && sizeReg >= 0 && sizeReg <= 512) size = sizeReg;
            else if (kind === "long") size = 8;
            read(regs[k], size);
          }
        }
      }
      w0 >>>= 0;
      w1 >>>= 0;
      if (w0 !== live[pc * 2] || w1 !== live[pc * 2 + 1]) {
        live[pc * 2] = w0;
        live[pc * 2 + 1] = w1;
        changed = true;
      }
    }
  }
  return live;
}
