/**
 * 64-bit integer arithmetic on (lo, hi) pairs of int32, so the interpreter never allocates a BigInt per
 * instruction. Results come back through the module-level `RES_LO`/`RES_HI` pair (read them right after
 * the call): returning an object would allocate on every multiply.
 */

export let RES_LO = 0;
export let RES_HI = 0;

const TWO32 = 4294967296;
const TWO53 = 9007199254740992;

/** High 32 bits of the unsigned 64-bit product of two uint32 values. */
export function mulhu32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  let t = a0 * b0;
  let k = t >>> 16;
  t = a1 * b0 + k;
  const w1 = t & 0xffff;
  const w2 = t >>> 16;
  t = a0 * b1 + w1;
  k = t >>> 16;
  return (a1 * b1 + w2 + k) | 0;
}

/** 64-bit multiply (wrapping). */
export function mul64(alo: number, ahi: number, blo: number, bhi: number): void {
  RES_LO = Math.imul(alo, blo);
  RES_HI = (mulhu32(alo, blo) + Math.imul(alo, bhi) + Math.imul(ahi, blo)) | 0;
}

function toUnsignedNumber(lo: number, hi: number): number {
  return (hi >>> 0) * TWO32 + (lo >>> 0);
}

function setFromNumber(v: number): void {
  RES_LO = (v % TWO32) | 0;
  RES_HI = Math.floor(v / TWO32) | 0;
}

function setFromBigInt(v: bigint): void {
  RES_LO = Number(BigInt.asIntN(32, v));
  RES_HI = Number(BigInt.asIntN(32, v >> 32n));
}

const big = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

/**
 * Unsigned 64-bit division and remainder (divisor nonzero). Operands below 2^53 divide exactly in doubles;
 * larger ones take a BigInt slow path, which only such rare operands reach.
 */
export function divmodu64(alo: number, ahi: number, blo: number, bhi: number, wantRemainder: boolean): void {
  if (ahi === 0 && bhi === 0) {
    const a = alo >>> 0;
    const b = blo >>> 0;
    RES_LO = (wantRemainder ? a % b : Math.floor(a / b)) | 0;
    RES_HI = 0;
    return;
  }
  const a = toUnsignedNumber(alo, ahi);
  const b = toUnsignedNumber(blo, bhi);
  if (a < TWO53 && b < TWO53) {
    const q = Math.floor(a / b);
    setFromNumber(wantRemainder ? a - q * b : q);
    return;
  }
  const A = big(alo, ahi);
  const B = big(blo, bhi);
  setFromBigInt(wantRemainder ? A % B : A / B);
}

/** Negates the pair (two's complement) into RES_LO/RES_HI. */
export function neg64(lo: number, hi: number): void {
  RES_LO = -lo | 0;
  RES_HI = (~hi + (lo === 0 ? 1 : 0)) | 0;
}

/**
 * Signed 64-bit division/remainder, truncating toward zero; the remainder takes the dividend's sign.
 * INT64_MIN / -1 = INT64_MIN and INT64_MIN % -1 = 0 fall out of the unsigned arithmetic.
 */
export function divmods64(alo: number, ahi: number, blo: number, bhi: number, wantRemainder: boolean): void {
  const aNeg = ahi < 0;
  const bNeg = bhi < 0;
  let ulo = alo;
  let uhi = ahi;
  if (aNeg) {
    neg64(alo, ahi);
    ulo = RES_LO;
    uhi = RES_HI;
  }
  let vlo = blo;
  let vhi = bhi;
  if (bNeg) {
    neg64(blo, bhi);
    vlo = RES_LO;
    vhi = RES_HI;
  }
  divmodu64(ulo, uhi, vlo, vhi, wantRemainder);
  const negate = wantRemainder ? aNeg : aNeg !== bNeg;
  if (negate) neg64(RES_LO, RES_HI);
}

/** 64-bit add into RES_LO/RES_HI. */
export function add64(alo: number, ahi: number, blo: number, bhi: number): void {
  const lo = (alo >>> 0) + (blo >>> 0);
  RES_LO = lo | 0;
  RES_HI = (ahi + bhi + (lo > 0xffffffff ? 1 : 0)) | 0;
}

/** Byte-swaps a 32-bit value. */
export function bswap32(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}

/** Formats a (lo, hi) pair as 0x-hex. */
export function hex64(lo: number, hi: number): string {
  return `0x${big(lo, hi).toString(16)}`;
}

/** The (lo, hi) pair as an unsigned BigInt (API boundaries only). */
export function toBigInt(lo: number, hi: number): bigint {
  return big(lo, hi);
}
