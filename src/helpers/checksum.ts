/** Internet checksum arithmetic as the kernel's csum_* functions do it (ones' complement, folded to 16 bits). */

/** Folds a 32-bit partial sum (or any ones'-complement sum) to 16 bits, complemented (csum_fold). */
export function csumFold(sum: number): number {
  let s = sum >>> 0;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** a + b with end-around carry (csum_add). */
export function csumAdd(a: number, b: number): number {
  const s = (a >>> 0) + (b >>> 0);
  return (s >= 0x100000000 ? s - 0xffffffff : s) >>> 0;
}

export function csumSub(a: number, b: number): number {
  return csumAdd(a, ~b >>> 0);
}

/** csum_partial over bytes: 32-bit little-endian words added with end-around carry, then `seed`. */
export function csumPartial(bytes: Uint8Array, start: number, length: number, seed: number): number {
  let sum = seed >>> 0;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    const w =
      ((bytes[start + i] as number) |
        ((bytes[start + i + 1] as number) << 8) |
        ((bytes[start + i + 2] as number) << 16) |
        ((bytes[start + i + 3] as number) << 24)) >>>
      0;
    sum = csumAdd(sum, w);
  }
  let tail = 0;
  for (let k = 0; i < length; i++, k++) tail |= (bytes[start + i] as number) << (8 * k);
  return length % 4 ? csumAdd(sum, tail >>> 0) : sum;
}

/** Replaces `from` by `to` in the 16-bit checksum `check` (csum_replace4 / by diff): the new checksum. */
export function csumReplace(check: number, from: number, to: number): number {
  return csumFold(csumAdd(csumSub(~check & 0xffff, from), to));
}
