/**
 * Reading classic BPF programs back from tcpdump's `-dd` (C initializers) and `-ddd` (decimal) listings, the
 * forms people paste into `setsockopt(SO_ATTACH_FILTER)` code and tools take as input.
 */
import { TsbpfError } from "../errors.js";
import type { CbpfInsn } from "./insn.js";

export class CbpfParseError extends TsbpfError {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super("ECBPF", `line ${line}: ${message}`);
  }
}

const DD = /^\{\s*(0x[0-9a-fA-F]+|\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(0x[0-9a-fA-F]+|\d+)\s*\},?$/;

function field(text: string, max: number, what: string, line: number): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 0 || v > max) throw new CbpfParseError(`${what} ${text} is out of range (0-${max})`, line);
  return v;
}

/** Parses `-dd` lines (`{ 0x28, 0, 0, 0x0000000c },`) or `-ddd` text (a count, then `code jt jf k` lines). */
export function parseCbpf(text: string): CbpfInsn[] {
  const lines = text
    .split("\n")
    .map((l, i) => ({ text: l.trim(), line: i + 1 }))
    .filter((l) => l.text !== "");
  if (lines.length === 0) throw new CbpfParseError("no instructions", 1);
  const first = lines[0] as { text: string; line: number };
  if (first.text.startsWith("{")) {
    return lines.map(({ text: t, line }) => {
      const m = DD.exec(t);
      if (!m) throw new CbpfParseError(`expected { code, jt, jf, k }, got '${t}'`, line);
      return {
        code: field(m[1] as string, 0xffff, "code", line),
        jt: field(m[2] as string, 0xff, "jt", line),
        jf: field(m[3] as string, 0xff, "jf", line),
        k: field(m[4] as string, 0xffffffff, "k", line),
      };
    });
  }
  const count = field(first.text, 4096, "instruction count", first.line);
  const body = lines.slice(1);
  if (body.length !== count) throw new CbpfParseError(`the count says ${count} instructions, ${body.length} follow`, first.line);
  return body.map(({ text: t, line }) => {
    const parts = t.split(/\s+/);
    if (parts.length !== 4) throw new CbpfParseError(`expected 'code jt jf k', got '${t}'`, line);
    const [code, jt, jf, k] = parts as [string, string, string, string];
    return {
      code: field(code, 0xffff, "code", line),
      jt: field(jt, 0xff, "jt", line),
      jf: field(jf, 0xff, "jf", line),
      k: field(k, 0xffffffff, "k", line),
    };
  });
}
