/**
 * Scalars cut to their low bytes, as narrow loads, byte swaps and sign-extending moves leave them: zero- or
 * sign-extended, keeping what the bounds and known bits say about the part that remains (the kernel's
 * coerce_reg_to_size, coerce_reg_to_size_sx and coerce_subreg_to_size_sx).
 */
import { mark32Unbounded, markUnknown, type Reg, syncBounds, U32_MAX } from "./reg.js";
import { TNUM_UNKNOWN, tnumCast, tnumConst, tnumIsConst, tnumRange, tnumSubreg, U64_MAX, u64 } from "./tnum.js";

/** A scalar truncated to its low `size` bytes (zero-extended), as a narrow load leaves it. */
export function coerceToSize(r: Reg, size: number): void {
  if (size >= 8) return;
  const bits = BigInt(size * 8);
  const max = (1n << bits) - 1n;
  r.varOff = tnumCast(r.varOff, size);
  if (r.umin >> bits === r.umax >> bits) {
    r.umin &= max;
    r.umax &= max;
  } else {
    r.umin = 0n;
    r.umax = max;
  }
  r.smin = r.umin;
  r.smax = r.umax;
  // The low 32 bits keep their own bounds when the truncation is to 32 bits; narrower loses them.
  if (size < 4) mark32Unbounded(r);
  syncBounds(r);
}

/**
 * The low `size` bytes sign-extended to 64 bits (ldsx, movsx). A 64-bit signed range whose values share
 * their upper bits and one sign survives the extension, as does a 32-bit one inside the narrow type.
 */
export function coerceToSizeSx(r: Reg, size: number): void {
  const bits = BigInt(size * 8);
  if (tnumIsConst(r.varOff)) {
    const v = u64(BigInt.asIntN(Number(bits), r.varOff.value));
    r.varOff = tnumConst(v);
    r.umin = r.umax = v;
    r.smin = r.smax = BigInt.asIntN(64, v);
    r.u32min = r.u32max = Number(v & 0xffffffffn);
    r.s32min = r.s32max = r.u32min | 0;
    return;
  }
  const fromRange = (lo: bigint, hi: bigint): boolean => {
    const a = BigInt.asIntN(Number(bits), hi);
    const b = BigInt.asIntN(Number(bits), lo);
    const max = a > b ? a : b;
    const min = a > b ? b : a;
    if (max >= 0n !== min >= 0n) return false;
    r.smin = min;
    r.smax = max;
    r.s32min = Number(BigInt.asIntN(32, min));
    r.s32max = Number(BigInt.asIntN(32, max));
    r.umin = u64(min);
    r.umax = u64(max);
    r.u32min = Number(u64(min) & 0xffffffffn);
    r.u32max = Number(u64(max) & 0xffffffffn);
    r.varOff = tnumRange(u64(min), u64(max));
    return true;
  };
  const top64 = (x: bigint): bigint => u64(x) >> bits;
  if (top64(r.smax) === top64(r.smin) && fromRange(r.smin, r.smax)) return;
  // Else a 32-bit signed range the narrow type already holds is left as it is by the extension.
  const half = 1n << (bits - 1n);
  if (size < 4 && BigInt(r.s32min) >= -half && BigInt(r.s32max) < half && fromRange(BigInt(r.s32min), BigInt(r.s32max))) return;
  r.umin = 0n;
  r.umax = U64_MAX;
  r.varOff = TNUM_UNKNOWN;
  if (size === 4) {
    // The low 32 bits are the value's own: their bounds hold, and sign-extended they are the signed range.
    r.smin = BigInt(r.s32min);
    r.smax = BigInt(r.s32max);
    syncBounds(r);
    return;
  }
  r.smin = -half;
  r.smax = half - 1n;
  r.s32min = Number(r.smin);
  r.s32max = Number(r.smax);
  r.u32min = 0;
  r.u32max = U32_MAX;
}

/** The low `size` (1 or 2) bytes sign-extended within the low 32 bits (movsx of a 32-bit move). */
export function coerceSubregToSizeSx(r: Reg, size: number): void {
  const bits = size * 8;
  if (tnumIsConst(r.varOff)) {
    const v = BigInt.asIntN(bits, r.varOff.value);
    r.varOff = tnumConst(v);
    r.u32min = r.u32max = Number(u64(v) & 0xffffffffn);
    r.s32min = r.s32max = r.u32min | 0;
    return;
  }
  const top = (x: number): number => ((x >>> bits) << bits) >>> 0;
  if (top(r.s32max) === top(r.s32min)) {
    const a = Number(BigInt.asIntN(bits, BigInt(r.s32max)));
    const b = Number(BigInt.asIntN(bits, BigInt(r.s32min)));
    const max = Math.max(a, b);
    const min = Math.min(a, b);
    if (max >= 0 === min >= 0) {
      r.s32min = min;
      r.s32max = max;
      r.u32min = min >>> 0;
      r.u32max = max >>> 0;
      r.varOff = tnumSubreg(tnumRange(BigInt(min >>> 0), BigInt(max >>> 0)));
      return;
    }
  }
  r.s32min = -(1 << (bits - 1));
  r.s32max = (1 << (bits - 1)) - 1;
  r.u32min = 0;
  r.u32max = U32_MAX;
  r.varOff = tnumSubreg(TNUM_UNKNOWN);
}

/** A narrow load's scalar: its low bytes, zero- or sign-extended (ldx, ldsx). */
export function narrowLoad(dst: Reg, size: number, signExtend: boolean | undefined): void {
  if (size >= 8 || dst.kind !== "scalar") return;
  if (signExtend) coerceToSizeSx(dst, size);
  else coerceToSize(dst, size);
}

/** What a load of `size` bytes from plain memory gives: an unknown value of that width (sign-extended for ldsx). */
export function loadUnknown(dst: Reg, size: number, signExtend: boolean | undefined): void {
  markUnknown(dst);
  narrowLoad(dst, size, signExtend);
}
