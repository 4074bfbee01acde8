/**
 * A program this verifier rejected, shaped as the kernel backend's VerifierError: the kernel-worded reason and
 * the instruction (`failure`), the whole log, and the source line the instruction came from.
 */
import { TsbpfError } from "../errors.js";
import type { VerifyResult } from "./index.js";

export class VerifierError extends TsbpfError {
  readonly program: string;
  readonly log: string;
  readonly failure: { readonly reason: string; readonly insn?: number };
  readonly sourceLine: string | undefined;
  /** The whole verdict, with the statistics. */
  readonly result: VerifyResult;

  constructor(result: VerifyResult) {
    const reason = (result.message ?? "").split("\n").pop() ?? "";
    const where = result.insn !== null ? ` at insn ${result.insn}` : "";
    const source = result.sourceLine ? `\n  source: ${result.sourceLine.trim()}` : "";
    const hint = result.hint ? `\n  hint: ${result.hint}` : "";
    super("EVERIFY", `program ${result.name} rejected by the verifier: ${reason}${where}${source}${hint}`);
    this.program = result.name;
    this.log = result.log;
    this.failure = { reason, ...(result.insn !== null ? { insn: result.insn } : {}) };
    this.sourceLine = result.sourceLine;
    this.result = result;
  }
}
