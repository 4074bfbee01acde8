/**
 * The optimizer's bit sets (dominators, edge dominators, closures: one set per block or edge, thousands of
 * words each for big filters) in one WebAssembly memory, intersected and united by 128-bit SIMD loops: libpcap's
 * optimizer spends its time in exactly these word loops, and wasm's v128 ops do four words per instruction
 * where a JS loop does one. Each set is also a Uint32Array view, for the bit tests the optimizer makes.
 */

/** and(dst, src, vectors) and or(dst, src, vectors): dst[i] op= src[i] for `vectors` 16-byte vectors at byte addresses. */
const MODULE = (() => {
  const loop = (op: number): number[] => {
    const body = [
      0x01,
      0x01,
      0x7f, // one local: end (i32)
      0x20,
      0x00,
      0x20,
      0x02,
      0x41,
      0x04,
      0x74,
      0x6a,
      0x21,
      0x03, // end = dst + (vectors << 4)
      0x02,
      0x40,
      0x03,
      0x40, // block, loop
      0x20,
      0x00,
      0x20,
      0x03,
      0x4f,
      0x0d,
      0x01, // dst >= end: out
      0x20,
      0x00, // address for the store
      0x20,
      0x00,
      0xfd,
      0x00,
      0x02,
      0x00, // v128.load dst
      0x20,
      0x01,
      0xfd,
      0x00,
      0x02,
      0x00, // v128.load src
      0xfd,
      op, // v128.and / v128.or
      0xfd,
      0x0b,
      0x02,
      0x00, // v128.store
      0x20,
      0x00,
      0x41,
      0x10,
      0x6a,
      0x21,
      0x00, // dst += 16
      0x20,
      0x01,
      0x41,
      0x10,
      0x6a,
      0x21,
      0x01, // src += 16
      0x0c,
      0x00,
      0x0b,
      0x0b, // br loop; end loop; end block
      0x0b, // end function
    ];
    return [body.length, ...body];
  };
  const and = loop(0x4e);
  const or = loop(0x50);
  const code = [0x02, ...and, ...or];
  const leb = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, n >>> 7]);
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    0x01,
    0x07,
    0x01,
    0x60,
    0x03,
    0x7f,
    0x7f,
    0x7f,
    0x00, // type: (i32, i32, i32) -> ()
    0x02,
    0x0f,
    0x01,
    0x03,
    0x65,
    0x6e,
    0x76,
    0x06,
    0x6d,
    0x65,
    0x6d,
    0x6f,
    0x72,
    0x79,
    0x02,
    0x00,
    0x00, // import env.memory
    0x03,
    0x03,
    0x02,
    0x00,
    0x00, // two functions of type 0
    0x07,
    0x0c,
    0x02,
    0x03,
    0x61,
    0x6e,
    0x64,
    0x00,
    0x00,
    0x02,
    0x6f,
    0x72,
    0x00,
    0x01, // export "and", "or"
    0x0a,
    ...leb(code.length),
    ...code,
  ]);
})();

let compiled: WebAssembly.Module | undefined;

export class BitsetArena {
  /** Words per set, a multiple of 4 (whole vectors). */
  readonly stride: number;
  readonly words: Uint32Array;
  private readonly andFn: (dst: number, src: number, vectors: number) => void;
  private readonly orFn: (dst: number, src: number, vectors: number) => void;
  private readonly vectors: number;
  /** Which sets a meet has reached since begin(): the first meet copies instead (no fill beforehand). */
  private readonly touched: Uint8Array;

  /** Room for `sets` sets of at least `words` words each. */
  constructor(sets: number, words: number) {
    this.stride = (words + 3) & ~3;
    this.vectors = this.stride >>> 2;
    const bytes = Math.max(1, sets * this.stride * 4);
    const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) });
    compiled ??= new WebAssembly.Module(MODULE);
    const exports = new WebAssembly.Instance(compiled, { env: { memory } }).exports as Record<
      string,
      (a: number, b: number, n: number) => void
    >;
    this.andFn = exports.and as (a: number, b: number, n: number) => void;
    this.orFn = exports.or as (a: number, b: number, n: number) => void;
    this.words = new Uint32Array(memory.buffer, 0, sets * this.stride);
    this.touched = new Uint8Array(sets);
  }

  /**
   * Starts a pass over sets [first, first + count) that would each begin as `identity` (all ones for an
   * intersection, zero for a union) and then meet their predecessors: instead of filling them all, the first
   * meet into a set copies, and end() fills only the sets no meet reached.
   */
  begin(first: number, count: number): void {
    this.touched.fill(0, first, first + count);
  }

  /** Set a starts as `value` (a pass's roots), and counts as reached. */
  init(a: number, value: number): void {
    this.words.fill(value, a * this.stride, (a + 1) * this.stride);
    this.touched[a] = 1;
  }

  /** Set a &= set b (or, first in the pass, a = b). */
  meetAnd(a: number, b: number): void {
    if (this.touched[a]) this.andFn(a * this.stride * 4, b * this.stride * 4, this.vectors);
    else this.copy(a, b);
  }

  /** Set a |= set b (or, first in the pass, a = b). */
  meetOr(a: number, b: number): void {
    if (this.touched[a]) this.orFn(a * this.stride * 4, b * this.stride * 4, this.vectors);
    else this.copy(a, b);
  }

  /** Ends the pass: sets no meet reached hold `identity`, as if filled at begin(). */
  end(first: number, count: number, identity: number): void {
    for (let k = first; k < first + count; k++) if (!this.touched[k]) this.words.fill(identity, k * this.stride, (k + 1) * this.stride);
  }

  private copy(a: number, b: number): void {
    this.words.copyWithin(a * this.stride, b * this.stride, (b + 1) * this.stride);
    this.touched[a] = 1;
  }

  /** Set k as a view of its words. */
  set(k: number): Uint32Array {
    return this.words.subarray(k * this.stride, (k + 1) * this.stride);
  }
}
