/** Reads a program the way every command accepts one: a .data test file, assembly text, hex text or raw bytes. */
import { readFileSync } from "node:fs";
import { decode, parseHex } from "../isa/codec.js";
import { parseDataFile } from "../isa/data-format.js";
import { assemble, type Dialect } from "../isa/index.js";
import type { Instruction } from "../isa/instruction.js";

export interface ProgramFile {
  insns: Instruction[];
  /** Input memory from a .data file's `mem` section. */
  mem?: Uint8Array;
  /** The dialect the source was written in, when it was text. */
  dialect?: Dialect;
}

export function readInput(path: string): Uint8Array {
  return path === "-" ? readFileSync(0) : readFileSync(path);
}

function isText(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b === 0 || (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d)) return false;
  return true;
}

/** Guesses the dialect of assembly text: `%r` registers are the conformance dialect's; `r0 =`, `if`, `goto`… llvm's. */
export function detectDialect(text: string): Dialect {
  if (/%r\d/.test(text)) return "conformance";
  return /^\s*(?:[\w.$]+:\s*)?(?:\d+:\s*)?(?:[rw]\d+\s*\S*=|\*\(|if\s|goto|gotol|lock\s+\*|callx|ld_pseudo)/m.test(text)
    ? "llvm"
    : "conformance";
}

export function loadProgram(path: string, options: { dialect?: Dialect; hex?: boolean } = {}): ProgramFile {
  const bytes = readInput(path);
  if (!options.hex && !isText(bytes)) return { insns: decode(bytes) };
  const text = new TextDecoder().decode(bytes);
  if (path.endsWith(".data") || /^--\s*(asm|raw)\s*$/m.test(text)) {
    const data = parseDataFile(text);
    const mem = data.mem ? { mem: data.mem } : {};
    if (data.raw) return { insns: decode(data.raw), ...mem };
    if (data.asm !== undefined) return { insns: assemble(data.asm, "conformance"), dialect: "conformance", ...mem };
  }
  const hexOnly = /^[\s0-9a-fA-Fx,]*$/.test(text.replace(/#.*$/gm, ""));
  if (options.hex || (hexOnly && !options.dialect)) return { insns: decode(parseHex(text)) };
  const dialect = options.dialect ?? detectDialect(text);
  return { insns: assemble(text, dialect), dialect };
}
