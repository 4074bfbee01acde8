/** The foundation commands: asm, disasm, run and the bpf_conformance plugin. */
import { readFileSync, writeFileSync } from "node:fs";
import { NotSupportedError } from "../errors.js";
import { decode, encode, parseHex, toHex } from "../isa/codec.js";
import { formatConformance } from "../isa/conformance.js";
import { type Dialect, disassemble } from "../isa/index.js";
import { formatLlvm } from "../isa/llvm.js";
import type { Helper } from "../vm/interpreter.js";
import { Machine } from "../vm/machine.js";
import { intFlag, parseArgs, stringFlag, UsageError } from "./args.js";
import { loadProgram, readInput } from "./program-file.js";

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

function checkEngine(engine: string | undefined): void {
  if (engine === "jit") throw new NotSupportedError("--engine jit", "the WebAssembly JIT is not built yet; use --engine interp");
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
  checkEngine(stringFlag(p, "engine"));
  const file = oneFile(p.positional, "run");
  const dialectFlag = stringFlag(p, "dialect") as Dialect | undefined;
  const program = loadProgram(file, dialectFlag ? { dialect: dialectFlag } : {});
  if (p.flags.has("mem") && p.flags.has("mem-file")) throw new UsageError("give --mem or --mem-file, not both");
  const memHex = stringFlag(p, "mem");
  const memFile = stringFlag(p, "mem-file");
  const input = memHex !== undefined ? parseHex(memHex) : memFile !== undefined ? new Uint8Array(readFileSync(memFile)) : program.mem;
  const budget = intFlag(p, "budget");
  const loaded = new Machine().load(program.insns, budget !== undefined ? { budget } : {});
  const dialect = program.dialect ?? dialectFlag ?? "conformance";
  const format = (pc: number): string => {
    const i = insnAt.get(pc);
    return i ? (dialect === "llvm" ? formatLlvm(i) : formatConformance(i)) : "?";
  };
  const insnAt = new Map<number, (typeof program.insns)[number]>();
  let pc = 0;
  for (const i of program.insns) {
    insnAt.set(pc, i);
    pc += i.op === 0x18 ? 2 : 1;
  }
  let onStep: ((pc: number, regs: { get(r: number): bigint }) => void) | undefined;
  let flush = (): void => {};
  if (p.flags.has("trace")) {
    let prevPc = -1;
    let before: bigint[] = [];
    let regsRef: { get(r: number): bigint } | undefined;
    flush = () => {
      if (prevPc < 0 || !regsRef) return;
      const regs = regsRef;
      const changed = before.flatMap((v, r) => (regs.get(r) !== v ? [`r${r}=0x${regs.get(r).toString(16)}`] : []));
      io.stdout(`${String(prevPc).padStart(5)}: ${format(prevPc).padEnd(36)} ${changed.join(" ")}\n`.replace(/ +\n$/, "\n"));
    };
    onStep = (at, regs) => {
      regsRef = regs;
      flush();
      prevPc = at;
      before = Array.from({ length: 11 }, (_, r) => regs.get(r));
    };
  }
  try {
    const result = loaded.run({ ...(input ? { input } : {}), ...(onStep ? { onStep } : {}) });
    flush();
    io.stdout(`0x${result.r0.toString(16)}\n`);
  } catch (e) {
    flush();
    throw e;
  }
  return 0;
}

/**
 * The conformance helpers a bpf_conformance plugin offers: helper 5 "unwind" returns its argument and,
 * when that is 0, ends the program (uBPF's test plugin registers the same).
 */
export const CONFORMANCE_HELPERS: ReadonlyMap<number, Helper> = new Map([
  [
    5,
    (c) => {
      c.lo[0] = c.lo[1] as number;
      c.hi[0] = c.hi[1] as number;
      if (c.lo[0] === 0 && c.hi[0] === 0) c.exit();
    },
  ],
]);

/** tsbpf plugin [--engine interp] [MEMORY_HEX] — bpf_conformance's plugin protocol. */
export function pluginCommand(argv: string[], io: Io): number {
  const p = parseArgs(argv, { engine: ENGINE, budget: { value: true } });
  checkEngine(stringFlag(p, "engine"));
  if (p.positional.length > 1) throw new UsageError("plugin takes at most one argument: the memory as hex");
  const program = parseHex(new TextDecoder().decode(io.stdin()));
  const memory = parseHex(p.positional[0] ?? "");
  const budget = intFlag(p, "budget");
  const loaded = new Machine().load(program, { helpers: CONFORMANCE_HELPERS, ...(budget !== undefined ? { budget } : {}) });
  const result = loaded.run({ input: memory });
  io.stdout(`${result.r0.toString(16)}\n`);
  return 0;
}
