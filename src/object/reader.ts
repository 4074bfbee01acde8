/**
 * The one bounds-checked reader every binary format here goes through (ELF, BTF, BTF.ext). `need(n)`
 * checks before every read; failures are ObjectErrors naming the absolute offset and what was expected.
 * Byte order is chosen per reader.
 */
import type { ByteOrder } from "../isa/codec.js";
import { ObjectError } from "./errors.js";

export class ByteReader {
  private readonly view: DataView;
  readonly little: boolean;
  /** Absolute offset of bytes[0] in the file, for messages. */
  readonly base: number;
  pos = 0;

  constructor(
    readonly bytes: Uint8Array,
    order: ByteOrder,
    readonly what: string,
    base = 0,
  ) {
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

  u8(expected = "u8"): number {
    this.need(1, expected);
    return this.view.getUint8(this.pos++);
  }

  u16(expected = "u16"): number {
    this.need(2, expected);
    const v = this.view.getUint16(this.pos, this.little);
    this.pos += 2;
    return v;
  }

  u32(expected = "u32"): number {
    this.need(4, expected);
    const v = this.view.getUint32(this.pos, this.little);
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
    this.need(8, expected);
    // two u32 halves: no BigInt on the way (ELF headers, symbols and relocations are all u64s)
    const lo = this.view.getUint32(this.pos + (this.little ? 0 : 4), this.little);
    const hi = this.view.getUint32(this.pos + (this.little ? 4 : 0), this.little);
    if (hi > 0x1fffff) {
      const v = (BigInt(hi) << 32n) | BigInt(lo);
      throw new ObjectError("ERANGE", `${this.what}: ${expected} 0x${v.toString(16)} is too large`, { offset: this.base + this.pos });
    }
    this.pos += 8;
    return hi * 0x100000000 + lo;
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
