/**
 * eBPF's loads, stores and atomics as WebAssembly. Checked mode computes each address in full and faults
 * (through the host, with the interpreter's error and pc) unless it lies on the live frames' stack or in a
 * region of the machine; trusted mode lets wasm's own bounds keep the access inside linear memory.
 */
import type { Instruction } from "../isa/instruction.js";
import type { Emit } from "./alu.js";
import { F_FAULT, F_IN_REGION, FAULT_LOAD, FAULT_STORE } from "./imports.js";
import { I32, OP } from "./wasm.js";

/** What these emitters need beyond alu.ts's: the address local, the stack bounds, the mode. */
export interface MemoryEmit extends Emit {
  /** An i32 local for the effective address. */
  readonly a: number;
  /** The i32 local holding the lowest stack address of the live frames, and the stack's top. */
  readonly stackLow: number;
  readonly stackTop: number;
  readonly checked: boolean;
  /** Runs body inside `if` … `end` on the i32 at the top of the stack. */
  ifThen(body: () => void): void;
}

/** The effective address of [base + off] into e.a, faulting (checked mode) unless it is readable/writable. */
export function address(e: MemoryEmit, base: number, off: number, size: number, write: boolean, pc: number): void {
  const c = e.c;
  c.get(e.reg(base));
  c.i64(BigInt(off));
  c.op(OP.i64Add);
  if (!e.checked) {
    c.op(OP.i32WrapI64);
    c.set(e.a);
    return;
  }
  c.byte(OP.localTee).u32(e.t);
  c.op(OP.i32WrapI64);
  c.set(e.a);
  // valid only below 4 GiB, and then on the live frames' stack or in a region
  c.get(e.t);
  c.i64(32n);
  c.op(OP.i64ShrU);
  c.op(OP.i64Eqz);
  c.byte(OP.if).byte(I32);
  c.get(e.a);
  c.get(e.stackLow);
  c.op(OP.i32GeU);
  // a <= top - size (a + size would wrap for addresses near 4 GiB)
  c.get(e.a);
  c.i32(e.stackTop - size);
  c.op(OP.i32LeU);
  c.op(OP.i32And);
  c.byte(OP.if).byte(I32);
  c.i32(1);
  c.op(OP.else);
  c.get(e.a);
  c.i32(size);
  c.i32(write ? 1 : 0);
  c.byte(OP.call).u32(F_IN_REGION);
  c.op(OP.end);
  c.op(OP.else);
  c.i32(0);
  c.op(OP.end);
  c.op(OP.i32Eqz);
  e.ifThen(() => {
    c.i32(write ? FAULT_STORE : FAULT_LOAD);
    c.i32(pc);
    c.get(e.reg(base));
    c.op(OP.i32WrapI64);
    c.get(e.reg(base));
    c.i64(32n);
    c.op(OP.i64ShrU);
    c.op(OP.i32WrapI64);
    c.i32(off);
    c.i32(size);
    c.byte(OP.call).u32(F_FAULT);
    c.op(OP.unreachable);
  });
}

/**
 * Pushes the i32 address of [base + off] and returns the memarg offset to load or store with. Trusted:
 * a non-negative offset goes into the memarg (the access folds into one machine instruction), a negative
 * one is added in 32 bits; either is exact for every access that stays inside memory. Checked: as address(e, ).
 */
export function addressOnStack(e: MemoryEmit, base: number, off: number, size: number, write: boolean, pc: number): number {
  const c = e.c;
  if (e.checked) {
    address(e, base, off, size, write, pc);
    c.get(e.a);
    return 0;
  }
  c.get(e.reg(base));
  c.op(OP.i32WrapI64);
  if (off >= 0) return off;
  c.i32(off);
  c.op(OP.i32Add);
  return 0;
}

export function atomic(e: MemoryEmit, ins: Instruction, size: number, pc: number): void {
  const c = e.c;
  const wide = size === 8;
  address(e, ins.dst, ins.off, size, true, pc);
  // old value into e.t (zero-extended for 32 bits), value into e.u
  c.get(e.a);
  c.mem(wide ? OP.i64Load : OP.i64Load32u, 0);
  c.set(e.t);
  c.get(e.reg(ins.src));
  if (!wide) {
    c.i64(0xffffffffn);
    c.op(OP.i64And);
  }
  c.set(e.u);
  const kind = ins.imm & ~1;
  c.get(e.a);
  if (kind === 0xf0) {
    // cmpxchg: store src if r0 (low 32 bits for the 32-bit form) equals the old value
    c.get(e.u);
    c.get(e.t);
    c.get(e.reg(0));
    if (!wide) {
      c.i64(0xffffffffn);
      c.op(OP.i64And);
    }
    c.get(e.t);
    c.op(OP.i64Eq);
    c.op(OP.select);
  } else if (kind === 0xe0) {
    c.get(e.u);
  } else {
    c.get(e.t);
    c.get(e.u);
    c.op(kind === 0x00 ? OP.i64Add : kind === 0x40 ? OP.i64Or : kind === 0x50 ? OP.i64And : OP.i64Xor);
  }
  c.mem(wide ? OP.i64Store : OP.i64Store32, 0);
  if (ins.imm === 0xf1) {
    c.get(e.t);
    c.set(e.reg(0));
  } else if (ins.imm & 1) {
    c.get(e.t);
    c.set(e.reg(ins.src));
  }
}
