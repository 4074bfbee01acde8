/**
 * BTF type records read in place, field by field, from the type section's words: what walks every type of
 * vmlinux (the C dump) reads through this, allocating nothing per type, where `Btf.type(id)` would build an
 * object (and its members) for each of 125k types. Every name offset and type id read is checked, with the
 * same ObjectError as decoding gives.
 */
import { ObjectError } from "../errors.js";
import { decodeText } from "../reader.js";
import { BTF_KINDS } from "./types.js";

export const KIND_INT = 1;
export const KIND_PTR = 2;
export const KIND_ARRAY = 3;
export const KIND_STRUCT = 4;
export const KIND_UNION = 5;
export const KIND_ENUM = 6;
export const KIND_FWD = 7;
export const KIND_TYPEDEF = 8;
export const KIND_VOLATILE = 9;
export const KIND_CONST = 10;
export const KIND_RESTRICT = 11;
export const KIND_FUNC = 12;
export const KIND_FUNC_PROTO = 13;
export const KIND_VAR = 14;
export const KIND_DATASEC = 15;
export const KIND_FLOAT = 16;
export const KIND_DECL_TAG = 17;
export const KIND_TYPE_TAG = 18;
export const KIND_ENUM64 = 19;

export class BtfRecords {
  readonly count: number;

  /** The records of a type section (`section`: its bytes; `base`: its offset in the input, for messages). */
  static index(section: Uint8Array, little: boolean, strings: Uint8Array, where: string, base: number): BtfRecords {
    const words = wordsOf(section, little);
    return new BtfRecords(words, indexRecords(words, section.byteLength, base, where), strings, where, base);
  }

  constructor(
    /** The type section in host-order words. */
    private readonly w: Uint32Array,
    /** Each type's first word (ids 1..; starts[0] is unused). */
    private readonly starts: Uint32Array,
    readonly strings: Uint8Array,
    private readonly where: string,
    /** Offset of the type section in the input, for messages. */
    private readonly base: number,
  ) {
    this.count = starts.length;
  }

  private at(id: number): number {
    return this.starts[id] as number;
  }

  /** The kind number (KIND_*); 0 for void. */
  kind(id: number): number {
    return id === 0 ? 0 : ((this.w[this.at(id) + 1] as number) >>> 24) & 0x1f;
  }

  nameOff(id: number): number {
    return id === 0 ? 0 : (this.w[this.at(id)] as number);
  }

  /** The type's name ("" when anonymous). */
  name(id: number): string {
    return this.text(this.nameOff(id), this.at(id));
  }

  kflag(id: number): boolean {
    return (this.w[this.at(id) + 1] as number) >>> 31 === 1;
  }

  vlen(id: number): number {
    return (this.w[this.at(id) + 1] as number) & 0xffff;
  }

  /** The size of a sized kind (INT, STRUCT, UNION, ENUM, ENUM64, FLOAT, DATASEC). */
  size(id: number): number {
    return this.w[this.at(id) + 2] as number;
  }

  /** The type referred to by a PTR, TYPEDEF, qualifier, FUNC, VAR or DECL_TAG, or a FUNC_PROTO's return type. */
  type(id: number): number {
    return this.ref(this.w[this.at(id) + 2] as number, id);
  }

  arrayType(id: number): number {
    return this.ref(this.w[this.at(id) + 3] as number, id);
  }

  /** The index type, unchecked (the C dump only marks it referenced). */
  arrayIndexType(id: number): number {
    return this.w[this.at(id) + 4] as number;
  }

  arrayNelems(id: number): number {
    return this.w[this.at(id) + 5] as number;
  }

  /** INT's encoding word (encoding, bits offset, bits); VAR's linkage; DECL_TAG's component index. */
  extra(id: number): number {
    return this.w[this.at(id) + 3] as number;
  }

  memberNameOff(id: number, i: number): number {
    return this.w[this.at(id) + 3 + i * 3] as number;
  }

  memberName(id: number, i: number): string {
    const word = this.at(id) + 3 + i * 3;
    return this.text(this.w[word] as number, word);
  }

  memberType(id: number, i: number): number {
    return this.ref(this.w[this.at(id) + 4 + i * 3] as number, id);
  }

  memberBitOffset(id: number, i: number): number {
    const offset = this.w[this.at(id) + 5 + i * 3] as number;
    return this.kflag(id) ? offset & 0xffffff : offset;
  }

  memberBitfieldSize(id: number, i: number): number {
    return this.kflag(id) ? (this.w[this.at(id) + 5 + i * 3] as number) >>> 24 : 0;
  }

  private enumWord(id: number, i: number): number {
    return this.at(id) + 3 + i * (this.kind(id) === KIND_ENUM64 ? 3 : 2);
  }

  enumNameOff(id: number, i: number): number {
    return this.w[this.enumWord(id, i)] as number;
  }

  /** ENUM and ENUM64 value names. */
  enumName(id: number, i: number): string {
    const word = this.enumWord(id, i);
    return this.text(this.w[word] as number, word);
  }

  /** An enumerator's value as encoded: signed when the enum's kflag says so. */
  enumBigValue(id: number, i: number): bigint {
    const signed = this.kflag(id);
    const word = this.enumWord(id, i);
    if (this.kind(id) === KIND_ENUM) {
      const raw = this.w[word + 1] as number;
      return BigInt(signed ? raw | 0 : raw);
    }
    const u = (BigInt(this.w[word + 2] as number) << 32n) | BigInt(this.w[word + 1] as number);
    return signed ? BigInt.asIntN(64, u) : u;
  }

  /** An enumerator's value in decimal (the C dump prints every one: a plain ENUM's without a BigInt). */
  enumValue(id: number, i: number): string {
    if (this.kind(id) !== KIND_ENUM) return String(this.enumBigValue(id, i));
    const raw = this.w[this.enumWord(id, i) + 1] as number;
    return String(this.kflag(id) ? raw | 0 : raw);
  }

  paramName(id: number, i: number): string {
    const word = this.at(id) + 3 + i * 2;
    return this.text(this.w[word] as number, word);
  }

  paramNameOff(id: number, i: number): number {
    return this.w[this.at(id) + 3 + i * 2] as number;
  }

  paramType(id: number, i: number): number {
    return this.ref(this.w[this.at(id) + 4 + i * 2] as number, id);
  }

  /** DATASEC: the type, offset and size of variable i. */
  varType(id: number, i: number): number {
    return this.ref(this.w[this.at(id) + 3 + i * 3] as number, id);
  }

  varOffset(id: number, i: number): number {
    return this.w[this.at(id) + 4 + i * 3] as number;
  }

  varSize(id: number, i: number): number {
    return this.w[this.at(id) + 5 + i * 3] as number;
  }

  /**
   * Each type's first two name bytes (0 for anonymous types): a scan by name walks this in order and reads the
   * string section only where the prefix matches — the section's random reads, one per type, were most of a
   * scan's cost. Locals only in the loop: it runs once, much of it before the JIT has compiled it.
   */
  namePrefixes(): Uint16Array {
    const { w, starts, strings: s, count } = this;
    const length = s.length;
    const prefixes = new Uint16Array(count);
    for (let id = 1; id < count; id++) {
      const off = w[starts[id] as number] as number;
      if (off !== 0 && off < length) prefixes[id] = (s[off] as number) | ((s[off + 1] ?? 0) << 8);
    }
    return prefixes;
  }

  /** A type id read from type `id`'s record, which must name a type. */
  ref(ref: number, id: number): number {
    if (ref >= this.count)
      throw new ObjectError("EBTF", `${this.where}: type ${id} refers to type ${ref}, but the last type is ${this.count - 1}`, {
        offset: this.base + this.at(id) * 4,
      });
    return ref;
  }

  /** The string at a name offset read from `word` (0: ""). */
  text(off: number, word: number): string {
    if (off === 0) return "";
    if (off >= this.strings.length)
      throw new ObjectError("EBTF", `${this.where}: name offset ${off} is outside the string section (${this.strings.length} bytes)`, {
        offset: this.base + word * 4,
      });
    return decodeText(this.strings, off, this.strings.indexOf(0, off));
  }
}

const HOST_LITTLE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * The type section as 32-bit words in host order: every field of a type record is a u32 at a multiple of 4,
 * and indexing a Uint32Array is several times cheaper than DataView reads. Copied (and byte-swapped) only
 * when the section is misaligned or in the other byte order.
 */
function wordsOf(section: Uint8Array, le: boolean): Uint32Array {
  const n = section.byteLength >>> 2;
  if (le === HOST_LITTLE && section.byteOffset % 4 === 0) return new Uint32Array(section.buffer, section.byteOffset, n);
  const view = new DataView(section.buffer, section.byteOffset, section.byteLength);
  const words = new Uint32Array(n);
  for (let i = 0; i < n; i++) words[i] = view.getUint32(i * 4, le);
  return words;
}

/**
 * Where each type starts in the type section (in words; ids 1..): libbpf's btf_parse_type_sec, the kinds known
 * and every record inside the section. Name offsets and referenced ids are checked as they are read.
 */
function indexRecords(w: Uint32Array, byteLength: number, base: number, where: string): Uint32Array {
  const length = w.length;
  // A record is at least 3 words: room for every start, allocated once.
  const starts = new Uint32Array(Math.floor(length / 3) + 1);
  let count = 1;
  let at = 0;
  while (at < length) {
    if (length - at < 3) throw truncated(where, "type header", 12, byteLength - at * 4, base + at * 4);
    const info = w[at + 1] as number;
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const size =
      kind === KIND_STRUCT || kind === KIND_UNION || kind === KIND_DATASEC || kind === KIND_ENUM64
        ? 3 + vlen * 3
        : kind === KIND_ENUM || kind === KIND_FUNC_PROTO
          ? 3 + vlen * 2
          : kind === KIND_INT || kind === KIND_VAR || kind === KIND_DECL_TAG
            ? 4
            : kind === KIND_ARRAY
              ? 6
              : 3;
    if (kind === 0 || kind > KIND_ENUM64)
      throw new ObjectError("EBTF", `${where}: type ${count} has unknown kind ${kind}`, { offset: base + at * 4 });
    if (size > length - at)
      throw truncated(where, `${BTF_KINDS[kind]} members of type ${count}`, (size - 3) * 4, byteLength - at * 4 - 12, base + at * 4 + 12);
    starts[count++] = at;
    at += size;
  }
  if (byteLength % 4 !== 0) throw truncated(where, "type header", 12, byteLength % 4, base + length * 4);
  return starts.subarray(0, count);
}

function truncated(where: string, expected: string, n: number, left: number, offset: number): ObjectError {
  return new ObjectError("ETRUNC", `${where} types: truncated ${expected}: needs ${n} bytes, ${Math.max(0, left)} left`, { offset });
}
