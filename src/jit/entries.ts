/**
 * The module's two exported entry functions, which call into the subprogram functions. `run` takes r1-r5 as
 * i32 halves, the function to enter, the call depth, the budget and a repeat count (BPF_PROG_TEST_RUN's
 * repeat, without crossing back into JS); it returns the last r0's low half and leaves all of it in the
 * spill area. `scan` runs the entry function once per little-endian pcap record (16-byte header, then the
 * packet) in [pos, end) with r1 = the packet and r2 = its wire length, and returns how many gave a non-zero
 * r0 (low half); the offset of the first incomplete record and the number of records run go to the spill
 * area. For filters.
 */
import { STACK_SIZE } from "../isa/opcodes.js";
import { type FunctionRegisters, registersOf } from "./liveness.js";
import { BLOCK_VOID, Code, OP } from "./wasm.js";

// the packet for LD_ABS/LD_IND, written by the host into the engine scratch after the register spill
export const PKT_START = 48;
export const PKT_LEN = 52;
export const PKT_LINK = 56;
export const PKT_NET = 60;

/** What the entry functions need to know about the compiled program. */
export interface EntryLayout {
  /** Each subprogram function's parameters and results. */
  readonly registers: readonly FunctionRegisters[];
  /** The wasm function index of subprogram 0. */
  readonly firstFunction: number;
  /** Checked mode: functions take and give back the instruction budget. */
  readonly withBudget: boolean;
  /** Whether anything can end the program early (then the stop flag is reset per run). */
  readonly mayStop: boolean;
  readonly stopFlag: number;
  readonly spill: number;
  readonly stackTop: number;
}

/** run(r1lo, r1hi, ..., r5lo, r5hi, entry function, depth, budget, repeat) → r0's low half. */
export function runFunction(e: EntryLayout): Code {
  const c = new Code();
  c.byte(OP.loop).byte(BLOCK_VOID);
  if (e.mayStop) {
    c.i32(e.stopFlag);
    c.i32(0);
    c.mem(OP.i32Store, 2);
  }
  e.registers.forEach((_, k) => {
    const { params, returns } = e.registers[k] as { params: number; returns: number };
    c.get(10);
    c.i32(k);
    c.op(OP.i32Eq);
    c.byte(OP.if).byte(BLOCK_VOID);
    for (const r of registersOf(params)) {
      if (r >= 1 && r <= 5) {
        c.get(2 * (r - 1) + 1);
        c.op(OP.i64ExtendI32u);
        c.i64(32n);
        c.op(OP.i64Shl);
        c.get(2 * (r - 1));
        c.op(OP.i64ExtendI32u);
        c.op(OP.i64Or);
      } else c.i64(0n);
    }
    c.i32(e.stackTop);
    c.get(11);
    c.i32(STACK_SIZE);
    c.op(OP.i32Mul);
    c.op(OP.i32Sub);
    c.op(OP.i64ExtendI32u); // r10
    c.get(11); // depth
    if (e.withBudget) {
      c.get(12); // budget
      c.op(OP.i64TruncF64S);
    }
    c.byte(OP.call).u32(e.firstFunction + k);
    if (e.withBudget) c.op(OP.drop); // budget left
    for (const _ of registersOf(returns)) c.op(OP.drop);
    c.set(14);
    c.op(OP.end);
  });
  c.get(13);
  c.i32(1);
  c.op(OP.i32Sub);
  c.byte(OP.localTee).u32(13);
  c.i32(0);
  c.op(OP.i32GtS);
  c.byte(OP.brIf).u32(0);
  c.op(OP.end);
  c.i32(e.spill);
  c.get(14);
  c.mem(OP.i64Store, 3);
  c.get(14);
  c.op(OP.i32WrapI64);
  return c;
}

/**
 * scan(pos, end, budget, longest) → records with a non-zero r0, walking pcap records from pos; stops at the
 * first record that ends past `end` or captured more than `longest` bytes (its offset is left in the spill area).
 */
export function scanFunction(e: EntryLayout): Code {
  const c = new Code();
  const P_POS = 0;
  const P_END = 1;
  const P_BUDGET = 2;
  const P_LONGEST = 3;
  const L_COUNT = 4;
  const L_LEN = 5;
  const L_RECS = 6;
  /** Pushes the address of the current record's packet (after its 16-byte header). */
  const packet = (): void => {
    c.get(P_POS);
    c.i32(16);
    c.op(OP.i32Add);
  };
  const increment = (local: number): void => {
    c.get(local);
    c.i32(1);
    c.op(OP.i32Add);
    c.set(local);
  };
  c.byte(OP.block).byte(BLOCK_VOID);
  c.byte(OP.loop).byte(BLOCK_VOID);
  packet();
  c.get(P_END);
  c.op(OP.i32GtU);
  c.byte(OP.brIf).u32(1);
  c.get(P_POS);
  c.mem(OP.i32Load, 2, 8);
  c.set(L_LEN);
  // a record longer than the caller allows stops the scan there too (the caller decides what it means)
  c.get(L_LEN);
  c.get(P_LONGEST);
  c.op(OP.i32GtU);
  c.byte(OP.brIf).u32(1);
  packet();
  c.get(L_LEN);
  c.op(OP.i32Add);
  c.get(P_END);
  c.op(OP.i32GtU);
  c.byte(OP.brIf).u32(1);
  if (e.mayStop) {
    c.i32(e.stopFlag);
    c.i32(0);
    c.mem(OP.i32Store, 2);
  }
  for (const at of [PKT_START, PKT_LINK, PKT_NET]) {
    c.i32(e.spill + at);
    packet();
    c.mem(OP.i32Store, 2);
  }
  c.i32(e.spill + PKT_LEN);
  c.get(L_LEN);
  c.mem(OP.i32Store, 2);
  const entry = e.registers[0] as { params: number; returns: number };
  for (const r of registersOf(entry.params)) {
    if (r === 1) {
      packet(); // r1
      c.op(OP.i64ExtendI32u);
    } else if (r === 2) {
      c.get(P_POS); // r2 = its wire length
      c.mem(OP.i32Load, 2, 12);
      c.op(OP.i64ExtendI32u);
    } else c.i64(0n);
  }
  c.i32(e.stackTop);
  c.op(OP.i64ExtendI32u); // r10
  c.i32(0); // depth
  if (e.withBudget) {
    c.get(P_BUDGET);
    c.op(OP.i64TruncF64S);
  }
  c.byte(OP.call).u32(e.firstFunction);
  if (e.withBudget) c.op(OP.drop); // budget left
  for (const _ of registersOf(entry.returns)) c.op(OP.drop);
  c.op(OP.i32WrapI64);
  c.byte(OP.if).byte(BLOCK_VOID);
  increment(L_COUNT);
  c.op(OP.end);
  increment(L_RECS);
  packet(); // the next record
  c.get(L_LEN);
  c.op(OP.i32Add);
  c.set(P_POS);
  c.byte(OP.br).u32(0);
  c.op(OP.end);
  c.op(OP.end);
  c.i32(e.spill);
  c.get(P_POS);
  c.mem(OP.i32Store, 2);
  c.i32(e.spill + 4);
  c.get(L_RECS);
  c.mem(OP.i32Store, 2);
  c.get(L_COUNT);
  return c;
}
