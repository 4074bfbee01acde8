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
import type { MemoryEmit } from "./memory.js";
import { BLOCK_VOID, OP } from "./wasm.js";

/**
 * Accepts [e.t, e.t + size) on the live frames' stack or in a region of the table (writable for a write), or
 * runs `refuse` (which must not return). Works in e.u, e.t32 (the entries left) and e.a (the current entry),
 * and leaves the i32 address in e.a again afterwards.
 */
export function regionCheck(e: MemoryEmit, size: number, write: boolean, refuse: () => void): void {
  const c = e.c;
  const scratch = e.scratch;
  // e.t32 counts the entries left; e.a holds the current entry's address
  c.byte(OP.block).byte(BLOCK_VOID);
  // [stackLow, stackTop - size]: the live frames' stack
  c.get(e.t);
  c.get(e.stackLow);
  c.op(OP.i64ExtendI32u);
  c.op(OP.i64GeU);
  c.get(e.t);
  c.i64(BigInt(e.stackTop - size));
  c.op(OP.i64LeU);
  c.op(OP.i32And);
  c.byte(OP.brIf).u32(0);
  c.i32(0);
  c.mem(OP.i32Load, 2, scratch + SCRATCH_REGIONS + 4);
  c.set(e.t32);
  c.byte(OP.loop).byte(BLOCK_VOID);
  c.get(e.t32);
  c.op(OP.i32Eqz);
  c.byte(OP.if).byte(BLOCK_VOID);
  refuse();
  c.op(OP.end);
  c.get(e.t32);
  c.i32(1);
  c.op(OP.i32Sub);
  c.byte(OP.localTee).u32(e.t32);
  c.i32(REGION_ENTRY);
  c.op(OP.i32Mul);
  c.i32(0);
  c.mem(OP.i32Load, 2, scratch + SCRATCH_REGIONS);
  c.op(OP.i32Add);
  c.set(e.a);
  // start <= t <= end - size (end >= size: regions start above the guard page), writable for a write
  const start = (): void => {
    c.get(e.a);
    c.mem(OP.i64Load32u, 2, 0);
  };
  const end = (): void => {
    c.get(e.a);
    c.mem(OP.i64Load32u, 2, 4);
  };
  c.get(e.t);
  start();
  c.op(OP.i64GeU);
  c.get(e.t);
  end();
  c.i64(BigInt(size));
  c.op(OP.i64Sub);
  c.op(OP.i64LeU);
  c.op(OP.i32And);
  if (write) {
    c.get(e.a);
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
  c.byte(OP.localTee).u32(e.u);
  c.i64(0n);
  c.op(OP.i64GeS);
  c.byte(OP.if).byte(BLOCK_VOID);
  const hit = scratch + SCRATCH_READ_HIT + (write ? 16 : 0);
  start();
  c.set(e.hitStart(write));
  c.get(e.u);
  c.set(e.hitLimit(write));
  c.i32(0);
  c.get(e.hitStart(write));
  c.mem(OP.i64Store, 3, hit);
  c.i32(0);
  c.get(e.u);
  c.mem(OP.i64Store, 3, hit + 8);
  c.op(OP.end);
  c.byte(OP.br).u32(2); // out of the loop and the block
  c.op(OP.end);
  c.byte(OP.br).u32(0); // the next entry
  c.op(OP.end);
  c.op(OP.end);
  c.get(e.t);
  c.op(OP.i32WrapI64);
  c.set(e.a);
}
