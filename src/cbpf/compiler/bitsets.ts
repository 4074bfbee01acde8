/**
 * The optimizer's bit sets (dominators, edge dominators, closures: one set per block or edge, thousands of
 * words each for big filters) in one WebAssembly memory, intersected and united by 128-bit SIMD loops: libpcap's
 * optimizer spends its time in exactly these word loops, and wasm's v128 ops do four words per instruction
 * where a JS loop does one. Each set is also a Uint32Array view, for the bit tests the optimizer makes.
 */

/**
 * and(dst, src, vectors), or(...) and copy(...): dst[i] = dst[i] & src[i], | src[i], or src[i], for `vectors`
 * 16-byte vectors at byte addresses; scan(at, end): the address of the first vector in [at, end) that is not
 * all zeros, or end.
 */
const MODULE = (() => {
  /** A loop over the vectors: dst = dst op src, or (op undefined) dst = src. */
  const loop = (op?: number): number[] => {
    const value =
      op === undefined
        ? [0x20, 0x01, 0xfd, 0x00, 0x02, 0x00] // v128.load src
        : [0x20, 0x00, 0xfd, 0x00, 0x02, 0x00, 0x20, 0x01, 0xfd, 0x00, 0x02, 0x00, 0xfd, op]; // both; v128.and / or
    // biome-ignore format: one instruction a line
    const body = [
      0x01, 0x01, 0x7f, // one local: end (i32)
      0x20, 0x00, 0x20, 0x02, 0x41, 0x04, 0x74, 0x6a, 0x21, 0x03, // end = dst + (vectors << 4)
      0x02, 0x40, 0x03, 0x40, // block, loop
      0x20, 0x00, 0x20, 0x03, 0x4f, 0x0d, 0x01, // dst >= end: out
      0x20, 0x00, // the store's address
      ...value,
      0xfd, 0x0b, 0x02, 0x00, // v128.store
      0x20, 0x00, 0x41, 0x10, 0x6a, 0x21, 0x00, // dst += 16
      0x20, 0x01, 0x41, 0x10, 0x6a, 0x21, 0x01, // src += 16
      0x0c, 0x00, 0x0b, 0x0b, // br loop; end loop; end block
      0x0b, // end of the function
    ];
    return [body.length, ...body];
  };
  // biome-ignore format: one instruction a line
  // biome-ignore format: one instruction a line
  const scanBody = [
    0x00, // no locals
    // four vectors at a time while four remain: one any_true of their or
    0x02, 0x40, 0x03, 0x40, // block, loop
    0x20, 0x00, 0x41, 0xc0, 0x00, 0x6a, 0x20, 0x01, 0x4b, 0x0d, 0x01, // at + 64 > end: out (64: signed LEB)
    0x20, 0x00, 0xfd, 0x00, 0x02, 0x00, 0x20, 0x00, 0xfd, 0x00, 0x02, 0x10, 0xfd, 0x50, // v0 | v1
    0x20, 0x00, 0xfd, 0x00, 0x02, 0x20, 0x20, 0x00, 0xfd, 0x00, 0x02, 0x30, 0xfd, 0x50, // v2 | v3
    0xfd, 0x50, 0xfd, 0x53, 0x0d, 0x01, // any bit in the four: out
    0x20, 0x00, 0x41, 0xc0, 0x00, 0x6a, 0x21, 0x00, // at += 64
    0x0c, 0x00, 0x0b, 0x0b, // br loop; end loop; end block
    // then one vector at a time
    0x02, 0x40, 0x03, 0x40, // block, loop
    0x20, 0x00, 0x20, 0x01, 0x4f, 0x0d, 0x01, // at >= end: out
    0x20, 0x00, 0xfd, 0x00, 0x02, 0x00, 0xfd, 0x53, 0x0d, 0x01, // v128.any_true(load at): out
    0x20, 0x00, 0x41, 0x10, 0x6a, 0x21, 0x00, // at += 16
    0x0c, 0x00, 0x0b, 0x0b, // br loop; end loop; end block
    0x20, 0x00, 0x0b, // at
  ];
  const code = [0x04, ...loop(0x4e), ...loop(0x50), ...loop(), scanBody.length, ...scanBody];
  const leb = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, n >>> 7]);
  // biome-ignore format: one section a line
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x0d, 0x02, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, // types: (i32, i32, i32) -> (), (i32, i32) -> i32
    0x02, 0x0f, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x00, // import env.memory
    0x03, 0x05, 0x04, 0x00, 0x00, 0x00, 0x01, // and, or, copy of type 0; scan of type 1
    0x07, 0x1a, 0x04, 0x03, 0x61, 0x6e, 0x64, 0x00, 0x00, 0x02, 0x6f, 0x72, 0x00, 0x01, 0x04, 0x63, 0x6f, 0x70, 0x79, 0x00, 0x02, 0x04, 0x73, 0x63, 0x61, 0x6e, 0x00, 0x03, // export and, or, copy, scan
    0x0a, ...leb(code.length), ...code,
  ]);
})();

let compiled: WebAssembly.Module | undefined;

export class BitsetArena {
  /** Words per set, a multiple of 4 (whole vectors). */
  readonly stride: number;
  readonly words: Uint32Array;
  private readonly andFn: (dst: number, src: number, vectors: number) => void;
  private readonly orFn: (dst: number, src: number, vectors: number) => void;
  private readonly copyFn: (dst: number, src: number, vectors: number) => void;
  private readonly scanFn: (at: number, end: number) => number;
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
    this.copyFn = exports.copy as (a: number, b: number, n: number) => void;
    this.scanFn = exports.scan as unknown as (at: number, end: number) => number;
    this.words = new Uint32Array(memory.buffer, 0, sets * this.stride);
    this.touched = new Uint8Array(sets);
  }

  /**
   * Starts a pass over sets [first, first + count) that libpcap fills with an identity (all ones for an
   * intersection, zero for a union) before meeting each with its predecessors': here the first meet into a set
   * copies instead. A set no meet reaches keeps what it held — those are the blocks no longer reachable, whose
   * sets the optimizer never reads, while every reachable set comes out as libpcap's.
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

  /**
   * The first word of the first vector of set k at or after word `from` (a multiple of 4) holding a set bit,
   * or the stride when none does: sets a thousand words long with a handful of bits are walked in a few steps.
   */
  nextNonzero(k: number, from: number): number {
    const base = k * this.stride * 4;
    return (this.scanFn(base + from * 4, base + this.stride * 4) - base) >>> 2;
  }

  private copy(a: number, b: number): void {
    this.copyFn(a * this.stride * 4, b * this.stride * 4, this.vectors);
    this.touched[a] = 1;
  }

  /** Set k as a view of its words. */
  set(k: number): Uint32Array {
    return this.words.subarray(k * this.stride, (k + 1) * this.stride);
  }
}
