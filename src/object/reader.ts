/**
 * The one bounds-checked reader every binary format here goes through (ELF, BTF, BTF.ext). `need(n)`
 * checks before every read; failures are ObjectErrors naming the absolute offset and what was expected.
 * Byte order is chosen per reader.
 */
import type { ByteOrder } from "../isa/codec.js";
import { ObjectError } from "./errors.js";

export class ByteReader {
  /**
   * The bytes as a plain Uint8Array view: a Node Buffer's subarray builds a Buffer through JS code, several
   * times the cost of a typed array's (every section, name and record read from an object is a subarray).
   */
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  readonly little: boolean;
  /** Absolute offset of bytes[0] in the file, for messages. */
  readonly base: number;
  pos = 0;

  constructor(
    bytes: Uint8Array,
    order: ByteOrder,
    readonly what: string,
    base = 0,
  ) {
    this.bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.little = order === "little";
    this.base = base;
  }

  get length(): number {
    return this.bytes.length;
  }

  /** Fails unless n bytes remain at the current position (or at `at`). */
  need(n: number, expected: string, at = this.pos): void {
    if (!Number.isInteger(n) || n < 0 || at < 0 || at > this.bytes.length || n > this.bytes.length - at) {
      throw new ObjectError(
        "ETRUNC",
        `${this.what}: truncated ${expected}: needs ${n} bytes, ${Math.max(0, this.bytes.length - at)} left`,
        {
          offset: this.base + at,
        },
      );
    }
  }

  seek(at: number, expected: string): this {
    this.need(0, expected, at);
    this.pos = at;
    return this;
  }

  // Reads at the current position, which they advance.

  u8(expected = "u8"): number {
    this.need(1, expected);
    return this.view.getUint8(this.pos++);
  }

  u16(expected = "u16"): number {
    const v = this.u16At(this.pos, expected);
    this.pos += 2;
    return v;
  }

  u32(expected = "u32"): number {
    const v = this.u32At(this.pos, expected);
    this.pos += 4;
    return v;
  }

  i32(expected = "i32"): number {
    this.need(4, expected);
    const v = this.view.getInt32(this.pos, this.little);
    this.pos += 4;
    return v;
  }

  /** A u64 that must fit a JS number exactly (offsets, sizes, addresses in objects). */
  u64(expected = "u64"): number {
    const v = this.u64At(this.pos, expected);
    this.pos += 8;
    return v;
  }

  // Reads at an offset of these bytes, for fixed-size records (ELF headers, symbols, relocations).

  u16At(at: number, expected: string): number {
    this.need(2, expected, at);
    return this.view.getUint16(at, this.little);
  }

  u32At(at: number, expected: string): number {
    this.need(4, expected, at);
    return this.view.getUint32(at, this.little);
  }

  /** A u64 that must fit a JS number exactly. */
  u64At(at: number, expected: string): number {
    this.need(8, expected, at);
    // two u32 halves: no BigInt on the way (ELF headers, symbols and relocations are all u64s)
    const lo = this.view.getUint32(at + (this.little ? 0 : 4), this.little);
    const hi = this.view.getUint32(at + (this.little ? 4 : 0), this.little);
    if (hi > 0x1fffff) {
      const v = (BigInt(hi) << 32n) | BigInt(lo);
      throw new ObjectError("ERANGE", `${this.what}: ${expected} 0x${v.toString(16)} is too large`, { offset: this.base + at });
    }
    return hi * 0x100000000 + lo;
  }

  /** The low (or, with `high`, the high) u32 half of the u64 at `at`. */
  u64HalfAt(at: number, expected: string, high = false): number {
    return this.u32At(at + (this.little !== high ? 0 : 4), expected);
  }

  /** A signed i64 as a number (relocation addends). */
  i64At(at: number, expected: string): number {
    this.need(8, expected, at);
    return Number(this.view.getBigInt64(at, this.little));
  }

  bytesAt(at: number, n: number, expected: string): Uint8Array {
    this.need(n, expected, at);
    return this.bytes.subarray(at, at + n);
  }

  /** A NUL-terminated string starting at `at`. */
  cstring(at: number, expected: string): string {
    if (at >= this.bytes.length) {
      throw new ObjectError("ESTRING", `${this.what}: ${expected} starts at ${at}, past the table's end (${this.bytes.length} bytes)`, {
        offset: this.base,
      });
    }
    const end = this.bytes.indexOf(0, at);
    if (end < 0) throw new ObjectError("ESTRING", `${this.what}: unterminated ${expected}`, { offset: this.base + at });
    return decodeText(this.bytes, at, end);
  }
}

const utf8 = new TextDecoder();

/**
 * bytes[start, end) as UTF-8. Names in objects are almost always ASCII, and building those directly is ~20x
 * cheaper than a TextDecoder call — which matters when an object has thousands of names to read per load.
 */
export function decodeText(bytes: Uint8Array, start: number, end: number): string {
  if (end - start > 256) return utf8.decode(bytes.subarray(start, end));
  let s = "";
  for (let i = start; i < end; i++) {
    const c = bytes[i] as number;
    if (c >= 0x80) return utf8.decode(bytes.subarray(start, end));
    s += String.fromCharCode(c);
  }
  return s;
}
