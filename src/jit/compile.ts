/**
 * eBPF → WebAssembly. Each subprogram becomes a wasm function whose parameters and locals are the registers.
 * Its basic blocks are structured into nested loops and blocks where the jumps allow (structure.ts), or else
 * sit in a dispatch loop (nested blocks under a br_table), so any control flow works, irreducible or not.
 * A bpf2bpf call is a wasm call in the interpreter's model — the callee sees the caller's registers, the
 * caller gets back the callee's r0-r5 and keeps its own r6-r9, each frame has its 512-byte stack — so results
 * match it bit for bit; but only the registers the callee reads are passed, and only r0 and what a caller
 * reads afterwards come back (liveness.ts).
 *
 * Checked mode (for unverified code) bounds-checks every access against the stack of the live frames and the
 * machine's regions, faulting through the same error as the interpreter with the same pc, and counts the
 * instruction budget per basic block. Trusted mode (for verified code) leaves both out; wasm's own bounds keep
 * every access inside the machine's linear memory.
 */

import { SCRATCH_READ_HIT, SCRATCH_WRITE_HIT } from "../exec/memory.js";
import type { Instruction } from "../isa/instruction.js";
import { MAX_CALL_FRAMES, MAY_GOTO_LOOPS, STACK_SIZE } from "../isa/opcodes.js";
import { isMayGoto } from "../isa/validate.js";
import { alu32, alu64 } from "./alu.js";
import { condition } from "./branch.js";
import { runFunction, scanFunction } from "./entries.js";
import { F_BUDGET, F_FAULT, F_FIRST, F_HELPER, FAULT_CALL_DEPTH } from "./imports.js";
import { functionRegisters, registersOf } from "./liveness.js";
import { addressOnStack, atomic, type MemoryEmit } from "./memory.js";
import { isLoadThenBe16, ldAbs, loadBigEndian16 } from "./packet.js";
import { type Construct, type Plan, plan } from "./structure.js";
import { unrollCopies } from "./unroll.js";
import { BLOCK_VOID, type Bytes, Code, F64, I32, I64, OP, type ValType, wasmModule } from "./wasm.js";

export type SafetyMode = "checked" | "trusted";

export interface CompileOptions {
  mode: SafetyMode;
  /** Slot of each instruction (from validate). */
  pcs: readonly number[];
  /** Slots where subprograms start (0 first, from validate) and where callbacks start. */
  subprograms: readonly number[];
  entries: readonly number[];
  stackTop: number;
  /** Linear-memory scratch: registers r0-r5 for helper calls (48 bytes), then the LD_ABS packet (16 bytes). */
  spill: number;
  /** A word that says the program has ended (a helper stopped it, LD_ABS fell off the packet): callers return. */
  stopFlag: number;
}

export interface Compiled {
  module: Uint8Array;
  /** The function (the `entry` argument of `run`) of each subprogram's first slot. */
  functionOfSlot: ReadonlyMap<number, number>;
  /** First instruction index of each block (for the budget's pc). */
  blockStarts: readonly number[];
  /** Whether every function's flow was structured (loops and blocks) rather than dispatched. */
  structured: boolean;
}

const T_MAIN = 3;
const T_SCAN = 4;
/** Subprogram functions' types follow the fixed ones, one per distinct signature. */
const T_FIRST_FUNCTION = 5;

// A subprogram function's parameters: the registers it reads before writing (i64, ascending), r10 (i64), the
// call depth (i32) and, checked, the instruction budget (i64, counted down in place). Its locals: the other
// registers (i64), the dispatch label, the stack's low bound, an address, an i32 temp (and the budget,
// unused, when trusted), then two i64 temps. Results: r0, the registers its callers read back, and,
// checked, the budget left. The indexes below are set for each function as it is compiled.
let L_DEPTH = 0;
let L_BUDGET = 0;
let L_LABEL = 0;
let L_STACK_LOW = 0;
let L_A = 0;
let L_T32 = 0;
let L_LOOPS = 0;
let L_T = 0;
let L_U = 0;
/** Checked: the read and write hit caches (start, then length less 8), as exec/memory.ts keeps them. */
let L_RHIT = 0;
let L_WHIT = 0;
/** Checked: the live frames' stack for the inline check: its low bound, and stackTop - 8 - that. */
let L_STACK_LOW64 = 0;
let L_STACK_SPAN = 0;
const regLocal = new Int32Array(11);
const reg = (r: number): number => regLocal[r] as number;

/** The most instructions a function may have to be inlined at its call sites. */
const MAX_INLINE = 48;

export function compile(insns: readonly Instruction[], opts: CompileOptions): Compiled {
  const { pcs } = opts;
  const indexOfSlot = new Map<number, number>(pcs.map((pc, i) => [pc, i]));
  // basic block leaders (instruction indexes)
  const leader = new Uint8Array(insns.length + 1);
  leader[0] = 1;
  const target = (i: number, rel: number): number => indexOfSlot.get((pcs[i] as number) + 1 + rel) as number;
  insns.forEach((ins, i) => {
    const cls = ins.op & 7;
    if (cls === 5 || cls === 6) {
      if (ins.op === 0x85) {
        if (ins.src === 1) {
          leader[target(i, ins.imm)] = 1;
          leader[i + 1] = 1;
        }
      } else if (ins.op === 0x95) {
        leader[i + 1] = 1;
      } else if (ins.op !== 0x8d) {
        leader[target(i, ins.op === 0x06 ? ins.imm : ins.off)] = 1;
        leader[i + 1] = 1;
      }
    }
  });
  const funcStarts = [...new Set([0, ...opts.subprograms, ...opts.entries].map((slot) => indexOfSlot.get(slot)))]
    .filter((i): i is number => i !== undefined)
    .sort((a, b) => a - b);
  for (const i of funcStarts) leader[i] = 1;
  const registers = functionRegisters(insns, funcStarts, target);
  /** Whether anything can end the program early (a helper, LD_ABS/LD_IND): only then must callers look. */
  const mayStop = insns.some((x) => x.op === 0x85 || x.op === 0x8d || ((x.op & 7) === 0 && x.op !== 0x18));
  const withBudget = opts.mode === "checked";
  /** Each function's type index; the types themselves, from T_FIRST_FUNCTION on. */
  const functionTypes: Array<{ params: ValType[]; results: ValType[] }> = [];
  const typeOf = registers.map(({ params, returns }) => {
    const i64s = (count: number): ValType[] => new Array<ValType>(count).fill(I64);
    const budget: ValType[] = withBudget ? [I64] : [];
    const signature: { params: ValType[]; results: ValType[] } = {
      params: [...i64s(registersOf(params).length), I64, I32, ...budget],
      results: [I64, ...i64s(registersOf(returns).length), ...budget],
    };
    const key = JSON.stringify(signature);
    let at = functionTypes.findIndex((t) => JSON.stringify(t) === key);
    if (at < 0) at = functionTypes.push(signature) - 1;
    return T_FIRST_FUNCTION + at;
  });
  const blockStarts: number[] = [];
  const blockOf = new Int32Array(insns.length + 1).fill(-1);
  for (let i = 0; i < insns.length; i++) {
    if (leader[i]) blockStarts.push(i);
    blockOf[i] = blockStarts.length - 1;
  }
  // per-function state, set as each function is compiled
  let n = 0; // blocks in the function
  let base = 0; // its first block
  let endInsn = 0; // one past its last instruction
  let structured: Plan | undefined;
  let allStructured = true;
  const open: Construct[] = [];
  /** Set while an unrolled copy of a one-block loop is emitted (not the last): the block its back edge leaves. */
  let unrollExit: Construct | undefined;
  let c = new Code();
  const functionOf = new Map<number, number>(funcStarts.map((i, k) => [i, k]));
  /** The local block number of the block holding instruction i's jump target. */
  const localBlock = (i: number, rel: number): number => (blockOf[target(i, rel)] as number) - base;
  const checked = opts.mode === "checked";

  // the instruction writers of the function being compiled (c changes from function to function)
  const get = (l: number): void => void c.get(l);
  const set = (l: number): void => void c.set(l);
  const i32 = (v: number): void => void c.i32(v);
  const i64 = (v: bigint): void => void c.i64(v);
  const op = (o: number): void => void c.op(o);
  const mem = (o: number, align: number, offset = 0): void => void c.mem(o, align, offset);
  let nesting = 0; // blocks opened inside the current basic block's code (if/else)
  /** What alu.ts's and memory.ts's emitters work on: this function's body, registers, temporaries, mode. */
  const e: MemoryEmit = {
    get c() {
      return c;
    },
    reg,
    get t() {
      return L_T;
    },
    get u() {
      return L_U;
    },
    get t32() {
      return L_T32;
    },
    get a() {
      return L_A;
    },
    get stackLow() {
      return L_STACK_LOW;
    },
    stackTop: opts.stackTop,
    checked,
    scratch: opts.spill,
    hitStart: (write) => (write ? L_WHIT : L_RHIT),
    hitLimit: (write) => (write ? L_WHIT : L_RHIT) + 1,
    stackPointer: (r) => (stackRegs & (1 << r)) !== 0,
    get stackLow64() {
      return L_STACK_LOW64;
    },
    get stackSpan() {
      return L_STACK_SPAN;
    },
    ifThen: (body) => ifThen(body),
    get nesting() {
      return nesting;
    },
    set nesting(v) {
      nesting = v;
    },
  };
  let current = 0; // block whose code is being emitted
  /** br depth to the dispatch loop from the current position. */
  const toDispatch = (): number => n - 1 - current + nesting;
  /** br depth of a direct jump to block k: always in structured code, forward jumps in the dispatch loop. */
  const depthTo = (k: number): number | undefined => {
    if (structured) {
      for (let d = open.length - 1; d >= 0; d--) {
        const x = open[d] as Construct;
        if (x.label === k && (x.kind === "loop") === k <= current) return open.length - 1 - d + nesting;
      }
      throw new Error(`JIT: no construct for a jump from block ${current} to ${k}`);
    }
    return k > current ? k - current - 1 + nesting : undefined;
  };
  /** Jump to block k from the current block's code. */
  const jumpTo = (k: number): void => {
    const depth = depthTo(k);
    if (depth !== undefined) {
      c.byte(OP.br).u32(depth);
    } else if (k > current) {
      c.byte(OP.br).u32(k - current - 1 + nesting);
    } else {
      i32(k);
      set(L_LABEL);
      c.byte(OP.br).u32(toDispatch());
    }
  };
  /** Checked: the hit caches into their locals, at a function's start and after a call (which may remap). */
  const reloadHits = (): void => {
    if (!checked) return;
    for (const [local, at] of [
      [L_RHIT, SCRATCH_READ_HIT],
      [L_WHIT, SCRATCH_WRITE_HIT],
    ] as const) {
      i32(0);
      mem(OP.i64Load, 3, opts.spill + at);
      set(local);
      i32(0);
      mem(OP.i64Load, 3, opts.spill + at + 8);
      set(local + 1);
    }
  };
  const ifThen = (body: () => void): void => {
    c.byte(OP.if).byte(BLOCK_VOID);
    nesting++;
    body();
    nesting--;
    op(OP.end);
  };

  let returned: number[] = []; // the registers this function gives back after r0
  /** Returns from this function: r0, the registers its callers read back, and the budget left. */
  const returnRegisters = (): void => {
    if (inlineExit) {
      // out of an inlined function: its results into the caller's registers, then out of its block
      for (const r of inlineExit.copy) {
        get(reg(r));
        set(inlineExit.into[r] as number);
      }
      c.byte(OP.br).u32(open.length + nesting);
      return;
    }
    get(reg(0));
    for (const r of returned) get(reg(r));
    if (withBudget) get(L_BUDGET);
    op(OP.return);
  };
  /** Ends the whole program (every caller returns as soon as it sees the flag). */
  const exitProgram = (): void => {
    i32(opts.stopFlag);
    i32(1);
    mem(OP.i32Store, 2);
    returnRegisters();
  };

  /**
   * Checked: the registers that, in the function's instructions so far (in program order, whatever the
   * jumps), were set from r10 and then moved or had something added or subtracted: their accesses try the
   * stack first. A guess about the order of the checks only; every check is full.
   */
  let stackRegs = 1 << 10;
  const trackStackPointers = (ins: Instruction): void => {
    const cls = ins.op & 7;
    const bit = 1 << ins.dst;
    const code = ins.op & 0xf0;
    if (cls === 7 && code === 0xb0) {
      const copy = (ins.op & 8) !== 0 && ins.off === 0 && (stackRegs & (1 << ins.src)) !== 0;
      stackRegs = copy ? stackRegs | bit : stackRegs & ~bit;
    } else if (cls === 7 && (code === 0x00 || code === 0x10)) {
      // add and sub keep what the register points into
    } else if (cls === 7 || cls === 4 || cls === 1 || ins.op === 0x18) stackRegs &= ~bit;
    else if (cls === 0)
      stackRegs &= ~1; // LD_ABS / LD_IND write r0
    else if (ins.op === 0x85 || ins.op === 0x8d) stackRegs &= ~0x3f;
    else if ((ins.op & 0xe0) === 0xc0 && (ins.imm & 1) !== 0) stackRegs &= ~((1 << ins.src) | 1); // atomic fetches
  };

  const emitBlock = (b: number): void => {
    current = b;
    const first = blockStarts[base + b] as number;
    const last = b + 1 < n ? (blockStarts[base + b + 1] as number) : endInsn;
    if (checked) {
      // budget: charge the block up front; if it runs out inside, the host names the exact instruction
      // (an i64: exact for any budget a JS number holds; what is left before the block fits an i32)
      get(L_BUDGET);
      i64(BigInt(last - first));
      op(OP.i64Sub);
      c.byte(OP.localTee).u32(L_BUDGET);
      i64(0n);
      op(OP.i64LtS);
      ifThen(() => {
        i32(first);
        get(L_BUDGET);
        op(OP.i32WrapI64);
        i32(last - first);
        op(OP.i32Add);
        c.byte(OP.call).u32(F_BUDGET);
        op(OP.unreachable);
      });
    }
    for (let i = first; i < last; i++) {
      const ins = insns[i] as Instruction;
      const next = insns[i + 1];
      if (i + 1 < last && next && isLoadThenBe16(ins, next)) {
        loadBigEndian16(e, ins, pcs[i] as number);
        trackStackPointers(ins);
        i++;
      } else {
        emitInsn(ins, i);
        trackStackPointers(ins);
      }
    }
    // falling off the block's end continues into the next block's code
  };

  const emitInsn = (ins: Instruction, i: number): void => {
    const pc = pcs[i] as number;
    const o = ins.op;
    const cls = o & 7;
    const d = reg(ins.dst);
    switch (cls) {
      case 7: // ALU64
      case 4: {
        const is64 = cls === 7;
        const code = o & 0xf0;
        if (is64) alu64(e, ins, code, d);
        else alu32(e, ins, code);
        return;
      }
      case 0: // lddw (and the legacy LD_ABS/LD_IND with class LD)
        if (o === 0x18) {
          i64((BigInt(ins.imm2 ?? 0) << 32n) | BigInt(ins.imm >>> 0));
          set(d);
          return;
        }
        ldAbs(e, ins, opts.spill, exitProgram);
        return;
      case 1: {
        // LDX (and MEMSX)
        const size = (o & 0x18) === 0x18 ? 8 : (o & 0x18) === 0 ? 4 : (o & 0x18) === 0x08 ? 2 : 1;
        const at = addressOnStack(e, ins.src, ins.off, size, false, pc);
        const sx = (o & 0xe0) === 0x80;
        if (size === 8) mem(OP.i64Load, 3, at);
        else if (size === 4) mem(sx ? OP.i64Load32s : OP.i64Load32u, 2, at);
        else if (size === 2) mem(sx ? OP.i64Load16s : OP.i64Load16u, 1, at);
        else mem(sx ? OP.i64Load8s : OP.i64Load8u, 0, at);
        set(d);
        return;
      }
      case 2:
      case 3: {
        const size = (o & 0x18) === 0x18 ? 8 : (o & 0x18) === 0 ? 4 : (o & 0x18) === 0x08 ? 2 : 1;
        if ((o & 0xe0) === 0xc0) {
          atomic(e, ins, size, pc);
          return;
        }
        const at = addressOnStack(e, ins.dst, ins.off, size, true, pc);
        if (cls === 3) get(reg(ins.src));
        else i64(BigInt(ins.imm));
        mem(size === 8 ? OP.i64Store : size === 4 ? OP.i64Store32 : size === 2 ? OP.i64Store16 : OP.i64Store8, 0, at);
        return;
      }
      default:
        jump(ins, i, pc);
    }
  };

  const jump = (ins: Instruction, i: number, pc: number): void => {
    const o = ins.op;
    if (o === 0x95) {
      returnRegisters(); // to the caller, or (from the entry function) out of the run
      return;
    }
    if (o === 0x85 && ins.src === 1) {
      // bpf2bpf call: r0-r10 in (r10 one frame lower), r0-r5 and the budget back; stop if the callee ended the run
      get(L_DEPTH);
      i32(MAX_CALL_FRAMES - 1);
      op(OP.i32GeS);
      ifThen(() => {
        i32(FAULT_CALL_DEPTH);
        i32(pc);
        for (let k = 0; k < 4; k++) i32(0);
        c.byte(OP.call).u32(F_FAULT);
        op(OP.unreachable);
      });
      const callee = functionOf.get(target(i, ins.imm)) as number;
      if (inlinable[callee]) {
        emitInline(callee);
        return;
      }
      const { params, returns } = registers[callee] as { params: number; returns: number };
      for (const r of registersOf(params)) get(reg(r));
      get(reg(10));
      i64(BigInt(STACK_SIZE));
      op(OP.i64Sub);
      get(L_DEPTH);
      i32(1);
      op(OP.i32Add);
      if (withBudget) get(L_BUDGET);
      c.byte(OP.call).u32(F_FIRST + callee);
      if (withBudget) set(L_BUDGET);
      reloadHits();
      for (const r of registersOf(returns).reverse()) set(reg(r));
      set(reg(0));
      if (mayStop) {
        i32(opts.stopFlag);
        mem(OP.i32Load, 2);
        ifThen(returnRegisters);
      }
      return;
    }
    if (o === 0x85 || o === 0x8d) {
      // helper call (callx: the id in a register): registers out to the spill area, r0 back
      for (let r = 0; r <= 5; r++) {
        i32(opts.spill + r * 8);
        get(reg(r));
        mem(OP.i64Store, 3);
      }
      if (o === 0x8d) {
        get(reg(ins.dst));
        op(OP.i32WrapI64);
      } else i32(ins.imm);
      i32(pc);
      get(L_DEPTH);
      c.byte(OP.call).u32(F_HELPER);
      i32(opts.spill);
      mem(OP.i64Load, 3);
      set(reg(0));
      reloadHits();
      ifThen(exitProgram);
      return;
    }
    if (o === 0x05 || o === 0x06) {
      jumpTo(localBlock(i, o === 0x06 ? ins.imm : ins.off));
      return;
    }
    if (isMayGoto(ins)) {
      // taken when this call's count is used up, else counted down
      get(L_LOOPS);
      op(OP.i32Eqz);
      c.byte(OP.if).byte(I32);
      i32(1);
      op(OP.else);
      get(L_LOOPS);
      i32(1);
      op(OP.i32Sub);
      set(L_LOOPS);
      i32(0);
      op(OP.end);
    } else condition(e, ins); // conditional jumps
    if (unrollExit) {
      // an unrolled copy's back edge: leave the copies when the loop would end, else fall into the next copy
      op(OP.i32Eqz);
      c.byte(OP.brIf).u32(open.length - 1 - open.indexOf(unrollExit) + nesting);
      return;
    }
    const k = localBlock(i, ins.off);
    const depth = depthTo(k);
    if (depth !== undefined) c.byte(OP.brIf).u32(depth);
    else ifThen(() => jumpTo(k));
  };

  /** Each function's blocks and their structure (undefined: the dispatch loop). */
  interface FunctionLayout {
    first: number;
    base: number;
    n: number;
    end: number;
    plan: Plan | undefined;
  }
  const layouts: FunctionLayout[] = funcStarts.map((first, k) => {
    const end = funcStarts[k + 1] ?? insns.length;
    base = blockOf[first] as number;
    n = (end < insns.length ? (blockOf[end] as number) : blockStarts.length) - base;
    const jumps: number[][] = Array.from({ length: n }, () => []);
    for (let i = first; i < end; i++) {
      const ins = insns[i] as Instruction;
      const cls = ins.op & 7;
      if ((cls === 5 || cls === 6) && ins.op !== 0x85 && ins.op !== 0x8d && ins.op !== 0x95)
        (jumps[(blockOf[i] as number) - base] as number[]).push(localBlock(i, ins.op === 0x06 ? ins.imm : ins.off));
    }
    return { first, base, n, end, plan: plan(n, jumps) };
  });
  const calleeOf = (ins: Instruction, i: number): number => functionOf.get(target(i, ins.imm)) as number;
  /**
   * Small structured functions that call nothing and cannot end the program are inlined at their call sites
   * (a wasm call costs more than such a body): same registers in, same ones back, own stack frame.
   */
  const inlinable = layouts.map((l) => {
    if (!l.plan || l.end - l.first > MAX_INLINE) return false;
    for (let i = l.first; i < l.end; i++) {
      const x = insns[i] as Instruction;
      if (x.op === 0x85 || x.op === 0x8d || ((x.op & 7) === 0 && x.op !== 0x18) || isMayGoto(x)) return false;
    }
    return true;
  });
  let inlineRegs = 0; // the first of the 11 locals an inlined function's registers live in
  /** Set while an inlined function is emitted: where its exit stores r0 (and what the caller reads back). */
  let inlineExit: { into: Int32Array; copy: number[] } | undefined;

  /** The frame's stack: [r10 - 512, r10); with the callers' frames above it, up to the top. */
  const setStackLow = (): void => {
    if (!checked) return;
    get(reg(10));
    op(OP.i32WrapI64);
    i32(STACK_SIZE);
    op(OP.i32Sub);
    c.byte(OP.localTee).u32(L_STACK_LOW);
    // and for the inline check: the low bound in 64 bits, and how far above it an 8-byte access may start
    op(OP.i64ExtendI32u);
    set(L_STACK_LOW64);
    i64(BigInt(opts.stackTop - 8));
    get(L_STACK_LOW64);
    op(OP.i64Sub);
    set(L_STACK_SPAN);
  };

  const emitStructured = (p: Plan): void => {
    for (let b = 0; b < n; b++) {
      for (const x of p.opens[b] ?? []) {
        c.byte(x.kind === "loop" ? OP.loop : OP.block).byte(BLOCK_VOID);
        open.push(x);
      }
      const first = blockStarts[base + b] as number;
      const copies = unrollCopies(p, b, insns, first, b + 1 < n ? (blockStarts[base + b + 1] as number) : endInsn);
      if (copies > 1) {
        // copies of a one-block loop in a row, each but the last leaving when its condition fails, so the
        // loop goes round once per `copies` iterations (V8 checks for interrupts once per round)
        const copiesBlock: Construct = { kind: "block", start: b, last: b, label: -1 };
        c.byte(OP.block).byte(BLOCK_VOID);
        open.push(copiesBlock);
        unrollExit = copiesBlock;
        for (let k = 1; k < copies; k++) emitBlock(b);
        unrollExit = undefined;
        emitBlock(b);
        open.pop();
        op(OP.end);
      } else emitBlock(b);
      for (const x of p.closes[b] ?? []) {
        if (open.pop() !== x) throw new Error("JIT: constructs do not nest");
        op(OP.end);
      }
    }
  };

  /**
   * A call to an inlinable function: its body in a block, on its own registers (the caller's passed ones
   * copied in, r10 one frame lower); its exits copy r0 and the registers callers read back out and leave
   * the block.
   */
  const emitInline = (callee: number): void => {
    const l = layouts[callee] as FunctionLayout;
    const { params, returns } = registers[callee] as { params: number; returns: number };
    const callerRegs = regLocal.slice();
    const saved = { base, n, endInsn, structured, current, nesting, open: open.splice(0), exit: inlineExit };
    const calleeRegs = Int32Array.from({ length: 11 }, (_, r) => inlineRegs + r);
    for (const r of registersOf(params)) {
      get(callerRegs[r] as number);
      set(calleeRegs[r] as number);
    }
    get(callerRegs[10] as number);
    i64(BigInt(STACK_SIZE));
    op(OP.i64Sub);
    set(calleeRegs[10] as number);
    regLocal.set(calleeRegs);
    setStackLow();
    c.byte(OP.block).byte(BLOCK_VOID);
    ({ base, n, end: endInsn } = l);
    structured = l.plan;
    nesting = 0;
    inlineExit = { into: callerRegs, copy: [0, ...registersOf(returns)] };
    emitStructured(l.plan as Plan);
    op(OP.unreachable); // validated functions never fall off their end
    op(OP.end);
    ({ base, n, endInsn, structured, current, nesting } = saved);
    open.push(...saved.open);
    inlineExit = saved.exit;
    regLocal.set(callerRegs);
    setStackLow();
  };

  const functions: Array<{ type: number; locals: Array<[number, ValType]>; code: Bytes }> = [];
  funcStarts.forEach((firstInsn, k) => {
    const layout = layouts[k] as FunctionLayout;
    ({ base, n, end: endInsn, plan: structured } = layout);
    if (!structured) allStructured = false;
    let inlines = false;
    for (let i = firstInsn; i < endInsn; i++) {
      const x = insns[i] as Instruction;
      if (x.op === 0x85 && x.src === 1 && inlinable[calleeOf(x, i)]) inlines = true;
    }
    c = new Code();
    open.length = 0;
    const { params, returns } = registers[k] as { params: number; returns: number };
    returned = registersOf(returns);
    const passed = registersOf(params);
    const kept = Array.from({ length: 10 }, (_, r) => r).filter((r) => !(params & (1 << r)));
    passed.forEach((r, at) => {
      regLocal[r] = at;
    });
    regLocal[10] = passed.length;
    L_DEPTH = passed.length + 1;
    let next = L_DEPTH + 1;
    if (withBudget) L_BUDGET = next++;
    for (const r of kept) regLocal[r] = next++;
    L_LABEL = next++;
    L_STACK_LOW = next++;
    L_A = next++;
    L_T32 = next++;
    L_LOOPS = next++;
    if (!withBudget) L_BUDGET = next++;
    L_T = next++;
    L_U = next++;
    L_RHIT = next;
    L_WHIT = next + 2;
    L_STACK_LOW64 = next + 4;
    L_STACK_SPAN = next + 5;
    next += 6;
    inlineRegs = next;
    setStackLow();
    reloadHits();
    stackRegs = 1 << 10;
    if (insns.slice(firstInsn, endInsn).some(isMayGoto)) {
      i32(MAY_GOTO_LOOPS);
      set(L_LOOPS);
    }
    if (structured) {
      emitStructured(structured);
    } else {
      c.byte(OP.loop).byte(BLOCK_VOID);
      for (let b = n - 1; b >= 0; b--) c.byte(OP.block).byte(BLOCK_VOID);
      get(L_LABEL);
      c.byte(OP.brTable).u32(n);
      for (let b = 0; b < n; b++) c.u32(b);
      c.u32(0);
      op(OP.end); // block 0 ends: its code follows
      for (let b = 0; b < n; b++) {
        emitBlock(b);
        op(OP.end); // closes block b+1 (or, after the last block, the dispatch loop)
      }
    }
    op(OP.unreachable); // validated programs never fall off the end of a function
    functions.push({
      type: typeOf[k] as number,
      locals: [
        [kept.length, I64], // the registers not passed
        [withBudget ? 5 : 6, I32], // label, stack low, address, temp, may_goto's count (and the unused budget)
        [8, I64], // temps, the hit caches, the stack's bounds
        [inlines ? 11 : 0, I64], // the registers of functions inlined here
      ],
      code: c,
    });
  });

  const entry = { registers, firstFunction: F_FIRST, withBudget, mayStop, ...opts };
  functions.push({ type: T_MAIN, locals: [[1, I64]], code: runFunction(entry) });
  functions.push({ type: T_SCAN, locals: [[3, I32]], code: scanFunction(entry) });

  const module = wasmModule({
    types: [
      { params: [I32, I32, I32], results: [I32] }, // 0: helper(id, pc, depth)
      { params: [I32, I32, I32, I32, I32, I32], results: [] }, // 1: fault
      { params: [I32, I32], results: [] }, // 2: budget
      // the budget crosses from JS as an f64: every integer up to 2^53 exactly, and no BigInt per call
      { params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F64, I32], results: [I32] }, // 3: run
      { params: [I32, I32, F64, I32], results: [I32] }, // 4: scan(pos, end, budget, longest)
      ...functionTypes,
    ],
    imports: [
      { module: "env", name: "fault", kind: "func", type: 1 },
      { module: "env", name: "helper", kind: "func", type: 0 },
      { module: "env", name: "budget", kind: "func", type: 2 },
      { module: "env", name: "memory", kind: "memory" },
    ],
    functions,
    exports: [
      { name: "run", func: F_FIRST + funcStarts.length },
      { name: "scan", func: F_FIRST + funcStarts.length + 1 },
    ],
  });
  const functionOfSlot = new Map<number, number>(funcStarts.map((i, k) => [pcs[i] as number, k]));
  return { module, functionOfSlot, blockStarts, structured: allStructured };
}
