/**
 * Which stack slots a path may still read before overwriting them (the stack half of the kernel's
 * liveness): a slot nothing reads again holds nothing that matters, so pruning skips it. Stack pointers are
 * followed statically: each register's known offset from the frame pointer (or "some stack offset"); a read
 * through a pointer whose offset is known reads slots from there up, through an unknown one any slot.
 */
import type { Instruction } from "../isa/instruction.js";
import * as O from "../isa/opcodes.js";
import { validSuccessors } from "./flow.js";
import { HELPER_PROTOS, helperArgs, SYNC_CALLBACK_HELPERS } from "./helpers.js";
import { ANY_OFFSET, CONST, type FpOffsets, MAP_BASE } from "./stack-pointers.js";

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
  fp: readonly (FpOffsets | undefined)[],
  maps: readonly { keySize: number; valueSize: number }[] = [],
): Uint32Array {
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
        // A callee, or a helper's callback, may read any of the caller's stack through its arguments.
        if (i.src === O.CALL_LOCAL || SYNC_CALLBACK_HELPERS.has(i.imm)) {
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
