/**
 * Errors and warnings of the tracing language, located as bpftrace locates them: `stdin:LINE:COL1-COL2:`
 * (columns 1-based, the end exclusive), then the source line and a `~` underline.
 */
import { TsbpfError } from "../errors.js";

/** A source range: lines and columns 1-based, `endCol` one past the last character. */
export interface SourceRange {
  readonly line: number;
  readonly col: number;
  readonly endLine: number;
  readonly endCol: number;
}

export interface Diagnostic {
  readonly message: string;
  readonly range: SourceRange;
  /** bpftrace's "unexpected end of file" form: `stdin:L1-L2:` without columns or source. */
  readonly lineOnly?: boolean;
  /** Without any place: `WARNING: message`. */
  readonly bare?: boolean;
}

/** One or more errors in a script; `message` is bpftrace's whole stderr text for them. */
export class TraceScriptError extends TsbpfError {
  constructor(
    readonly diagnostics: readonly Diagnostic[],
    readonly source: string,
  ) {
    super("ESCRIPT", diagnostics.map((d) => formatDiagnostic(source, d, "ERROR")).join(""));
  }

  /** Where the first error is. */
  get range(): SourceRange {
    return (this.diagnostics[0] as Diagnostic).range;
  }
}

/** A run-time failure of a script that compiled (attach errors, a missing child command…), with bpftrace's exit code. */
export class TraceRunError extends TsbpfError {
  constructor(
    message: string,
    readonly exitCode: number,
    /** What bpftrace writes to stdout before failing ("No probes to attach"), if anything. */
    readonly stdout = "",
  ) {
    super("ETRACE", message);
  }
}

export function formatDiagnostic(source: string, d: Diagnostic, level: "ERROR" | "WARNING"): string {
  const r = d.range;
  if (d.bare) return `${level}: ${d.message}\n`;
  if (d.lineOnly) return `stdin:${r.line}-${r.endLine}: ${level}: ${d.message}\n`;
  const head = `stdin:${r.line}:${r.col}-${r.endCol}: ${level}: ${d.message}\n`;
  if (r.endLine !== r.line) return head;
  const text = source.split("\n")[r.line - 1] ?? "";
  return `${head}${text}\n${" ".repeat(r.col - 1)}${"~".repeat(Math.max(1, r.endCol - r.col))}\n`;
}

export function span(a: SourceRange, b: SourceRange): SourceRange {
  return { line: a.line, col: a.col, endLine: b.endLine, endCol: b.endCol };
}

/** The system refused to attach a probe (a backend's reason; the runtime reports it as bpftrace does). */
export class ProbeAttachError extends TsbpfError {
  constructor(message: string) {
    super("EATTACH", message);
  }
}
