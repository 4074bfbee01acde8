/**
 * BTF type records read in place, field by field, from the type section's words: what walks every type of
 * vmlinux (the C dump) reads through this, allocating nothing per type, where `Btf.type(id)` would build an
 * object (and its members) for each of 125k types. Every name offset and type id read is checked, with the
 * same ObjectError as decoding gives.
 */
import { ObjectError } from "../errors.js";
import { decodeText } from "../reader.js";

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

  /** INT: the nr_bits field of the encoding word. */
  intBits(id: number): number {
    return (this.w[this.at(id) + 3] as number) & 0xff;
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

  /** ENUM and ENUM64 value names. */
  enumName(id: number, i: number): string {
    const word = this.at(id) + 3 + i * (this.kind(id) === KIND_ENUM64 ? 3 : 2);
    return this.text(this.w[word] as number, word);
  }

  /** An enumerator's value in decimal, signed when the enum's kflag says so. */
  enumValue(id: number, i: number): string {
    const signed = this.kflag(id);
    if (this.kind(id) === KIND_ENUM) {
      const raw = this.w[this.at(id) + 4 + i * 2] as number;
      return String(signed ? raw | 0 : raw);
    }
    const word = this.at(id) + 3 + i * 3;
    const u = (BigInt(this.w[word + 2] as number) << 32n) | BigInt(this.w[word + 1] as number);
    return String(signed ? BigInt.asIntN(64, u) : u);
  }

  paramName(id: number, i: number): string {
    const word = this.at(id) + 3 + i * 2;
    return this.text(this.w[word] as number, word);
  }

  paramType(id: number, i: number): number {
    return this.ref(this.w[this.at(id) + 4 + i * 2] as number, id);
  }

  /** DATASEC: the type of variable i. */
  varType(id: number, i: number): number {
    return this.ref(this.w[this.at(id) + 3 + i * 3] as number, id);
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
