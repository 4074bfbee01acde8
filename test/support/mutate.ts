import type { Instruction } from "../../src/isa/instruction.js";

/**
 * The program with one or two fields changed at random, as a fuzzer would feed a loader: an opcode, a
 * register, an offset or an immediate, or an instruction dropped or repeated.
 */
export function mutate(insns: readonly Instruction[], next: () => number): Instruction[] {
  const out = insns.map((i) => ({ ...i }));
  const pick = (n: number): number => Math.floor(next() * n);
  for (let k = 1 + pick(2); k > 0 && out.length > 0; k--) {
    const at = pick(out.length);
    const i = out[at] as Instruction;
    switch (pick(7)) {
      case 0:
        out[at] = { ...i, op: pick(256) };
        break;
      case 1:
        out[at] = { ...i, dst: pick(16) };
        break;
      case 2:
        out[at] = { ...i, src: pick(16) };
        break;
      case 3:
        out[at] = { ...i, off: [0, 1, -1, 0x7fff, -0x8000, i.off + 1, i.off - 1][pick(7)] as number };
        break;
      case 4:
        out[at] = { ...i, imm: [0, 1, -1, 0x7fffffff, -0x80000000, i.imm + 1, pick(0x10000)][pick(7)] as number };
        break;
      case 5:
        out.splice(at, 1);
        break;
      default:
        out.splice(at, 0, { ...i });
    }
  }
  return out;
}
