/**
 * The checked JIT's slow path for an access the inline checks could not pass (memory.ts), emitted inline
 * where the access is. It accepts the live frames' stack and any region in the machine's region table
 * (exec/memory.ts keeps it in linear memory), and remembers the region it found in the read or write hit
 * cache — in the function's locals and in the engine scratch — for the inline checks that follow. It calls
 * nothing on the way to success: a call inside a loop made V8 keep the loop's registers in memory (checksum1500
 * ran at 2.6x its trusted time with a check function called here, 1.9x with the scan inline). Only a refusal
 * calls out, and nothing runs after it.
 */
import { REGION_ENTRY, SCRATCH_READ_HIT, SCRATCH_REGIONS } from "../exec/memory.js";
import { BLOCK_VOID, type Code, OP } from "./wasm.js";

/** The locals the slow path works in, besides the address. */
export interface RegionCheckLocals {
  /** i64: the access's address. */
  readonly t: number;
  /** i64 temp. */
  readonly u: number;
  /** i32 temps: the entries left to scan, and the current entry (the address local, restored afterwards). */
  readonly count: number;
  readonly entry: number;
  /** i32: the live frames' lowest stack address. */
  readonly stackLow: number;
  /** i64 pairs: the hit cache's start and its length less 8. */
  readonly hitStart: number;
  readonly hitLimit: number;
}

/**
 * Accepts [t, t + size) on the live frames' stack or in a region of the table (writable for a write), or
 * runs `refuse` (which must not return). Leaves the i32 address in `entry` again afterwards.
 */
export function regionCheck(
  c: Code,
  l: RegionCheckLocals,
  scratch: number,
  stackTop: number,
  size: number,
  write: boolean,
  refuse: () => void,
): void {
  c.byte(OP.block).byte(BLOCK_VOID);
  // [stackLow, stackTop - size]: the live frames' stack
  c.get(l.t);
  c.get(l.stackLow);
  c.op(OP.i64ExtendI32u);
  c.op(OP.i64GeU);
  c.get(l.t);
  c.i64(BigInt(stackTop - size));
  c.op(OP.i64LeU);
  c.op(OP.i32And);
  c.byte(OP.brIf).u32(0);
  c.i32(0);
  c.mem(OP.i32Load, 2, scratch + SCRATCH_REGIONS + 4);
  c.set(l.count);
  c.byte(OP.loop).byte(BLOCK_VOID);
  c.get(l.count);
  c.op(OP.i32Eqz);
  c.byte(OP.if).byte(BLOCK_VOID);
  refuse();
  c.op(OP.end);
  c.get(l.count);
  c.i32(1);
  c.op(OP.i32Sub);
  c.byte(OP.localTee).u32(l.count);
  c.i32(REGION_ENTRY);
  c.op(OP.i32Mul);
  c.i32(0);
  c.mem(OP.i32Load, 2, scratch + SCRATCH_REGIONS);
  c.op(OP.i32Add);
  c.set(l.entry);
  // start <= t <= end - size (end >= size: regions start above the guard page), writable for a write
  const start = (): void => {
    c.get(l.entry);
    c.mem(OP.i64Load32u, 2, 0);
  };
  const end = (): void => {
    c.get(l.entry);
    c.mem(OP.i64Load32u, 2, 4);
  };
  c.get(l.t);
  start();
  c.op(OP.i64GeU);
  c.get(l.t);
  end();
  c.i64(BigInt(size));
  c.op(OP.i64Sub);
  c.op(OP.i64LeU);
  c.op(OP.i32And);
  if (write) {
    c.get(l.entry);
    c.mem(OP.i32Load, 2, 8);
    c.op(OP.i32And);
  }
  c.byte(OP.if).byte(BLOCK_VOID);
  // remembered as (start, length - 8) when at least 8 bytes long
  end();
  start();
  c.op(OP.i64Sub);
  c.i64(8n);
  c.op(OP.i64Sub);
  c.byte(OP.localTee).u32(l.u);
  c.i64(0n);
  c.op(OP.i64GeS);
  c.byte(OP.if).byte(BLOCK_VOID);
  const hit = scratch + SCRATCH_READ_HIT + (write ? 16 : 0);
  start();
  c.set(l.hitStart);
  c.get(l.u);
  c.set(l.hitLimit);
  c.i32(0);
  c.get(l.hitStart);
  c.mem(OP.i64Store, 3, hit);
  c.i32(0);
  c.get(l.u);
  c.mem(OP.i64Store, 3, hit + 8);
  c.op(OP.end);
  c.byte(OP.br).u32(2); // out of the loop and the block
  c.op(OP.end);
  c.byte(OP.br).u32(0); // the next entry
  c.op(OP.end);
  c.op(OP.end);
  c.get(l.t);
  c.op(OP.i32WrapI64);
  c.set(l.entry);
}
