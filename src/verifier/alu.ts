/**
 * ALU instructions (the kernel's check_alu_op and adjust_ptr_min_max_vals): moves with scalar ids (so that a
 * bound learned on one copy applies to all), scalar arithmetic, and the pointer arithmetic a privileged
 * program may do — a scalar added to or subtracted from a pointer, pointer minus pointer.
 */
import type { Instruction } from "../isa/instruction.js";
import { ALU_TEXT } from "../isa/kernel-text.js";
import * as O from "../isa/opcodes.js";
import type { Env } from "./env.js";
import { MAX_PACKET_OFF, MAX_VAR_OFF } from "./memory.js";
import { coerceSubregToSizeSx, coerceToSize, coerceToSizeSx } from "./narrow.js";
import { kindName } from "./print.js";
import {
  mark32Known,
  mark32Unbounded,
  markConstScalar,
  markUnbounded,
  markUnknown,
  type Reg,
  Reg as RegClass,
  syncBounds,
  zext32,
} from "./reg.js";
import { add64, scalarAlu, sub64 } from "./scalar-alu.js";
import { S64_MIN, s64, tnumAdd, tnumBswap, tnumIsConst, tnumSub, U64_MAX, u64 } from "./tnum.js";

const OP_TEXT = ALU_TEXT;

export function checkRegRead(env: Env, regno: number): void {
  if (regno > 10) env.reject(`R${regno} is invalid`, "EINVAL");
  if ((env.cur.regs[regno] as Reg).kind === "not_init") env.reject(`R${regno} !read_ok`);
}

export function checkRegWrite(env: Env, regno: number): void {
  if (regno > 10) env.reject(`R${regno} is invalid`, "EINVAL");
  if (regno === 10) env.reject("frame pointer is read only");
}

/**
 * bswap, be and le (the kernel's scalar_byte_swap): the known bits move with the bytes and the bounds follow
 * from them; on this little-endian machine `le` only truncates, and `be` and bswap swap.
 */
function byteSwap(d: Reg, i: Instruction): void {
  const swaps = (i.op & 7) === O.CLASS_ALU64 || (i.op & O.SRC_X) !== 0;
  if (swaps) {
    d.varOff = tnumBswap(d.varOff, i.imm / 8);
    markUnbounded(d);
  }
  if (i.imm === 16 || i.imm === 32) coerceToSize(d, i.imm / 8);
  else syncBounds(d);
}

/**
 * A value that is -1 or 0 (a sign mask, as `x s>> 63` gives) masked with a constant has two results, not the
 * range between them: the kernel (maybe_fork_scalars) walks the instruction again with 0 and goes on with -1.
 */
function forkSignMask(env: Env, regno: number, d: Reg): void {
  let sub: boolean;
  if (d.smin === -1n && d.smax === 0n) sub = false;
  else if (d.s32min === -1 && d.s32max === 0) sub = true;
  else return;
  const branch = env.cur.clone();
  const b = branch.regs[regno] as Reg;
  if (sub) {
    mark32Known(b, 0);
    mark32Known(d, -1);
  } else {
    markConstScalar(b, 0n);
    markConstScalar(d, U64_MAX);
  }
  env.fork(branch);
}

export function checkAlu(env: Env, i: Instruction): void {
  const alu32 = (i.op & 7) === O.CLASS_ALU;
  const code = i.op & 0xf0;
  const srcX = (i.op & O.SRC_X) !== 0;
  const regs = env.cur.regs;
  if (code === O.ALU_END || code === O.ALU_NEG) {
    checkRegRead(env, i.dst);
    checkRegWrite(env, i.dst);
    const d = regs[i.dst] as Reg;
    // A root loader may negate or swap a pointer: the result is just a number.
    if (d.kind !== "scalar") markUnknown(d);
    else if (code === O.ALU_NEG) {
      const old = d.clone();
      markConstScalar(d, 0n);
      scalarAlu(d, old, O.ALU_SUB, alu32);
    } else byteSwap(d, i);
    d.id = 0; // no longer the value a copy of it holds
    return;
  }
  if (code === O.ALU_MOV) {
    if (srcX) checkRegRead(env, i.src);
    checkRegWrite(env, i.dst);
    const d = regs[i.dst] as Reg;
    if (!srcX) {
      markConstScalar(d, alu32 ? BigInt(i.imm >>> 0) : u64(BigInt(i.imm)));
      return;
    }
    const s = regs[i.src] as Reg;
    if (!alu32) {
      if (i.off === 0) {
        // A copy of an unknown scalar shares its id: bounds learned on one apply to the other.
        if (s.kind === "scalar" && s.id === 0 && !tnumIsConst(s.varOff)) s.id = env.newId();
        d.assign(s.clone());
        return;
      }
      if (s.kind !== "scalar") {
        markUnknown(d);
        return;
      }
      // A value that the extension leaves as it is stays linked to its copy.
      const noSext = s.umax < 1n << BigInt(i.off - 1);
      if (noSext && s.id === 0 && !tnumIsConst(s.varOff)) s.id = env.newId();
      const copy = s.clone();
      if (!noSext) copy.id = 0;
      coerceToSizeSx(copy, i.off / 8);
      d.assign(copy);
      return;
    }
    if (s.kind !== "scalar") {
      markUnknown(d);
      zext32(d);
      syncBounds(d);
      return;
    }
    // A value that fits in 32 bits (or that the extension leaves alone) stays linked to its copy.
    const linked = i.off === 0 ? s.umax <= 0xffffffffn : s.umax < 1n << BigInt(i.off - 1);
    if (linked && s.id === 0 && !tnumIsConst(s.varOff)) s.id = env.newId();
    const copy = s.clone();
    if (!linked) copy.id = 0;
    if (i.off !== 0) coerceSubregToSizeSx(copy, i.off / 8);
    zext32(copy);
    syncBounds(copy);
    d.assign(copy);
    return;
  }
  // Arithmetic.
  if (srcX) checkRegRead(env, i.src);
  checkRegRead(env, i.dst);
  checkRegWrite(env, i.dst);
  if (!srcX && (code === O.ALU_DIV || code === O.ALU_MOD) && i.imm === 0) env.reject("div by zero", "EINVAL");
  const width = alu32 ? 32 : 64;
  if (!srcX && (code === O.ALU_LSH || code === O.ALU_RSH || code === O.ALU_ARSH) && (i.imm < 0 || i.imm >= width)) {
    env.reject(`invalid shift ${i.imm}`, "EINVAL");
  }
  const d = regs[i.dst] as Reg;
  let s: Reg;
  if (srcX) s = regs[i.src] as Reg;
  else {
    s = new RegClass();
    markConstScalar(s, u64(BigInt(i.imm)));
  }
  if (d.kind === "scalar" && s.kind === "scalar") {
    if (d === s) s = s.clone();
    if ((code === O.ALU_AND || code === O.ALU_OR) && tnumIsConst(s.varOff)) forkSignMask(env, i.dst, d);
    d.id = 0;
    scalarAlu(d, s, code, alu32);
    return;
  }
  if (d.kind !== "scalar" && s.kind !== "scalar") {
    // Root may subtract pointers: the result is a plain number.
    if (code === O.ALU_SUB) {
      markUnknown(d);
      return;
    }
    env.reject(`R${i.dst} pointer ${OP_TEXT[code]} pointer prohibited`);
  }
  if (d.kind === "scalar") {
    // scalar += pointer: the result is the pointer moved by the scalar.
    if (code !== O.ALU_ADD || alu32) {
      if (code === O.ALU_SUB && !alu32) env.reject(`R${i.dst} tried to subtract pointer from scalar`);
      adjustPointer(env, i, s, d, d);
      return;
    }
    const off = d.clone();
    d.assign(s.clone());
    adjustPointer(env, i, d, off, d);
    return;
  }
  adjustPointer(env, i, d, s, d);
}

const sane = (env: Env, r: Reg, kind: string): void => {
  const known = tnumIsConst(r.varOff);
  const val = s64(r.varOff.value);
  if (known && (val >= BigInt(MAX_VAR_OFF) || val <= BigInt(-MAX_VAR_OFF)))
    env.reject(`math between ${kind} pointer and ${val} is not allowed`);
  if (r.off >= MAX_VAR_OFF || r.off <= -MAX_VAR_OFF) env.reject(`${kind} pointer offset ${r.off} is not allowed`);
  if (r.smin === S64_MIN) env.reject(`math between ${kind} pointer and register with unbounded min value is not allowed`);
  if (r.smin >= BigInt(MAX_VAR_OFF) || r.smin <= BigInt(-MAX_VAR_OFF)) env.reject(`value ${r.smin} makes ${kind} pointer be out of bounds`);
};

/** dst = ptr OP off, with ptr a pointer and off a scalar (adjust_ptr_min_max_vals). */
function adjustPointer(env: Env, i: Instruction, ptr: Reg, off: Reg, dst: Reg): void {
  const code = i.op & 0xf0;
  const known = tnumIsConst(off.varOff);
  if ((known && (off.smin !== off.smax || off.umin !== off.umax)) || off.smin > off.smax || off.umin > off.umax) {
    markUnknown(dst);
    return;
  }
  if ((i.op & 7) !== O.CLASS_ALU64) {
    if (code === O.ALU_SUB) {
      markUnknown(dst);
      return;
    }
    env.reject(`R${i.dst} 32-bit pointer arithmetic prohibited`);
  }
  const kind = kindName(ptr);
  if (ptr.maybeNull) env.reject(`R${i.dst} pointer arithmetic on ${kind} prohibited, null-check it first`);
  const allowed = ["ctx", "map_value", "map_key", "fp", "pkt_meta", "pkt", "tp_buffer", "btf_id", "mem", "buf", "func"];
  if (!allowed.includes(ptr.kind)) {
    const zeroAdd = known && off.smin === 0n && code === O.ALU_ADD;
    if (!((ptr.kind === "map_ptr" || ptr.kind === "flow_keys") && (zeroAdd || (ptr.kind === "flow_keys" && known)))) {
      env.reject(`R${i.dst} pointer arithmetic on ${kind} prohibited`);
    }
  }
  const base = ptr.clone();
  sane(env, off, kind);
  sane(env, base, kind);
  const result = base.clone();
  mark32Unbounded(result);
  switch (code) {
    case O.ALU_ADD: {
      const sum = base.off + Number(off.smin);
      if (known && sum === (sum | 0)) {
        result.off = sum;
        break;
      }
      // The variable part moves as a scalar addition does (the kernel's same overflow rules).
      add64(result, off, true);
      result.varOff = tnumAdd(base.varOff, off.varOff);
      if (base.isPacket()) {
        result.id = env.newId();
        result.range = 0;
      }
      break;
    }
    case O.ALU_SUB: {
      if (base.kind === "fp") env.reject(`R${i.dst} subtraction from stack pointer prohibited`);
      const diff = base.off - Number(off.smin);
      if (known && diff === (diff | 0)) {
        result.off = diff;
        break;
      }
      sub64(result, off, true);
      result.varOff = tnumSub(base.varOff, off.varOff);
      if (base.isPacket()) {
        result.id = env.newId();
        if (off.smin < 0n) result.range = 0;
      }
      break;
    }
    case O.ALU_AND:
    case O.ALU_OR:
    case O.ALU_XOR:
      env.reject(`R${i.dst} bitwise operator ${OP_TEXT[code]} on pointer prohibited`);
      break;
    default:
      env.reject(`R${i.dst} pointer arithmetic with ${OP_TEXT[code]} operator prohibited`);
  }
  sane(env, result, kind);
  syncBounds(result);
  if (result.isPacket() && (result.umax > BigInt(MAX_PACKET_OFF) || result.umax + BigInt(result.off) > BigInt(MAX_PACKET_OFF))) {
    // Too far into the packet for any range check to help; the kernel keeps it and refuses accesses later.
  }
  dst.assign(result);
}
