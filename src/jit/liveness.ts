/**
 * Which registers each subprogram's wasm function must take and give back. The machine's call model is the
 * interpreter's (the callee sees all of the caller's r0-r9, the caller gets back the callee's r0-r5), but a
 * register the callee never reads before writing it need not be passed, and r1-r5 need not come back unless
 * some caller reads them after the call before writing them. Dropping exactly those is unobservable, and it
 * makes a bpf2bpf call a wasm call with a few parameters and one result instead of thirteen and seven.
 *
 * A backward liveness dataflow per function over r0-r9 (r10 is always there), iterated with the call graph
 * to a fixed point: a call reads what its callee's entry reads; an exit reads r0 and what the function's
 * callers need back.
 */
import type { Instruction } from "../isa/instruction.js";

export interface FunctionRegisters {
  /** Bit r set: r_r (0-9) is read before written from the function's entry, so it is a parameter. */
  readonly params: number;
  /** Bit r set (1-5): a caller reads r_r after calling this function, so it is returned after r0. */
  readonly returns: number;
}

const R1_TO_R5 = 0b111110;

/** The registers (0-9) whose bits are set in a mask, ascending. */
export const registersOf = (mask: number): number[] => Array.from({ length: 10 }, (_, r) => r).filter((r) => mask & (1 << r));
const ALL = 0x3ff;

/**
 * `funcStarts`: the first instruction of each function, ascending; `target(i, rel)`: the instruction a jump
 * or call at i with relative offset rel lands on.
 */
export function functionRegisters(
  insns: readonly Instruction[],
  funcStarts: readonly number[],
  target: (i: number, rel: number) => number,
): FunctionRegisters[] {
  const functionAt = new Map(funcStarts.map((start, k) => [start, k]));
  const params = new Array<number>(funcStarts.length).fill(0);
  const returns = new Array<number>(funcStarts.length).fill(0);
  const bit = (r: number): number => (r < 10 ? 1 << r : 0);
  for (let changed = true; changed; ) {
    changed = false;
    funcStarts.forEach((first, k) => {
      const end = funcStarts[k + 1] ?? insns.length;
      const liveIn = new Int32Array(end - first + 1);
      const at = (i: number): number => (i >= first && i < end ? (liveIn[i - first] as number) : 0);
      for (let stable = false; !stable; ) {
        stable = true;
        for (let i = end - 1; i >= first; i--) {
          const ins = insns[i] as Instruction;
          const o = ins.op;
          const cls = o & 7;
          let uses = 0;
          let defs = 0;
          let out = 0;
          const next = (): void => {
            out |= at(i + 1);
          };
          if (cls === 7 || cls === 4) {
            const code = o & 0xf0;
            if (code !== 0xb0) uses |= bit(ins.dst);
            if (o & 8 && code !== 0xd0) uses |= bit(ins.src);
            defs = bit(ins.dst);
            next();
          } else if (cls === 0) {
            if (o === 0x18) defs = bit(ins.dst);
            else {
              if ((o & 0xe0) === 0x40) uses = bit(ins.src); // LD_IND
              defs = 1;
            }
            next();
          } else if (cls === 1) {
            uses = bit(ins.src);
            defs = bit(ins.dst);
            next();
          } else if (cls === 2) {
            uses = bit(ins.dst);
            next();
          } else if (cls === 3) {
            uses = bit(ins.dst) | bit(ins.src);
            if ((o & 0xe0) === 0xc0) {
              if (ins.imm === 0xf1) {
                uses |= 1;
                defs = 1;
              } else if (ins.imm & 1) defs = bit(ins.src);
            }
            next();
          } else if (o === 0x95) {
            uses = 1 | (returns[k] as number);
          } else if (o === 0x05 || o === 0x06) {
            out = at(target(i, o === 0x06 ? ins.imm : ins.off));
          } else if (o === 0x85 && ins.src === 1) {
            const callee = functionAt.get(target(i, ins.imm));
            uses = callee === undefined ? ALL : (params[callee] as number);
            defs = 0b111111;
            next();
          } else if (o === 0x85 || o === 0x8d) {
            uses = R1_TO_R5 | (o === 0x8d ? bit(ins.dst) : 0);
            defs = 1;
            next();
          } else {
            uses = bit(ins.dst) | (o & 8 ? bit(ins.src) : 0);
            out = at(target(i, ins.off));
            next();
          }
          const live = uses | (out & ~defs);
          if (live !== liveIn[i - first]) {
            liveIn[i - first] = live;
            stable = false;
          }
          if (o === 0x85 && ins.src === 1) {
            const callee = functionAt.get(target(i, ins.imm));
            if (callee !== undefined) {
              const need = (returns[callee] as number) | (at(i + 1) & R1_TO_R5);
              if (need !== returns[callee]) {
                returns[callee] = need;
                changed = true;
              }
            }
          }
        }
      }
      const entry = liveIn[0] as number;
      if (entry !== params[k]) {
        params[k] = entry;
        changed = true;
      }
    });
  }
  return params.map((p, k) => ({ params: p, returns: returns[k] as number }));
}
