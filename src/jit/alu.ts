/**
 * eBPF's ALU64 and ALU32 classes as WebAssembly: each operation on the i64 register locals, with the
 * interpreter's results where wasm differs (division by zero, INT_MIN / -1, shifts and moves with sign
 * extension, byte swaps).
 */
import type { Instruction } from "../isa/instruction.js";
import { BLOCK_VOID, type Code, I32, OP } from "./wasm.js";

/** What the emitters here need from the function being compiled. */
export interface Emit {
  /** Its body so far. */
  readonly c: Code;
  /** The local holding register r. */
  reg(r: number): number;
  /** Temporary locals: two i64, one i32. */
  readonly t: number;
  readonly u: number;
  readonly t32: number;
  /** wasm blocks opened inside the current basic block (for branch depths). */
  nesting: number;
}

/** Pushes the source operand as i64 (register, or the sign-extended immediate). */
export function src64(e: Emit, ins: Instruction): void {
  const c = e.c;
  if (ins.op & 8) c.get(e.reg(ins.src));
  else c.i64(BigInt(ins.imm));
}

export function src32(e: Emit, ins: Instruction): void {
  const c = e.c;
  if (ins.op & 8) {
    c.get(e.reg(ins.src));
    c.op(OP.i32WrapI64);
  } else c.i32(ins.imm);
}

function dst32(e: Emit, ins: Instruction): void {
  const c = e.c;
  c.get(e.reg(ins.dst));
  c.op(OP.i32WrapI64);
}

function setDst32(e: Emit, ins: Instruction): void {
  const c = e.c;
  c.op(OP.i64ExtendI32u);
  c.set(e.reg(ins.dst));
}

/** (t32 shifted one way, masked) | (t32 shifted the other way, masked), left on the stack: a byte swap. */
function swapBytes(e: Emit, left: number, leftMask: number, right: number, rightMask: number): void {
  const c = e.c;
  c.get(e.t32);
  c.i32(8);
  c.op(left);
  c.i32(leftMask);
  c.op(OP.i32And);
  c.get(e.t32);
  c.i32(8);
  c.op(right);
  c.i32(rightMask);
  c.op(OP.i32And);
  c.op(OP.i32Or);
}

/** bswap32 of the i32 in e.t32: the bytes rotated both ways, masked together. */
const swap32 = (e: Emit): void => swapBytes(e, OP.i32Rotl, 0x00ff00ff, OP.i32Rotr, 0xff00ff00 | 0);

/** Swaps the low 16, 32 or 64 bits of the i64 at the top of the stack (the rest become zero). */
export function bswap(e: Emit, bits: number): void {
  const c = e.c;
  if (bits === 64) {
    c.set(e.t);
    c.get(e.t);
    c.op(OP.i32WrapI64);
    c.set(e.t32);
    swap32(e);
    c.op(OP.i64ExtendI32u);
    c.i64(32n);
    c.op(OP.i64Shl);
    c.get(e.t);
    c.i64(32n);
    c.op(OP.i64ShrU);
    c.op(OP.i32WrapI64);
    c.set(e.t32);
    swap32(e);
    c.op(OP.i64ExtendI32u);
    c.op(OP.i64Or);
    return;
  }
  c.op(OP.i32WrapI64);
  c.set(e.t32);
  if (bits === 32) swap32(e);
  else swapBytes(e, OP.i32Shl, 0xff00, OP.i32ShrU, 0xff);
  c.op(OP.i64ExtendI32u);
}

export function alu64(e: Emit, ins: Instruction, code: number, d: number): void {
  const c = e.c;
  const simple: Record<number, number> = {
    0: OP.i64Add,
    16: OP.i64Sub,
    32: OP.i64Mul,
    64: OP.i64Or,
    80: OP.i64And,
    96: OP.i64Shl,
    112: OP.i64ShrU,
    160: OP.i64Xor,
    192: OP.i64ShrS,
  };
  const s = simple[code];
  if (s !== undefined) {
    c.get(d);
    src64(e, ins);
    c.op(s);
    c.set(d);
    return;
  }
  switch (code) {
    case 0x30: // div
    case 0x90: {
      // mod
      const rem = code === 0x90;
      src64(e, ins);
      c.set(e.u);
      c.get(e.u);
      c.op(OP.i64Eqz);
      c.byte(OP.if).byte(BLOCK_VOID);
      e.nesting++;
      if (!rem) {
        c.i64(0n);
        c.set(d);
      }
      c.op(OP.else);
      if (ins.off === 1) {
        // INT64_MIN / -1 = INT64_MIN, INT64_MIN % -1 = 0 (wasm would trap)
        c.get(e.u);
        c.i64(-1n);
        c.op(OP.i64Eq);
        c.byte(OP.if).byte(BLOCK_VOID);
        e.nesting++;
        if (rem) c.i64(0n);
        else {
          c.i64(0n);
          c.get(d);
          c.op(OP.i64Sub);
        }
        c.set(d);
        c.op(OP.else);
        c.get(d);
        c.get(e.u);
        c.op(rem ? OP.i64RemS : OP.i64DivS);
        c.set(d);
        e.nesting--;
        c.op(OP.end);
      } else {
        c.get(d);
        c.get(e.u);
        c.op(rem ? OP.i64RemU : OP.i64DivU);
        c.set(d);
      }
      e.nesting--;
      c.op(OP.end);
      return;
    }
    case 0x80: // neg
      c.i64(0n);
      c.get(d);
      c.op(OP.i64Sub);
      c.set(d);
      return;
    case 0xb0: // mov / movsx
      src64(e, ins);
      if (ins.off === 8) c.op(OP.i64Extend8s);
      else if (ins.off === 16) c.op(OP.i64Extend16s);
      else if (ins.off === 32) c.op(OP.i64Extend32s);
      c.set(d);
      return;
    case 0xd0: {
      // end: le truncates, be and bswap swap
      c.get(d);
      if (ins.op === 0xd4) {
        if (ins.imm === 16) c.i64(0xffffn);
        else if (ins.imm === 32) c.i64(0xffffffffn);
        else {
          c.set(d);
          return;
        }
        c.op(OP.i64And);
      } else {
        bswap(e, ins.imm);
      }
      c.set(d);
      return;
    }
    default:
      throw new Error(`JIT: ALU64 op 0x${ins.op.toString(16)}`);
  }
}

export function alu32(e: Emit, ins: Instruction, code: number): void {
  const c = e.c;
  const simple: Record<number, number> = {
    0: OP.i32Add,
    16: OP.i32Sub,
    32: OP.i32Mul,
    64: OP.i32Or,
    80: OP.i32And,
    96: OP.i32Shl,
    112: OP.i32ShrU,
    160: OP.i32Xor,
    192: OP.i32ShrS,
  };
  const s = simple[code];
  if (s !== undefined) {
    dst32(e, ins);
    src32(e, ins);
    c.op(s);
    setDst32(e, ins);
    return;
  }
  switch (code) {
    case 0x30:
    case 0x90: {
      const rem = code === 0x90;
      src32(e, ins);
      c.set(e.t32);
      c.get(e.t32);
      c.op(OP.i32Eqz);
      c.byte(OP.if).byte(I32);
      // by zero: div gives 0, mod leaves the low 32 bits
      if (rem) dst32(e, ins);
      else c.i32(0);
      c.op(OP.else);
      if (ins.off === 1) {
        c.get(e.t32);
        c.i32(-1);
        c.op(OP.i32Eq);
        c.byte(OP.if).byte(I32);
        if (rem) c.i32(0);
        else {
          c.i32(0);
          dst32(e, ins);
          c.op(OP.i32Sub);
        }
        c.op(OP.else);
        dst32(e, ins);
        c.get(e.t32);
        c.op(rem ? OP.i32RemS : OP.i32DivS);
        c.op(OP.end);
      } else {
        dst32(e, ins);
        c.get(e.t32);
        c.op(rem ? OP.i32RemU : OP.i32DivU);
      }
      c.op(OP.end);
      setDst32(e, ins);
      return;
    }
    case 0x80:
      c.i32(0);
      dst32(e, ins);
      c.op(OP.i32Sub);
      setDst32(e, ins);
      return;
    case 0xb0:
      src32(e, ins);
      if (ins.off === 8) c.op(OP.i32Extend8s);
      else if (ins.off === 16) c.op(OP.i32Extend16s);
      setDst32(e, ins);
      return;
    case 0xd0: {
      // le16/le32/le64 (0xd4) truncate; be (0xdc) swaps
      c.get(e.reg(ins.dst));
      if (ins.op === 0xd4) {
        if (ins.imm !== 64) {
          c.i64(ins.imm === 16 ? 0xffffn : 0xffffffffn);
          c.op(OP.i64And);
        }
      } else {
        bswap(e, ins.imm);
      }
      c.set(e.reg(ins.dst));
      return;
    }
    default:
      throw new Error(`JIT: ALU32 op 0x${ins.op.toString(16)}`);
  }
}
