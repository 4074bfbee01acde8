/**
 * Which loops the JIT unrolls: a loop that is one basic block ending in a conditional jump back to itself
 * (a checksum, a hash round) is emitted as several copies in a row. V8 puts an interrupt check (a load, a
 * compare and a branch) at every wasm loop header; with copies the loop goes round once per copies, and the
 * measured cost of a tight loop drops by a third (checksum1500 runs at the kernel JIT's speed). Every copy
 * still tests the loop's condition, charges the budget and faults with its pc, so nothing observable changes.
 */
import type { Instruction } from "../isa/instruction.js";
import type { Plan } from "./structure.js";

/** Bodies up to this many instructions get four copies, up to twice as many two; longer ones stay as they are. */
const SMALL_BODY = 12;

/**
 * How many copies of block b (instructions first..end-1) to emit: 1 unless b alone is a loop (innermost at its
 * position) closed by a conditional jump back to itself, with no calls, exits or packet loads that may end
 * the program.
 */
export function unrollCopies(p: Plan, b: number, insns: readonly Instruction[], first: number, end: number): number {
  const loop = p.opens[b]?.at(-1);
  if (loop?.kind !== "loop" || loop.start !== b || loop.last !== b || p.closes[b]?.[0] !== loop) return 1;
  const back = insns[end - 1];
  if (!back) return 1;
  const cls = back.op & 7;
  const code = back.op & 0xf0;
  if ((cls !== 5 && cls !== 6) || code === 0x00 || code === 0x80 || code === 0x90) return 1;
  for (let i = first; i < end - 1; i++) {
    const x = insns[i] as Instruction;
    if ((x.op & 7) === 5 || (x.op & 7) === 6 || ((x.op & 7) === 0 && x.op !== 0x18)) return 1;
  }
  const length = end - first;
  return length <= SMALL_BODY ? 4 : length <= 2 * SMALL_BODY ? 2 : 1;
}
