/**
 * eBPF's loads, stores and atomics as WebAssembly. Checked mode computes each address in full and checks it
 * inline against the region the last checked read (or write) hit; a miss goes to the slow path, inline too
 * (region-check.ts: the live frames' stack, then the region table). Only a refusal calls out, to the host,
 * which throws the interpreter's error with its pc. Trusted mode lets wasm's own bounds keep the access
 * inside linear memory.
 */
import type { Instruction } from "../isa/instruction.js";
import { REG_FP, STACK_SIZE } from "../isa/opcodes.js";
import type { Emit } from "./alu.js";
import { F_FAULT, FAULT_LOAD, FAULT_STORE } from "./imports.js";
import { regionCheck } from "./region-check.js";
import { OP } from "./wasm.js";

/** What these emitters need beyond alu.ts's: the address local, the stack bounds, the mode. */
export interface MemoryEmit extends Emit {
  /** An i32 local for the effective address. */
  readonly a: number;
  /** The i32 local holding the lowest stack address of the live frames, and the stack's top. */
  readonly stackLow: number;
  /** i64 locals: the same low bound, and stackTop - 8 - it. */
  readonly stackLow64: number;
  readonly stackSpan: number;
  readonly stackTop: number;
  readonly checked: boolean;
  /** Where the engine scratch sits (the region table's pointer and the hit caches, exec/memory.ts). */
  readonly scratch: number;
  /** i64 locals holding the read (write) hit cache: its start and its length less 8. */
  hitStart(write: boolean): number;
  hitLimit(write: boolean): number;
  /** Whether the register was last set from r10 (plus or minus something) in this block: a hint of order only. */
  stackPointer(r: number): boolean;
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
  // address - start <= length - 8 (unsigned, in 64 bits: also refuses addresses past 4 GiB)
  const outsideHit = (): void => {
    c.get(e.t);
    c.get(e.hitStart(write));
    c.op(OP.i64Sub);
    c.get(e.hitLimit(write));
    c.op(OP.i64GtU);
  };
  // the live frames' stack, [stackLow, stackTop - 8] (a shorter access nearer the top takes the slow path)
  const outsideStack = (): void => {
    c.get(e.t);
    c.get(e.stackLow64);
    c.op(OP.i64Sub);
    c.get(e.stackSpan);
    c.op(OP.i64GtU);
  };
  // a pointer made from r10 is checked against the stack first, any other against the last region hit
  const [first, second] = e.stackPointer(base) ? [outsideStack, outsideHit] : [outsideHit, outsideStack];
  first();
  e.ifThen(() => {
    second();
    e.ifThen(() => {
      regionCheck(e, size, write, () => {
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
    });
  });
}

/**
 * Pushes the i32 address of [base + off] and returns the memarg offset to load or store with. Trusted:
 * a non-negative offset goes into the memarg (the access folds into one machine instruction), a negative
 * one is added in 32 bits; either is exact for every access that stays inside memory. Checked: as address(e, ).
 */
export function addressOnStack(e: MemoryEmit, base: number, off: number, size: number, write: boolean, pc: number): number {
  const c = e.c;
  // r10 cannot change: [r10 + off] inside [r10 - 512, r10) is this frame's own stack, needing no check
  const ownFrame = base === REG_FP && off >= -STACK_SIZE && off + size <= 0;
  if (e.checked && !ownFrame) {
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
