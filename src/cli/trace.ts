/** `tsbpf run --trace`: one line per executed instruction — pc, the instruction, and the registers it changed. */
import { formatConformance } from "../isa/conformance.js";
import type { Dialect } from "../isa/index.js";
import { type Instruction, slotOffsets } from "../isa/instruction.js";
import { formatLlvm } from "../isa/llvm.js";
import type { Registers } from "../vm/machine.js";

export interface Tracer {
  /** Pass as RunOptions.onStep. */
  onStep(pc: number, registers: Registers): void;
  /** Prints the last instruction's line (call after the run ends, also when it failed). */
  finish(): void;
}

export function makeTracer(insns: readonly Instruction[], dialect: Dialect, write: (line: string) => void): Tracer {
  const { pcs } = slotOffsets(insns);
  const text = new Map(
    pcs.map((pc, n) => [pc, dialect === "llvm" ? formatLlvm(insns[n] as Instruction) : formatConformance(insns[n] as Instruction)]),
  );
  let pending = -1; // pc whose line waits for the registers after it ran
  let before: bigint[] = [];
  let registers: Registers | undefined;
  const flush = (): void => {
    if (pending < 0 || !registers) return;
    const regs = registers;
    const changed = before.flatMap((v, r) => (regs.get(r) !== v ? [`r${r}=0x${regs.get(r).toString(16)}`] : []));
    write(`${`${String(pending).padStart(5)}: ${(text.get(pending) ?? "?").padEnd(36)} ${changed.join(" ")}`.trimEnd()}\n`);
    pending = -1;
  };
  return {
    onStep(pc, regs) {
      registers = regs;
      flush();
      pending = pc;
      before = Array.from({ length: 11 }, (_, r) => regs.get(r));
    },
    finish: flush,
  };
}
