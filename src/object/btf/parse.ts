/**
 * Parses a .BTF section (or /sys/kernel/btf/vmlinux): header, type section and string section, in either
 * byte order (told apart by the magic). Every malformed input is an ObjectError with the offset.
 *
 * Parsing is lazy: one pass indexes where each type starts and checks what libbpf's btf_parse_type_sec does
 * (known kinds, every record inside the section), and a type is decoded into its object the first time it is
 * asked for, its name offsets and the type ids it refers to checked then. vmlinux has 125k+ types; a CO-RE
 * load or a map's key and value look at a few dozen.
 */
import type { ByteOrder } from "../../isa/codec.js";
import { ObjectError } from "../errors.js";
import { ByteReader, decodeText } from "../reader.js";
import { encodeBtf } from "./encode.js";
import {
  BtfRecords,
  KIND_ARRAY,
  KIND_CONST,
  KIND_DATASEC,
  KIND_DECL_TAG,
  KIND_ENUM,
  KIND_ENUM64,
  KIND_FLOAT,
  KIND_FUNC,
  KIND_FUNC_PROTO,
  KIND_FWD,
  KIND_INT,
  KIND_PTR,
  KIND_RESTRICT,
  KIND_STRUCT,
  KIND_TYPE_TAG,
  KIND_TYPEDEF,
  KIND_UNION,
  KIND_VAR,
  KIND_VOLATILE,
} from "./records.js";
import { BTF_KINDS, type BtfKindName, type BtfType } from "./types.js";

export const BTF_MAGIC = 0xeb9f;

export interface Btf {
  readonly byteOrder: ByteOrder;
  /** The raw string section. */
  readonly strings: Uint8Array;
  /**
   * Every type, types[0] being the implicit void; ids index this array. Decodes all of them on first use:
   * where a few types are wanted, `count`, `type(id)`, `kindOf(id)` and `idsNamed(name)` decode only those.
   */
  readonly types: readonly BtfType[];
  /** The number of type ids, void included (valid ids are 0 to count - 1). */
  readonly count: number;
  /** The string at an offset of the string section, or undefined when the offset is invalid. */
  string(offset: number): string | undefined;
  /** The type with an id (undefined past the end). */
  type(id: number): BtfType | undefined;
  /** A type's kind without decoding the type (undefined past the end; void is "UNKN"). */
  kindOf(id: number): BtfKindName | undefined;
  /**
   * Ids of the types named `name`, in id order. With `essential`, also those named `name___suffix` (the
   * flavors CO-RE matches: libbpf's bpf_core_essential_name_len).
   */
  idsNamed(name: string, essential?: boolean): readonly number[];
  /** The types' records read in place, for walks over every type (see records.ts). */
  records(): BtfRecords;
}

const VOID: BtfType = { id: 0, kind: "FWD", name: "", nameOff: 0, kflag: false };

export function parseBtf(bytes: Uint8Array, where = ".BTF"): Btf {
  if (bytes.length < 4) throw new ObjectError("EBTF", `${where}: too short for a BTF header (${bytes.length} bytes)`, { offset: 0 });
  const le = bytes[0] === 0x9f && bytes[1] === 0xeb;
  const be = bytes[0] === 0xeb && bytes[1] === 0x9f;
  if (!le && !be)
    throw new ObjectError("EBTF", `${where}: bad BTF magic 0x${((bytes[0] ?? 0) | ((bytes[1] ?? 0) << 8)).toString(16)}`, { offset: 0 });
  const byteOrder: ByteOrder = le ? "little" : "big";
  const r = new ByteReader(bytes, byteOrder, where);
  r.u16("magic");
  const version = r.u8("version");
  if (version !== 1) throw new ObjectError("EBTF", `${where}: unsupported BTF version ${version}`, { offset: 2 });
  r.u8("flags");
  const hdrLen = r.u32("hdr_len");
  if (hdrLen < 24) throw new ObjectError("EBTF", `${where}: header length ${hdrLen} is shorter than 24`, { offset: 4 });
  const typeOff = r.u32("type_off");
  const typeLen = r.u32("type_len");
  const strOff = r.u32("str_off");
  const strLen = r.u32("str_len");
  const typesAt = hdrLen + typeOff;
  const stringsAt = hdrLen + strOff;
  r.need(typeLen, "type section", typesAt);
  r.need(strLen, "string section", stringsAt);
  const strings = r.bytes.subarray(stringsAt, stringsAt + strLen);
  if (strLen > 0 && strings[0] !== 0)
    throw new ObjectError("EBTF", `${where}: string section does not start with an empty string`, { offset: stringsAt });
  if (strLen > 0 && strings[strLen - 1] !== 0)
    throw new ObjectError("EBTF", `${where}: string section does not end with a NUL`, { offset: stringsAt + strLen - 1 });
  const words = wordsOf(r.bytes.subarray(typesAt, typesAt + typeLen), le);
  const index = indexTypes(words, typeLen, typesAt, where);
  return new LazyBtf(byteOrder, strings, words, index, where, typesAt);
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
 * and every record inside the section. Name offsets and referenced ids are checked when a type is decoded.
 */
function indexTypes(w: Uint32Array, byteLength: number, base: number, where: string): Uint32Array {
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

class LazyBtf implements Btf {
  private readonly decoded: Array<BtfType | undefined>;
  private all: readonly BtfType[] | undefined;
  private readonly named = new Map<string, readonly number[]>();
  private prefixes: Uint16Array | undefined;
  readonly count: number;

  constructor(
    readonly byteOrder: ByteOrder,
    readonly strings: Uint8Array,
    /** The type section in host-order words (wordsOf). */
    private readonly w: Uint32Array,
    /** Each type's first word. */
    private readonly starts: Uint32Array,
    private readonly where: string,
    /** Offset of the type section in the input, for messages. */
    private readonly base: number,
  ) {
    this.count = starts.length;
    this.decoded = new Array(this.count);
    this.decoded[0] = VOID;
  }

  records(): BtfRecords {
    return new BtfRecords(this.w, this.starts, this.strings, this.where, this.base);
  }

  get types(): readonly BtfType[] {
    if (!this.all) {
      const all: BtfType[] = new Array(this.count);
      for (let id = 0; id < this.count; id++) all[id] = this.type(id) as BtfType;
      this.all = all;
    }
    return this.all;
  }

  string(offset: number): string | undefined {
    if (offset >= this.strings.length) return undefined;
    // No cache: decoding a short ASCII name costs less than looking it up in a map of 100k+ offsets.
    return decodeText(this.strings, offset, this.strings.indexOf(0, offset));
  }

  type(id: number): BtfType | undefined {
    if (!(id >= 0 && id < this.count)) return undefined;
    let t = this.decoded[id];
    if (t === undefined) {
      t = this.decodeRaw(id);
      this.decoded[id] = t;
    }
    return t;
  }

  kindOf(id: number): BtfKindName | undefined {
    if (!(id >= 0 && id < this.count)) return undefined;
    if (id === 0) return "UNKN";
    return BTF_KINDS[((this.w[(this.starts[id] as number) + 1] as number) >>> 24) & 0x1f];
  }

  idsNamed(name: string, essential = false): readonly number[] {
    const key = `${essential ? "~" : "="}${name}`;
    let ids = this.named.get(key);
    if (ids === undefined) {
      ids = this.scanNames(new TextEncoder().encode(name), essential);
      this.named.set(key, ids);
    }
    return ids;
  }

  /**
   * Each type's first two name bytes (0 for anonymous types), read once: a scan by name then walks this array
   * in order and reads the string section only where the prefix matches — the section's random reads, one per
   * type, were most of a scan's cost.
   */
  private namePrefixes(): Uint16Array {
    if (this.prefixes) return this.prefixes;
    // locals only in the loop: it runs once, much of it before the JIT has compiled it
    const s = this.strings;
    const w = this.w;
    const starts = this.starts;
    const count = this.count;
    const length = s.length;
    const prefixes = new Uint16Array(count);
    for (let id = 1; id < count; id++) {
      const off = w[starts[id] as number] as number;
      if (off !== 0 && off < length) prefixes[id] = (s[off] as number) | ((s[off + 1] ?? 0) << 8);
    }
    this.prefixes = prefixes;
    return prefixes;
  }

  /** Compares each type's name bytes in place: no string is built for the 130k names that do not match. */
  private scanNames(want: Uint8Array, essential: boolean): number[] {
    const out: number[] = [];
    const s = this.strings;
    const n = want.length;
    if (n === 0) return out;
    const prefixes = this.namePrefixes();
    // a one-byte name is followed by its NUL, or (essential) by "___"
    const prefix = (want[0] as number) | ((n > 1 ? (want[1] as number) : 0) << 8);
    const mask = n > 1 || !essential ? 0xffff : 0xff;
    const w = this.w;
    const starts = this.starts;
    for (let id = 1, count = this.count; id < count; id++) {
      if (((prefixes[id] as number) & mask) !== prefix) continue;
      const off = w[starts[id] as number] as number;
      let i = 2;
      while (i < n && s[off + i] === want[i]) i++;
      if (i < n) continue;
      const next = s[off + n];
      if (next === 0 || (essential && next === 0x5f && s[off + n + 1] === 0x5f && s[off + n + 2] === 0x5f)) out.push(id);
    }
    return out;
  }

  private name(off: number, word: number): string {
    if (off === 0) return "";
    const s = this.string(off);
    if (s === undefined)
      throw new ObjectError("EBTF", `${this.where}: name offset ${off} is outside the string section (${this.strings.length} bytes)`, {
        offset: this.base + word * 4,
      });
    return s;
  }

  /** A type id read from type `id`'s record, which must name a type. */
  private ref(ref: number, id: number): number {
    if (ref >= this.count)
      throw new ObjectError("EBTF", `${this.where}: type ${id} refers to type ${ref}, but the last type is ${this.count - 1}`, {
        offset: this.base + (this.starts[id] as number) * 4,
      });
    return ref;
  }

  /** Decodes type `id` from its words, checking its name offsets and the ids it refers to. */
  private decodeRaw(id: number): BtfType {
    const w = this.w;
    const at = this.starts[id] as number;
    const nameOff = w[at] as number;
    const info = w[at + 1] as number;
    const sizeOrType = w[at + 2] as number;
    const vlen = info & 0xffff;
    const kindNo = (info >>> 24) & 0x1f;
    const kflag = info >>> 31 === 1;
    const name = this.name(nameOff, at);
    const body = at + 3;
    // Written out in every literal below (not spread from a shared object): spreading is several times slower.
    switch (kindNo) {
      case KIND_INT: {
        const e = w[body] as number;
        return {
          id,
          name,
          nameOff,
          kflag,
          kind: "INT",
          size: sizeOrType,
          encoding: (e >>> 24) & 0x0f,
          bitsOffset: (e >>> 16) & 0xff,
          bits: e & 0xff,
        };
      }
      case KIND_PTR:
      case KIND_TYPEDEF:
      case KIND_VOLATILE:
      case KIND_CONST:
      case KIND_RESTRICT:
      case KIND_TYPE_TAG:
        return { id, name, nameOff, kflag, kind: BTF_KINDS[kindNo] as "PTR", type: this.ref(sizeOrType, id) };
      case KIND_ARRAY:
        return {
          id,
          name,
          nameOff,
          kflag,
          kind: "ARRAY",
          type: this.ref(w[body] as number, id),
          indexType: this.ref(w[body + 1] as number, id),
          nelems: w[body + 2] as number,
        };
      case KIND_STRUCT:
      case KIND_UNION: {
        const members = new Array(vlen);
        for (let i = 0, m = body; i < vlen; i++, m += 3) {
          const off = w[m] as number;
          const offset = w[m + 2] as number;
          members[i] = {
            name: this.name(off, m),
            nameOff: off,
            type: this.ref(w[m + 1] as number, id),
            bitOffset: kflag ? offset & 0xffffff : offset,
            bitfieldSize: kflag ? offset >>> 24 : 0,
          };
        }
        return { id, name, nameOff, kflag, kind: kindNo === KIND_STRUCT ? "STRUCT" : "UNION", size: sizeOrType, members };
      }
      case KIND_ENUM: {
        const values = new Array(vlen);
        for (let i = 0, m = body; i < vlen; i++, m += 2) {
          const off = w[m] as number;
          const raw = (w[m + 1] as number) | 0;
          values[i] = { name: this.name(off, m), nameOff: off, value: BigInt(kflag ? raw : raw >>> 0) };
        }
        return { id, name, nameOff, kflag, kind: "ENUM", size: sizeOrType, values };
      }
      case KIND_ENUM64: {
        const values = new Array(vlen);
        for (let i = 0, m = body; i < vlen; i++, m += 3) {
          const off = w[m] as number;
          const u = (BigInt(w[m + 2] as number) << 32n) | BigInt(w[m + 1] as number);
          values[i] = { name: this.name(off, m), nameOff: off, value: kflag ? BigInt.asIntN(64, u) : u };
        }
        return { id, name, nameOff, kflag, kind: "ENUM64", size: sizeOrType, values };
      }
      case KIND_FWD:
        return { id, name, nameOff, kflag, kind: "FWD" };
      case KIND_FUNC:
        return { id, name, nameOff, kflag, kind: "FUNC", type: this.ref(sizeOrType, id), linkage: vlen };
      case KIND_FUNC_PROTO: {
        const params = new Array(vlen);
        for (let i = 0, m = body; i < vlen; i++, m += 2) {
          const off = w[m] as number;
          params[i] = { name: this.name(off, m), nameOff: off, type: this.ref(w[m + 1] as number, id) };
        }
        return { id, name, nameOff, kflag, kind: "FUNC_PROTO", returnType: this.ref(sizeOrType, id), params };
      }
      case KIND_VAR:
        return { id, name, nameOff, kflag, kind: "VAR", type: this.ref(sizeOrType, id), linkage: w[body] as number };
      case KIND_DATASEC: {
        const vars = new Array(vlen);
        for (let i = 0, m = body; i < vlen; i++, m += 3)
          vars[i] = { type: this.ref(w[m] as number, id), offset: w[m + 1] as number, size: w[m + 2] as number };
        return { id, name, nameOff, kflag, kind: "DATASEC", size: sizeOrType, vars };
      }
      case KIND_FLOAT:
        return { id, name, nameOff, kflag, kind: "FLOAT", size: sizeOrType };
      default:
        return { id, name, nameOff, kflag, kind: "DECL_TAG", type: this.ref(sizeOrType, id), componentIdx: (w[body] as number) | 0 };
    }
  }
}

/** BTF made of decoded types (ids index the array), sharing a string section. */
class DecodedBtf implements Btf {
  private readonly named = new Map<string, readonly number[]>();
  readonly count: number;

  constructor(
    readonly byteOrder: ByteOrder,
    readonly strings: Uint8Array,
    readonly types: readonly BtfType[],
    private readonly strings_: (off: number) => string | undefined,
  ) {
    this.count = types.length;
  }

  string(offset: number): string | undefined {
    return this.strings_(offset);
  }

  type(id: number): BtfType | undefined {
    return this.types[id];
  }

  kindOf(id: number): BtfKindName | undefined {
    if (id === 0) return "UNKN";
    return this.types[id]?.kind;
  }

  records(): BtfRecords {
    return parseBtf(encodeBtf(this.types, this.strings)).records();
  }

  idsNamed(name: string, essential = false): readonly number[] {
    const key = `${essential ? "~" : "="}${name}`;
    let ids = this.named.get(key);
    if (ids === undefined) {
      ids = [];
      for (const t of this.types)
        if (t.id !== 0 && (t.name === name || (essential && t.name.startsWith(`${name}___`)))) (ids as number[]).push(t.id);
      this.named.set(key, ids);
    }
    return ids;
  }
}

/** The same BTF with its types replaced (same ids, same strings). */
export function withTypes(btf: Btf, types: readonly BtfType[]): Btf {
  return new DecodedBtf(btf.byteOrder, btf.strings, types, (off) => btf.string(off));
}
