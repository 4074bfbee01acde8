/**
 * Bounds of scalar ALU results (the kernel's adjust_scalar_min_max_vals): add, sub, mul and the bitwise
 * operations track 32- and 64-bit bounds side by side; shifts by a constant track what they can; division,
 * modulo and shifts by an unknown amount give an unknown scalar.
 */
import * as O from "../isa/opcodes.js";
import {
  mark32Known,
  mark32Unbounded,
  mark64Unbounded,
  markKnown,
  markUnknown,
  type Reg,
  S32_MAX,
  S32_MIN,
  syncBounds,
  U32_MAX,
  updateBounds,
  zext32,
} from "./reg.js";
import {
  S64_MAX,
  S64_MIN,
  s64,
  tnumAdd,
  tnumAnd,
  tnumArshift,
  tnumIsConst,
  tnumLshift,
  tnumMul,
  tnumOr,
  tnumRshift,
  tnumSub,
  tnumSubreg,
  tnumSubregIsConst,
  tnumXor,
  U64_MAX,
  u64,
} from "./tnum.js";

const s32Overflows = (x: number): boolean => x < S32_MIN || x > S32_MAX;
const s64Overflows = (x: bigint): boolean => x < S64_MIN || x > S64_MAX;

function add32(d: Reg, s: Reg): void {
  const lo = d.s32min + s.s32min;
  const hi = d.s32max + s.s32max;
  if (s32Overflows(lo) || s32Overflows(hi)) {
    d.s32min = S32_MIN;
    d.s32max = S32_MAX;
  } else {
    d.s32min = lo;
    d.s32max = hi;
  }
  // Wrapping at both ends keeps the range (as one piece, modulo 2^32); at one end only, it is lost.
  const ulo = d.u32min + s.u32min;
  const uhi = d.u32max + s.u32max;
  if (ulo <= U32_MAX && uhi > U32_MAX) {
    d.u32min = 0;
    d.u32max = U32_MAX;
  } else {
    d.u32min = ulo >>> 0;
    d.u32max = uhi >>> 0;
  }
}

/**
 * 64-bit bounds of d + s. A scalar's unsigned range survives when both ends wrap; a pointer's variable
 * offset (`pointer`) loses it on any overflow, as the kernel's pointer arithmetic does.
 */
export function add64(d: Reg, s: Reg, pointer = false): void {
  const lo = d.smin + s.smin;
  const hi = d.smax + s.smax;
  if (s64Overflows(lo) || s64Overflows(hi)) {
    d.smin = S64_MIN;
    d.smax = S64_MAX;
  } else {
    d.smin = lo;
    d.smax = hi;
  }
  const ulo = d.umin + s.umin;
  const uhi = d.umax + s.umax;
  if (uhi > U64_MAX && (pointer || ulo <= U64_MAX)) {
    d.umin = 0n;
    d.umax = U64_MAX;
  } else {
    d.umin = u64(ulo);
    d.umax = u64(uhi);
  }
}

function sub32(d: Reg, s: Reg): void {
  const lo = d.s32min - s.s32max;
  const hi = d.s32max - s.s32min;
  if (s32Overflows(lo) || s32Overflows(hi)) {
    d.s32min = S32_MIN;
    d.s32max = S32_MAX;
  } else {
    d.s32min = lo;
    d.s32max = hi;
  }
  // Underflowing at both ends keeps the range (modulo 2^32); at one end only, it is lost.
  const minUnder = d.u32min < s.u32max;
  const maxUnder = d.u32max < s.u32min;
  if (minUnder !== maxUnder) {
    d.u32min = 0;
    d.u32max = U32_MAX;
  } else {
    d.u32min = (d.u32min - s.u32max) >>> 0;
    d.u32max = (d.u32max - s.u32min) >>> 0;
  }
}

/** 64-bit bounds of d - s (`pointer`: a pointer's variable offset, which any underflow makes unknown). */
export function sub64(d: Reg, s: Reg, pointer = false): void {
  const lo = d.smin - s.smax;
  const hi = d.smax - s.smin;
  if (s64Overflows(lo) || s64Overflows(hi)) {
    d.smin = S64_MIN;
    d.smax = S64_MAX;
  } else {
    d.smin = lo;
    d.smax = hi;
  }
  const minUnder = d.umin < s.umax;
  const maxUnder = d.umax < s.umin;
  if (minUnder !== maxUnder || (pointer && minUnder)) {
    d.umin = 0n;
    d.umax = U64_MAX;
  } else {
    d.umin = u64(d.umin - s.umax);
    d.umax = u64(d.umax - s.umin);
  }
}

/** The four corner products of two signed ranges, or undefined when one of them overflows `bits`. */
function signedProducts(a0: bigint, a1: bigint, b0: bigint, b1: bigint, bits: bigint): [bigint, bigint] | undefined {
  const lo = -(1n << (bits - 1n));
  const hi = (1n << (bits - 1n)) - 1n;
  const ps = [a0 * b0, a0 * b1, a1 * b0, a1 * b1];
  if (ps.some((p) => p < lo || p > hi)) return undefined;
  return [ps.reduce((x, y) => (y < x ? y : x)), ps.reduce((x, y) => (y > x ? y : x))];
}

// Unsigned bounds multiply when neither end overflows; signed bounds are the extremes of the corner
// products when none overflows (scalar_min_max_mul).
function mul32(d: Reg, s: Reg): void {
  const umax = d.u32max * s.u32max;
  const umin = d.u32min * s.u32min;
  if (umax > U32_MAX || umin > U32_MAX) {
    d.u32min = 0;
    d.u32max = U32_MAX;
  } else {
    d.u32min = umin;
    d.u32max = umax;
  }
  const p = signedProducts(BigInt(d.s32min), BigInt(d.s32max), BigInt(s.s32min), BigInt(s.s32max), 32n);
  d.s32min = p ? Number(p[0]) : S32_MIN;
  d.s32max = p ? Number(p[1]) : S32_MAX;
}

function mul64(d: Reg, s: Reg): void {
  const umax = d.umax * s.umax;
  const umin = d.umin * s.umin;
  if (umax > U64_MAX || umin > U64_MAX) {
    d.umin = 0n;
    d.umax = U64_MAX;
  } else {
    d.umin = umin;
    d.umax = umax;
  }
  const p = signedProducts(d.smin, d.smax, s.smin, s.smax, 64n);
  d.smin = p ? p[0] : S64_MIN;
  d.smax = p ? p[1] : S64_MAX;
}

/** s32 bounds from u32 bounds when they do not cross the sign boundary. */
function signed32FromUnsigned(d: Reg): void {
  if ((d.u32min | 0) <= (d.u32max | 0)) {
    d.s32min = d.u32min | 0;
    d.s32max = d.u32max | 0;
  } else {
    d.s32min = S32_MIN;
    d.s32max = S32_MAX;
  }
}

function signed64FromUnsigned(d: Reg): void {
  if (s64(d.umin) <= s64(d.umax)) {
    d.smin = s64(d.umin);
    d.smax = s64(d.umax);
  } else {
    d.smin = S64_MIN;
    d.smax = S64_MAX;
  }
}

function bitwise32(d: Reg, s: Reg, op: number): void {
  const t = tnumSubreg(d.varOff);
  if (tnumSubregIsConst(s.varOff) && tnumSubregIsConst(d.varOff)) {
    mark32Known(d, Number(t.value));
    return;
  }
  if (op === O.ALU_AND) {
    d.u32min = Number(t.value);
    d.u32max = Math.min(d.u32max, s.u32max);
  } else if (op === O.ALU_OR) {
    d.u32min = Math.max(d.u32min, s.u32min);
    d.u32max = Number(t.value | t.mask);
  } else {
    d.u32min = Number(t.value);
    d.u32max = Number(t.value | t.mask);
  }
  signed32FromUnsigned(d);
}

function bitwise64(d: Reg, s: Reg, op: number): void {
  if (tnumIsConst(s.varOff) && tnumIsConst(d.varOff)) {
    markKnown(d, d.varOff.value);
    return;
  }
  const t = d.varOff;
  if (op === O.ALU_AND) {
    d.umin = t.value;
    d.umax = d.umax < s.umax ? d.umax : s.umax;
  } else if (op === O.ALU_OR) {
    d.umin = d.umin > s.umin ? d.umin : s.umin;
    d.umax = t.value | t.mask;
  } else {
    d.umin = t.value;
    d.umax = t.value | t.mask;
  }
  signed64FromUnsigned(d);
  updateBounds(d);
}

function lsh32Bounds(d: Reg, umin: bigint, umax: bigint): void {
  d.s32min = S32_MIN;
  d.s32max = S32_MAX;
  if (umax > 31n || BigInt(d.u32max) > 1n << (31n - umax)) {
    d.u32min = 0;
    d.u32max = U32_MAX;
  } else {
    d.u32min = Number(BigInt(d.u32min) << umin);
    d.u32max = Number(BigInt(d.u32max) << umax);
  }
}

function lsh64Bounds(d: Reg, umin: bigint, umax: bigint): void {
  d.smax = umin === 32n && umax === 32n && d.s32max >= 0 ? BigInt(d.s32max) << 32n : S64_MAX;
  d.smin = umin === 32n && umax === 32n && d.s32min >= 0 ? BigInt(d.s32min) << 32n : S64_MIN;
  if (d.umax > 1n << (63n - umax)) {
    d.umin = 0n;
    d.umax = U64_MAX;
  } else {
    d.umin <<= umin;
    d.umax <<= umax;
  }
}

/** Whether the kernel computes bounds for this operation with this source (else: unknown scalar). */
function computable(op: number, s: Reg, alu32: boolean): boolean {
  switch (op) {
    case O.ALU_ADD:
    case O.ALU_SUB:
    case O.ALU_AND:
    case O.ALU_XOR:
    case O.ALU_OR:
    case O.ALU_MUL:
      return true;
    case O.ALU_LSH:
    case O.ALU_RSH:
    case O.ALU_ARSH: {
      const known = alu32
        ? tnumSubregIsConst(s.varOff) && s.s32min === s.s32max && s.u32min === s.u32max
        : tnumIsConst(s.varOff) && s.smin === s.smax && s.umin === s.umax;
      return known && s.umax < (alu32 ? 32n : 64n);
    }
    default:
      return false;
  }
}

/** dst = dst OP src on scalars, in place on `d`. */
export function scalarAlu(d: Reg, s: Reg, op: number, alu32: boolean): void {
  if (!computable(op, s, alu32)) {
    markUnknown(d);
    return;
  }
  switch (op) {
    case O.ALU_ADD:
      add32(d, s);
      add64(d, s);
      d.varOff = tnumAdd(d.varOff, s.varOff);
      break;
    case O.ALU_SUB:
      sub32(d, s);
      sub64(d, s);
      d.varOff = tnumSub(d.varOff, s.varOff);
      break;
    case O.ALU_MUL:
      d.varOff = tnumMul(d.varOff, s.varOff);
      mul32(d, s);
      mul64(d, s);
      break;
    case O.ALU_AND:
      d.varOff = tnumAnd(d.varOff, s.varOff);
      bitwise32(d, s, op);
      bitwise64(d, s, op);
      break;
    case O.ALU_OR:
      d.varOff = tnumOr(d.varOff, s.varOff);
      bitwise32(d, s, op);
      bitwise64(d, s, op);
      break;
    case O.ALU_XOR:
      d.varOff = tnumXor(d.varOff, s.varOff);
      bitwise32(d, s, op);
      bitwise64(d, s, op);
      break;
    case O.ALU_LSH:
      if (alu32) {
        const sub = tnumSubreg(d.varOff);
        lsh32Bounds(d, BigInt(s.u32min), BigInt(s.u32max));
        d.varOff = tnumSubreg(tnumLshift(sub, s.u32min));
        mark64Unbounded(d);
        updateBounds(d);
      } else {
        lsh64Bounds(d, s.umin, s.umax);
        lsh32Bounds(d, s.umin, s.umax);
        d.varOff = tnumLshift(d.varOff, Number(s.umin));
        updateBounds(d);
      }
      break;
    case O.ALU_RSH:
      if (alu32) {
        const sub = tnumSubreg(d.varOff);
        d.s32min = S32_MIN;
        d.s32max = S32_MAX;
        d.varOff = tnumRshift(sub, s.u32min);
        d.u32min = d.u32min >>> s.u32max;
        d.u32max = d.u32max >>> s.u32min;
        mark64Unbounded(d);
        updateBounds(d);
      } else {
        d.smin = S64_MIN;
        d.smax = S64_MAX;
        d.varOff = tnumRshift(d.varOff, Number(s.umin));
        d.umin >>= s.umax;
        d.umax >>= s.umin;
        mark32Unbounded(d);
        updateBounds(d);
      }
      break;
    case O.ALU_ARSH:
      if (alu32) {
        const n = s.u32min;
        d.s32min = d.s32min >> n;
        d.s32max = d.s32max >> n;
        d.varOff = tnumArshift(tnumSubreg(d.varOff), n, 32);
        d.u32min = 0;
        d.u32max = U32_MAX;
        mark64Unbounded(d);
        updateBounds(d);
      } else {
        const n = s.umin;
        d.smin >>= n;
        d.smax >>= n;
        d.varOff = tnumArshift(d.varOff, Number(n), 64);
        d.umin = 0n;
        d.umax = U64_MAX;
        mark32Unbounded(d);
        updateBounds(d);
      }
      break;
  }
  if (alu32) zext32(d);
  syncBounds(d);
}
