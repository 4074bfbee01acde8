/**
 * A program the kernel's verifier refused. Keeps the whole log (cilium/ebpf's VerifierError does the same) but
 * its message is short and readable: the reason, the failing instruction with its index, the source line it
 * came from (BTF line_info), and the few log lines that led there.
 */
import { KernelError } from "./errors.js";

export interface VerifierFailure {
  /** The verifier's reason, e.g. "R0 !read_ok" or "invalid mem access 'scalar'". */
  readonly reason: string;
  /** Index (slot) of the instruction the verifier was at, when the log names one. */
  readonly insn?: number;
  /** That instruction as the log printed it. */
  readonly insnText?: string;
}

/** Finds the reason and the last instruction the verifier looked at. */
export function analyzeLog(log: string): VerifierFailure {
  const lines = log
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l !== "");
  const tail = lines.filter((l) => !/^(processed \d+ insns|verification time|stack depth|-- END PROG LOAD LOG --)/.test(l));
  // A few of the kernel's messages lack their newline, and the statistics line runs on after them.
  const reason = (tail[tail.length - 1] ?? "no verifier log").replace(/(.)processed \d+ insns \(limit \d+\).*$/, "$1");
  let insn: number | undefined;
  let insnText: string | undefined;
  for (let i = lines.length - 1; i >= 0; i--) {
    // An instruction the kernel cannot print shows as BUG_<opcode> (print_bpf_insn).
    const m = /^(\d+): (?:\([0-9a-f]{2}\) (.*?)|(BUG_\w+.*?))(\s+;.*)?$/.exec(lines[i] as string);
    if (m) {
      insn = Number(m[1]);
      insnText = m[2] ?? m[3];
      break;
    }
  }
  return { reason, ...(insn !== undefined ? { insn } : {}), ...(insnText !== undefined ? { insnText } : {}) };
}

/** What a user needs to know beyond the verifier's words, for reasons that are about the kernel, not the program. */
function hintFor(reason: string): string | undefined {
  if (/failed to find the address for kernel symbol/.test(reason))
    return "the kernel finds typed __ksym variables through kallsyms, which lists data symbols only when built with CONFIG_KALLSYMS_ALL";
  return undefined;
}

export class VerifierError extends KernelError {
  readonly log: string;
  readonly failure: VerifierFailure;
  readonly program: string;
  readonly sourceLine: string | undefined;

  constructor(program: string, errno: number, log: string, sourceLine?: (insn: number) => string | undefined) {
    const failure = analyzeLog(log);
    const source = failure.insn !== undefined ? sourceLine?.(failure.insn) : undefined;
    const where = failure.insn !== undefined ? ` at insn ${failure.insn}${failure.insnText ? ` (${failure.insnText})` : ""}` : "";
    const recent = log
      .split("\n")
      .filter((l) => l.trim() !== "")
      .slice(-6)
      .map((l) => `  | ${l}`)
      .join("\n");
    const hint = hintFor(failure.reason);
    super("BPF_PROG_LOAD", errno);
    this.message = `program ${program} rejected by the verifier (${this.code}): ${failure.reason}${where}${source ? `\n  source: ${source.trim()}` : ""}${hint ? `\n  hint: ${hint}` : ""}${recent ? `\n${recent}` : ""}`;
    this.log = log;
    this.failure = failure;
    this.program = program;
    this.sourceLine = source;
  }
}
