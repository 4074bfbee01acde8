/**
 * The checked JIT's slow path for an access the inline checks could not pass (memory.ts): a wasm function,
 * so no access crosses into JS. It accepts the live frames' stack and any region in the machine's region
 * table (exec/memory.ts keeps it in linear memory), and remembers the region it found in the read or
 * write hit cache, which compiled functions copy into locals and check inline first.
 */
import { REGION_ENTRY, SCRATCH_READ_HIT, SCRATCH_REGIONS } from "../exec/memory.js";
import { BLOCK_VOID, Code, I32, I64, OP, type ValType } from "./wasm.js";

/** check(address: i64, size: i32, write: i32, stackLow: i32) → 1 when the access may happen. */
export const CHECK_TYPE = { params: [I64, I32, I32, I32] as ValType[], results: [I32] as ValType[] };

const P_T = 0;
const P_SIZE = 1;
const P_WRITE = 2;
const P_STACK_LOW = 3;
const L_I = 4;
const L_ENTRY = 5;
const L_START = 6;
const L_END = 7;
/** The check function's locals after its parameters: count, entry address, start, end. */
export const CHECK_LOCALS: Array<[number, ValType]> = [
  [2, I32],
  [2, I64],
];

export function checkFunction(scratch: number, stackTop: number): Code {
  const c = new Code();
  const size64 = (): void => {
    c.get(P_SIZE);
    c.op(OP.i64ExtendI32u);
  };
  // [stackLow, stackTop - size]: the live frames' stack
  c.get(P_T);
  c.get(P_STACK_LOW);
  c.op(OP.i64ExtendI32u);
  c.op(OP.i64GeU);
  c.get(P_T);
  c.i64(BigInt(stackTop));
  size64();
  c.op(OP.i64Sub);
  c.op(OP.i64LeU);
  c.op(OP.i32And);
  c.byte(OP.if).byte(BLOCK_VOID);
  c.i32(1);
  c.op(OP.return);
  c.op(OP.end);
  c.i32(scratch + SCRATCH_REGIONS + 4);
  c.mem(OP.i32Load, 2);
  c.set(L_I);
  c.byte(OP.loop).byte(BLOCK_VOID);
  c.get(L_I);
  c.op(OP.i32Eqz);
  c.byte(OP.if).byte(BLOCK_VOID);
  c.i32(0);
  c.op(OP.return);
  c.op(OP.end);
  c.get(L_I);
  c.i32(1);
  c.op(OP.i32Sub);
  c.set(L_I);
  c.i32(scratch + SCRATCH_REGIONS);
  c.mem(OP.i32Load, 2);
  c.get(L_I);
  c.i32(REGION_ENTRY);
  c.op(OP.i32Mul);
  c.op(OP.i32Add);
  c.byte(OP.localTee).u32(L_ENTRY);
  c.mem(OP.i64Load32u, 2, 0);
  c.set(L_START);
  c.get(L_ENTRY);
  c.mem(OP.i64Load32u, 2, 4);
  c.set(L_END);
  // start <= t <= end - size (end >= size: regions start above the guard page), writable for a write
  c.get(P_T);
  c.get(L_START);
  c.op(OP.i64GeU);
  c.get(P_T);
  c.get(L_END);
  size64();
  c.op(OP.i64Sub);
  c.op(OP.i64LeU);
  c.op(OP.i32And);
  c.get(P_WRITE);
  c.op(OP.i32Eqz);
  c.get(L_ENTRY);
  c.mem(OP.i32Load, 2, 8);
  c.op(OP.i32Or);
  c.op(OP.i32And);
  c.byte(OP.if).byte(BLOCK_VOID);
  // remembered as (start, length - 8) when at least 8 bytes long
  c.get(L_END);
  c.get(L_START);
  c.op(OP.i64Sub);
  c.i64(8n);
  c.op(OP.i64GeU);
  c.byte(OP.if).byte(BLOCK_VOID);
  const hit = (): void => {
    c.get(P_WRITE);
    c.i32(16);
    c.op(OP.i32Mul);
  };
  hit();
  c.get(L_START);
  c.mem(OP.i64Store, 3, scratch + SCRATCH_READ_HIT);
  hit();
  c.get(L_END);
  c.get(L_START);
  c.op(OP.i64Sub);
  c.i64(8n);
  c.op(OP.i64Sub);
  c.mem(OP.i64Store, 3, scratch + SCRATCH_READ_HIT + 8);
  c.op(OP.end);
  c.i32(1);
  c.op(OP.return);
  c.op(OP.end);
  c.byte(OP.br).u32(0);
  c.op(OP.end);
  c.op(OP.unreachable);
  return c;
}
