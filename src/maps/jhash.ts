/**
 * Bob Jenkins' lookup3 hash as the kernel has it (include/linux/jhash.h): hash tables pick a key's bucket
 * with jhash2 over u32 words when the key size is a multiple of 4, jhash over bytes otherwise. The machine
 * walks its hash tables in the kernel's bucket order, so get_next_key and for_each_map_elem visit keys in
 * the order Linux does for a map created with BPF_F_ZERO_SEED (any other kernel map has a random seed).
 */

const INITVAL = 0xdeadbeef;

const rol = (w: number, s: number): number => ((w << s) | (w >>> (32 - s))) >>> 0;

/** The three-word state, mixed in place. */
type State = [number, number, number];

function mix(s: State): void {
  let [a, b, c] = s;
  a = (a - c) >>> 0;
  a = (a ^ rol(c, 4)) >>> 0;
  c = (c + b) >>> 0;
  b = (b - a) >>> 0;
  b = (b ^ rol(a, 6)) >>> 0;
  a = (a + c) >>> 0;
  c = (c - b) >>> 0;
  c = (c ^ rol(b, 8)) >>> 0;
  b = (b + a) >>> 0;
  a = (a - c) >>> 0;
  a = (a ^ rol(c, 16)) >>> 0;
  c = (c + b) >>> 0;
  b = (b - a) >>> 0;
  b = (b ^ rol(a, 19)) >>> 0;
  a = (a + c) >>> 0;
  c = (c - b) >>> 0;
  c = (c ^ rol(b, 4)) >>> 0;
  b = (b + a) >>> 0;
  s[0] = a;
  s[1] = b;
  s[2] = c;
}

function final(s: State): number {
  let [a, b, c] = s;
  c = ((c ^ b) - rol(b, 14)) >>> 0;
  a = ((a ^ c) - rol(c, 11)) >>> 0;
  b = ((b ^ a) - rol(a, 25)) >>> 0;
  c = ((c ^ b) - rol(b, 16)) >>> 0;
  a = ((a ^ c) - rol(c, 4)) >>> 0;
  b = ((b ^ a) - rol(a, 14)) >>> 0;
  c = ((c ^ b) - rol(b, 24)) >>> 0;
  return c;
}

/** The little-endian u32 at key[at] (the kernel reads keys in the CPU's order; the machine is little-endian). */
const le32 = (key: Uint8Array, at: number): number =>
  ((key[at] as number) | ((key[at + 1] as number) << 8) | ((key[at + 2] as number) << 16) | ((key[at + 3] as number) << 24)) >>> 0;

/** jhash(key, length, initval) over key[start, start+length). */
export function jhash(key: Uint8Array, start: number, length: number, initval = 0): number {
  const init = (INITVAL + length + initval) >>> 0;
  const s: State = [init, init, init];
  let k = start;
  let n = length;
  while (n > 12) {
    s[0] = (s[0] + le32(key, k)) >>> 0;
    s[1] = (s[1] + le32(key, k + 4)) >>> 0;
    s[2] = (s[2] + le32(key, k + 8)) >>> 0;
    mix(s);
    n -= 12;
    k += 12;
  }
  if (n === 0) return s[2];
  // the tail's bytes go into a, b, c from the lowest byte up (the kernel's fall-through switch)
  for (let i = n - 1; i >= 0; i--) {
    const w = i >> 2;
    s[w as 0 | 1 | 2] = (s[w as 0 | 1 | 2] + ((key[k + i] as number) << ((i & 3) * 8))) >>> 0;
  }
  return final(s);
}

/** jhash2(words, length, initval): key[start, start+4*words) as little-endian u32 words. */
export function jhash2(key: Uint8Array, start: number, words: number, initval = 0): number {
  const init = (INITVAL + (words << 2) + initval) >>> 0;
  const s: State = [init, init, init];
  const word = (i: number): number => le32(key, start + 4 * i);
  let i = 0;
  let n = words;
  while (n > 3) {
    s[0] = (s[0] + word(i)) >>> 0;
    s[1] = (s[1] + word(i + 1)) >>> 0;
    s[2] = (s[2] + word(i + 2)) >>> 0;
    mix(s);
    n -= 3;
    i += 3;
  }
  if (n === 0) return s[2];
  for (let w = n - 1; w >= 0; w--) s[w as 0 | 1 | 2] = (s[w as 0 | 1 | 2] + word(i + w)) >>> 0;
  return final(s);
}

/** htab_map_hash: the hash a kernel hash table gives a key (seed 0: BPF_F_ZERO_SEED). */
export function htabHash(key: Uint8Array, start: number, size: number, seed = 0): number {
  return size % 4 === 0 ? jhash2(key, start, size / 4, seed) : jhash(key, start, size, seed);
}
