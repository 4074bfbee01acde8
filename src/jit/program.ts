/**
 * A program compiled to WebAssembly and instantiated against its machine's memory: the same run/enter/callback
 * interface as the interpreter's LoadedProgram, the same results and the same typed faults (in checked mode).
 */

import { VmError } from "../exec/errors.js";
import type { Memory } from "../exec/memory.js";
import { callHelper, ExecState, fault, type Helper } from "../exec/state.js";
import type { Instruction } from "../isa/instruction.js";
import { MAX_CALL_FRAMES } from "../isa/opcodes.js";
import { compile, type SafetyMode } from "./compile.js";
import { FAULT_CALL_DEPTH, FAULT_LOAD } from "./imports.js";

export interface PacketBounds {
  start: number;
  length: number;
  link?: number;
  network?: number;
}

/** r1-r5 as (low, high) halves, the entry label, depth and budget; returns r0's low half (all of r0 is spilled). */
type Main = (
  a: number,
  b: number,
  c: number,
  d: number,
  e: number,
  f: number,
  g: number,
  h: number,
  i: number,
  j: number,
  label: number,
  depth: number,
  budget: number,
  repeat: number,
) => number;

export class JitProgram {
  private readonly main: Main;
  private readonly scanExport: (pos: number, end: number, budget: number, longest: number) => number;
  private readonly state: ExecState;
  private readonly functionOfSlot: ReadonlyMap<number, number>;
  private runBudget: number;
  private readonly spill: number;

  constructor(
    readonly memory: Memory,
    readonly instructions: readonly Instruction[],
    pcs: readonly number[],
    subprograms: readonly number[],
    helpers: ReadonlyMap<number, Helper>,
    readonly budget: number,
    readonly mode: SafetyMode,
    entries: readonly number[] = [],
  ) {
    const spill = memory.engineScratch;
    this.spill = spill;
    const compiled = compile(instructions, { mode, pcs, subprograms, entries, stackTop: memory.stackTop, spill, stopFlag: spill + 64 });
    this.functionOfSlot = compiled.functionOfSlot;
    this.runBudget = budget;
    const lo = new Int32Array(16);
    const hi = new Int32Array(16);
    this.state = new ExecState(lo, hi, memory);
    const state = this.state;
    const imports = {
      env: {
        memory: memory.wasm,
        fault: (kind: number, pc: number, rlo: number, rhi: number, off: number, size: number) => {
          if (kind === FAULT_CALL_DEPTH) throw new VmError("CALL_DEPTH", `call stack too deep (${MAX_CALL_FRAMES} frames) at pc ${pc}`, pc);
          fault(memory, kind === FAULT_LOAD ? "load" : "store", pc, rlo, rhi, off, size);
        },
        helper: (id: number, pc: number, depth: number) => {
          const v = memory.view;
          for (let r = 0; r <= 5; r++) {
            lo[r] = v.getInt32(spill + r * 8, true);
            hi[r] = v.getInt32(spill + r * 8 + 4, true);
          }
          state.depth = depth;
          const stop = callHelper(state, helpers, id, pc);
          const w = memory.view; // a helper may have grown the memory
          w.setInt32(spill, lo[0] as number, true);
          w.setInt32(spill + 4, hi[0] as number, true);
          return stop ? 1 : 0;
        },
        budget: (first: number, k: number) => {
          const pc = pcs[first + k] as number;
          throw new VmError("BUDGET", `instruction budget of ${this.runBudget} exhausted at pc ${pc}`, pc);
        },
      },
    };
    const instance = new WebAssembly.Instance(new WebAssembly.Module(compiled.module), imports);
    this.main = instance.exports.run as Main;
    this.scanExport = instance.exports.scan as (pos: number, end: number, budget: number, longest: number) => number;
  }

  private setPacket(p: PacketBounds): void {
    const v = this.memory.view;
    v.setInt32(this.spill + 48, p.start, true);
    v.setInt32(this.spill + 52, p.length, true);
    v.setInt32(this.spill + 56, p.link ?? p.start, true);
    v.setInt32(this.spill + 60, p.network ?? p.start, true);
  }

  private call(args: readonly bigint[], label: number, depth: number, budget: number): bigint {
    const halves: number[] = [];
    for (let i = 0; i < 5; i++) {
      const v = BigInt.asUintN(64, args[i] ?? 0n);
      halves.push(Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0);
    }
    return this.callHalves(halves, label, depth, budget);
  }

  /** The fast path: register halves in, r0 out (one BigInt, for the result). */
  private callHalves(h: readonly number[], label: number, depth: number, budget: number, repeat = 1): bigint {
    this.runBudget = budget;
    try {
      const lo = this.main(
        h[0] as number,
        h[1] as number,
        h[2] as number,
        h[3] as number,
        h[4] as number,
        h[5] as number,
        h[6] as number,
        h[7] as number,
        h[8] as number,
        h[9] as number,
        label,
        depth,
        budget,
        repeat,
      );
      const hi = this.memory.view.getInt32(this.spill + 4, true);
      return hi === 0 ? BigInt(lo >>> 0) : (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError)
        throw new VmError("OUT_OF_BOUNDS", `memory access outside the machine's memory (${this.mode} JIT): ${e.message}`, -1, { cause: e });
      throw e;
    }
  }

  /** Runs from the entry with r1 = `r1` and the LD_ABS packet; returns r0. */
  enter(r1: number, packet: PacketBounds, budget = this.budget, r2 = 0): bigint {
    this.setPacket(packet);
    return this.callHalves([r1, 0, r2, 0, 0, 0, 0, 0, 0, 0], 0, 0, budget);
  }

  /**
   * The leanest entry, for filters run millions of times: r1 = `r1`, r2 = `r2`, the LD_ABS packet at
   * [start, start+length); returns r0's low 32 bits, unsigned (no BigInt).
   */
  enterWord(r1: number, r2: number, start: number, length: number, budget = this.budget): number {
    const v = this.memory.view;
    v.setInt32(this.spill + 48, start, true);
    v.setInt32(this.spill + 52, length, true);
    v.setInt32(this.spill + 56, start, true);
    v.setInt32(this.spill + 60, start, true);
    this.runBudget = budget;
    try {
      return this.main(r1, 0, r2, 0, 0, 0, 0, 0, 0, 0, 0, 0, budget, 1) >>> 0;
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError)
        throw new VmError("OUT_OF_BOUNDS", `memory access outside the machine's memory (${this.mode} JIT): ${e.message}`, -1, { cause: e });
      throw e;
    }
  }

  /**
   * Runs the program on every complete little-endian pcap record in [start, end) of memory (r1 = packet,
   * r2 = wire length); returns how many matched (non-zero r0), how many ran, and where the first record
   * starts that is incomplete or captured more than `longest` bytes.
   */
  scanRecords(start: number, end: number, budget = this.budget, longest = 0xffffffff): { matched: number; records: number; next: number } {
    this.runBudget = budget;
    try {
      const matched = this.scanExport(start, end, budget, longest | 0);
      const v = this.memory.view;
      return { matched, records: v.getInt32(this.spill + 4, true), next: v.getInt32(this.spill, true) >>> 0 };
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError)
        throw new VmError("OUT_OF_BOUNDS", `memory access outside the machine's memory (${this.mode} JIT): ${e.message}`, -1, { cause: e });
      throw e;
    }
  }

  /** Runs the function at `slot` as a callback one frame below a caller at `depth`. */
  callback(slot: number, args: readonly bigint[], depth: number, packet: PacketBounds): bigint {
    const label = this.functionOfSlot.get(slot);
    if (label === undefined) throw new VmError("UNSUPPORTED", `no function starts at pc ${slot}`, slot);
    if (depth + 1 >= MAX_CALL_FRAMES) throw new VmError("CALL_DEPTH", `callback too deep (${MAX_CALL_FRAMES} frames)`, slot);
    this.setPacket(packet);
    const saved = this.runBudget;
    try {
      return this.call(args, label, depth + 1, this.budget);
    } finally {
      this.runBudget = saved;
    }
  }

  /** As the interpreter's run: r1 = the input's address, r2 = its length; `repeat` runs in one call. */
  runOn(address: number, length: number, budget = this.budget, repeat = 1): bigint {
    this.setPacket({ start: address, length });
    return this.callHalves(length === 0 ? [0, 0, 0, 0, 0, 0, 0, 0, 0, 0] : [address, 0, length, 0, 0, 0, 0, 0, 0, 0], 0, 0, budget, repeat);
  }
}
