/**
 * The userspace machine: one linear memory plus programs loaded into it. `load` validates the program
 * (isa/validate) and resolves helper ids; `run` maps the input bytes as the program's memory (r1 = its
 * address, r2 = its length, as bpf_conformance and uBPF do) and executes.
 */

import { VmError } from "../exec/errors.js";
import { Memory, ReusableRegion } from "../exec/memory.js";
import { ExecState, type Helper } from "../exec/state.js";
import { decode } from "../isa/codec.js";
import { ValidationError } from "../isa/errors.js";
import type { Instruction } from "../isa/instruction.js";
import { CALL_HELPER, CALL_KFUNC, LDDW_IMM64, MAX_CALL_FRAMES, OP_CALL, OP_LDDW } from "../isa/opcodes.js";
import { validate } from "../isa/validate.js";
import type { SafetyMode } from "../jit/compile.js";
import { JitProgram } from "../jit/program.js";
import { toBigInt } from "./int64.js";
import { clobber, type DecodedProgram, type ExecuteOptions, execute, packCode } from "./interpreter.js";

export interface MachineOptions {
  /** Initial linear memory size in bytes (it grows as regions are mapped). */
  memoryBytes?: number;
}

export interface LoadOptions {
  /** Helper functions by id. Calls to other ids are rejected at load time. */
  helpers?: ReadonlyMap<number, Helper>;
  /** Instructions one run may execute (default 10,000,000; the trusted JIT does not count). */
  budget?: number;
  /** The WebAssembly JIT (default) or the reference interpreter. Traced runs (onStep) use the interpreter. */
  engine?: Engine;
  /** JIT only: `checked` (default) bounds-checks every access and counts the budget; `trusted` is for verified code. */
  mode?: SafetyMode;
  /** Slots besides 0 where runs may start (callbacks), for the JIT's dispatch. */
  entries?: readonly number[];
  /**
   * Interpreter only, for sanitizer runs: a byte that the registers the verifier calls uninitialised hold
   * (all but r1 at entry, r1-r5 after calls, r0 and r6-r9 in a callee). Two runs with different bytes that
   * differ in their results read an uninitialised register.
   */
  poison?: number;
}

export type Engine = "interp" | "jit";

export interface RunOptions {
  /** Bytes mapped read-write for the program; r1 points at them and r2 holds their length. */
  input?: Uint8Array;
  /** Called before each instruction with its pc (for tracing); slows the run down. */
  onStep?: (pc: number, registers: Registers) => void;
  /** Overrides the load-time budget for this run. */
  budget?: number;
  /**
   * Runs the program this many times on the same memory (copied in once, out once), as BPF_PROG_TEST_RUN's
   * repeat does; the result is the last run's, with the mean time per run.
   */
  repeat?: number;
}

export interface RunResult {
  /** r0 at exit, as an unsigned 64-bit value. */
  readonly r0: bigint;
  /** The input memory after the run (a copy). */
  readonly output: Uint8Array;
  /** Mean nanoseconds per run (with `repeat`). */
  readonly duration?: number;
}

/** Read access to the register file during a trace. */
export interface Registers {
  get(reg: number): bigint;
}

export const DEFAULT_BUDGET = 10_000_000;

/** A budget is a whole number of instructions a JS number holds exactly (both engines count it exactly). */
function checkedBudget(budget: number): number {
  if (!Number.isSafeInteger(budget) || budget < 0)
    throw new VmError("BUDGET", `instruction budget ${budget} is not a whole number from 0 to 2^53 - 1`, -1);
  return budget;
}
const EMPTY = new Uint8Array(0);

/** What LD_ABS/LD_IND read: the packet data, and where its link-layer and network headers start. */
export interface PacketBounds {
  start: number;
  length: number;
  link?: number;
  network?: number;
}

function packetOptions(packet: PacketBounds): Pick<ExecuteOptions, "packetStart" | "packetLength" | "linkHeader" | "networkHeader"> {
  return {
    packetStart: packet.start,
    packetLength: packet.length,
    ...(packet.link !== undefined ? { linkHeader: packet.link } : {}),
    ...(packet.network !== undefined ? { networkHeader: packet.network } : {}),
  };
}

function toDecoded(insns: readonly Instruction[], slots: number): DecodedProgram {
  const prog = { slots, code: new Int32Array(slots), imm: new Int32Array(slots) };
  let pc = 0;
  for (const i of insns) {
    prog.code[pc] = packCode(i.op, i.dst, i.src, i.off);
    prog.imm[pc] = i.imm;
    pc++;
    if (i.op === OP_LDDW) prog.imm[pc++] = i.imm2 ?? 0;
  }
  return prog;
}

export class LoadedProgram {
  readonly instructions: readonly Instruction[];
  private readonly decoded: DecodedProgram;
  private readonly jit: JitProgram | undefined;
  private readonly state: ExecState;
  private readonly registers: Registers;

  constructor(
    private readonly machine: Machine,
    insns: readonly Instruction[],
    private readonly helpers: ReadonlyMap<number, Helper>,
    private readonly budget: number,
    readonly engine: Engine = "jit",
    /** The JIT's safety mode (the interpreter checks every access whatever it says). */
    readonly mode: SafetyMode = "checked",
    entries: readonly number[] = [],
    private readonly poison?: number,
  ) {
    checkedBudget(budget);
    if (poison !== undefined && engine !== "interp")
      throw new VmError("UNSUPPORTED", "poisoned runs need the interpreter (engine: 'interp')", -1);
    const layout = validate(insns);
    insns.forEach((i, n) => {
      const pc = layout.pcs[n] as number;
      if (i.op === OP_CALL && i.src === CALL_HELPER && !helpers.has(i.imm)) {
        throw new ValidationError("UNKNOWN_HELPER", `call to unknown helper ${i.imm}`, pc);
      }
      if (i.op === OP_CALL && i.src === CALL_KFUNC) {
        throw new ValidationError("UNSUPPORTED", `kfunc call (BTF id ${i.imm}) needs the kernel backend`, pc);
      }
      if (i.op === OP_LDDW && i.src !== LDDW_IMM64) {
        throw new ValidationError("UNSUPPORTED", `lddw with pseudo source ${i.src} needs a loader that resolves maps and functions`, pc);
      }
    });
    this.instructions = insns;
    this.decoded = toDecoded(insns, layout.slots);
    if (engine === "jit") this.jit = new JitProgram(machine.memory, insns, layout.pcs, layout.subprograms, helpers, budget, mode, entries);
    const lo = new Int32Array(16);
    const hi = new Int32Array(16);
    this.state = new ExecState(lo, hi, machine.memory);
    this.registers = { get: (r) => toBigInt(lo[r] as number, hi[r] as number) };
  }

  /**
   * Runs the program from its entry with r1 = `r1` (a context or packet address) and the LD_ABS packet at
   * [packetStart, packetStart + packetLength); returns r0. Used by test runs that lay out their own memory.
   */
  enter(r1: number, packet: PacketBounds, budget = this.budget, r2 = 0): bigint {
    if (this.jit) return this.jit.enter(r1, packet, budget, r2);
    return this.interpret(r1, packet, budget, r2, 1);
  }

  /**
   * `runs` interpreter runs from the entry, returning the last one's r0. They share one options object and
   * one BigInt at the end: per run only the registers are reset (the `empty` program's per-run cost halved).
   */
  private interpret(r1: number, packet: PacketBounds, budget: number, r2: number, runs: number): bigint {
    const { lo: L, hi: H } = this.state;
    const options: ExecuteOptions = {
      budget,
      helpers: this.helpers,
      ...packetOptions(packet),
      onStep: undefined,
      ...(this.poison !== undefined ? { poison: this.poison } : {}),
    };
    for (let run = 0; run < runs; run++) {
      L.fill(0);
      H.fill(0);
      L[1] = r1;
      L[2] = r2;
      if (this.poison !== undefined) {
        clobber(L, H, this.poison, 0);
        clobber(L, H, this.poison, 2, 9);
      }
      execute(this.decoded, this.state, options);
    }
    return toBigInt(L[0] as number, H[0] as number);
  }

  /** As `enter` with r2 and a packet at [start, start+length), returning r0's low 32 bits unsigned. */
  enterWord(r1: number, r2: number, start: number, length: number): number {
    if (this.jit) return this.jit.enterWord(r1, r2, start, length, this.budget);
    return Number(this.enter(r1, { start, length }, this.budget, r2) & 0xffffffffn);
  }

  /** The JIT's in-memory pcap record scan (see JitProgram.scanRecords); undefined on the interpreter. */
  scanRecords(start: number, end: number, longest?: number): { matched: number; records: number; next: number } | undefined {
    return this.jit?.scanRecords(start, end, this.budget, longest);
  }

  /**
   * Runs the function starting at `slot` as a callback (bpf_loop, for_each_map_elem) one frame below a caller
   * at call depth `depth`, with r1.. = args; returns its r0. It gets registers of its own.
   */
  callback(slot: number, args: readonly bigint[], depth: number, packet: PacketBounds): bigint {
    if (this.jit) return this.jit.callback(slot, args, depth, packet);
    const lo = new Int32Array(16);
    const hi = new Int32Array(16);
    args.forEach((a, i) => {
      const v = BigInt.asUintN(64, a);
      lo[i + 1] = Number(v & 0xffffffffn) | 0;
      hi[i + 1] = Number(v >> 32n) | 0;
    });
    if (depth + 1 >= MAX_CALL_FRAMES) throw new VmError("CALL_DEPTH", `callback too deep (${MAX_CALL_FRAMES} frames)`, slot);
    if (this.poison !== undefined) {
      clobber(lo, hi, this.poison, 0);
      clobber(lo, hi, this.poison, args.length + 1, 9);
    }
    execute(this.decoded, new ExecState(lo, hi, this.machine.memory), {
      budget: this.budget,
      helpers: this.helpers,
      ...packetOptions(packet),
      onStep: undefined,
      entry: { pc: slot, depth: depth + 1 },
      ...(this.poison !== undefined ? { poison: this.poison } : {}),
    });
    return toBigInt(lo[0] as number, hi[0] as number);
  }

  private repeated(region: number, length: number, options: RunOptions): RunResult {
    const n = options.repeat as number;
    const budget = checkedBudget(options.budget ?? this.budget);
    const packet = { start: region, length };
    let r0 = 0n;
    const t0 = process.hrtime.bigint();
    if (this.jit) r0 = this.jit.runOn(region, length, budget, n);
    else r0 = this.interpret(length === 0 ? 0 : region, packet, budget, length, n);
    const duration = Number(process.hrtime.bigint() - t0) / n;
    return { r0, output: length > 0 ? this.machine.memory.bytes.slice(region, region + length) : EMPTY, duration };
  }

  /** Runs the program once. Throws VmError (with pc) on a fault or an exhausted budget. */
  run(options: RunOptions = {}): RunResult {
    const input = options.input ?? EMPTY;
    const { memory } = this.machine;
    const region = this.machine.mapInput(input.length);
    if (input.length > 0) memory.bytes.set(input, region);
    if (options.repeat !== undefined && options.repeat > 1) return this.repeated(region, input.length, options);
    const budget = checkedBudget(options.budget ?? this.budget);
    if (this.jit && !options.onStep) {
      const r0 = this.jit.runOn(region, input.length, budget);
      return { r0, output: input.length > 0 ? memory.bytes.slice(region, region + input.length) : EMPTY };
    }
    const { lo: L, hi: H } = this.state;
    L.fill(0);
    H.fill(0);
    L[1] = input.length === 0 ? 0 : region;
    L[2] = input.length;
    const onStep = options.onStep;
    const registers = this.registers;
    execute(this.decoded, this.state, {
      budget,
      helpers: this.helpers,
      packetStart: region,
      packetLength: input.length,
      onStep: onStep ? (pc) => onStep(pc, registers) : undefined,
    });
    return { r0: toBigInt(L[0] as number, H[0] as number), output: memory.bytes.slice(region, region + input.length) };
  }
}

export class Machine {
  readonly memory: Memory;
  private readonly input: ReusableRegion;

  constructor(options: MachineOptions = {}) {
    this.memory = new Memory(options.memoryBytes);
    this.input = new ReusableRegion(this.memory, "input memory");
  }

  /** Validates and loads a program given as bytes (little-endian) or instructions. */
  load(program: Uint8Array | readonly Instruction[], options: LoadOptions = {}): LoadedProgram {
    const insns = program instanceof Uint8Array ? decode(program) : program;
    return new LoadedProgram(
      this,
      insns,
      options.helpers ?? new Map(),
      options.budget ?? DEFAULT_BUDGET,
      options.engine,
      options.mode,
      options.entries,
      options.poison,
    );
  }

  /** Sizes the input region to exactly `length` bytes (reusing its space when it fits); returns its address. */
  mapInput(length: number): number {
    return this.input.take(length);
  }
}
