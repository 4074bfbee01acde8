/** The foundation commands: asm, disasm, run and the bpf_conformance plugin. */
import { readFileSync, writeFileSync } from "node:fs";
import { decode, encode, parseHex, toHex } from "../isa/codec.js";
import { type Dialect, disassemble } from "../isa/index.js";
import { CONFORMANCE_HELPERS } from "../vm/conformance-helpers.js";
import { type Engine, Machine } from "../vm/machine.js";
import { intFlag, type Parsed, parseArgs, stringFlag, UsageError } from "./args.js";
import { loadProgram, readInput } from "./program-file.js";
import { makeTracer } from "./trace.js";

export interface Io {
  stdout: (text: string | Uint8Array) => void;
  stderr: (text: string) => void;
  stdin: () => Uint8Array;
}

const DIALECT = { value: true, choices: ["conformance", "llvm"] } as const;
const ENGINE = { value: true, choices: ["interp", "jit"] } as const;

function oneFile(positional: string[], command: string): string {
  if (positional.length !== 1) throw new UsageError(`${command} needs exactly one FILE (or - for stdin)`);
  return positional[0] as string;
}

function engineOf(p: Parsed): Engine {
  return (stringFlag(p, "engine") ?? "interp") as Engine;
}

/** tsbpf asm [--dialect conformance|llvm] [--hex] [-o OUT] FILE */
export function asmCommand(argv: string[], io: Io): number {
  const p = parseArgs(argv, { dialect: DIALECT, hex: {}, output: { value: true, short: "-o" } });
  const file = oneFile(p.positional, "asm");
  const dialect = (stringFlag(p, "dialect") ?? "conformance") as Dialect;
  const { insns } = loadProgram(file, { dialect });
  const bytes = encode(insns);
  const out = stringFlag(p, "output");
  if (p.flags.has("hex")) {
    const hex = `${toHex(bytes)}\n`;
    if (out) writeFileSync(out, hex);
    else io.stdout(hex);
  } else if (out) writeFileSync(out, bytes);
  else io.stdout(bytes);
  return 0;
}

/** tsbpf disasm [--dialect conformance|llvm] [--hex] FILE */
export function disasmCommand(argv: string[], io: Io): number {
  const p = parseArgs(argv, { dialect: DIALECT, hex: {}, decimal: {} });
  const file = oneFile(p.positional, "disasm");
  const bytes = readInput(file);
  const insns = decode(p.flags.has("hex") ? parseHex(new TextDecoder().decode(bytes)) : bytes);
  const dialect = (stringFlag(p, "dialect") ?? "conformance") as Dialect;
  io.stdout(disassemble(insns, { dialect, hex: !p.flags.has("decimal") }));
  return 0;
}

/** tsbpf run FILE [--mem HEX | --mem-file F] [--engine interp] [--trace] [--budget N] [--dialect D] */
export function runCommand(argv: string[], io: Io): number {
  const p = parseArgs(argv, {
    mem: { value: true },
    "mem-file": { value: true },
    engine: ENGINE,
    trace: {},
    budget: { value: true },
    dialect: DIALECT,
  });
  const engine = engineOf(p);
  const file = oneFile(p.positional, "run");
  const dialectFlag = stringFlag(p, "dialect") as Dialect | undefined;
  const program = loadProgram(file, dialectFlag ? { dialect: dialectFlag } : {});
  if (p.flags.has("mem") && p.flags.has("mem-file")) throw new UsageError("give --mem or --mem-file, not both");
  const memHex = stringFlag(p, "mem");
  const memFile = stringFlag(p, "mem-file");
  const input = memHex !== undefined ? parseHex(memHex) : memFile !== undefined ? new Uint8Array(readFileSync(memFile)) : program.mem;
  const budget = intFlag(p, "budget");
  const loaded = new Machine().load(program.insns, { engine, ...(budget !== undefined ? { budget } : {}) });
  const tracer = p.flags.has("trace") ? makeTracer(program.insns, program.dialect ?? dialectFlag ?? "conformance", io.stdout) : undefined;
  try {
    const result = loaded.run({ ...(input ? { input } : {}), ...(tracer ? { onStep: tracer.onStep } : {}) });
    tracer?.finish();
    io.stdout(`0x${result.r0.toString(16)}\n`);
  } catch (e) {
    tracer?.finish();
    throw e;
  }
  return 0;
}

/** tsbpf plugin [--engine interp] [MEMORY_HEX] — bpf_conformance's plugin protocol. */
export function pluginCommand(argv: string[], io: Io): number {
  const p = parseArgs(argv, { engine: ENGINE, budget: { value: true } });
  const engine = engineOf(p);
  if (p.positional.length > 1) throw new UsageError("plugin takes at most one argument: the memory as hex");
  const program = parseHex(new TextDecoder().decode(io.stdin()));
  const memory = parseHex(p.positional[0] ?? "");
  const budget = intFlag(p, "budget");
  const loaded = new Machine().load(program, { helpers: CONFORMANCE_HELPERS, engine, ...(budget !== undefined ? { budget } : {}) });
  const result = loaded.run({ input: memory });
  io.stdout(`${result.r0.toString(16)}\n`);
  return 0;
}
