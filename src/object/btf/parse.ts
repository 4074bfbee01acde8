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
import { BtfRecords } from "./records.js";
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
  return new LazyBtf(byteOrder, BtfRecords.index(r.bytes.subarray(typesAt, typesAt + typeLen), le, strings, where, typesAt));
}

class LazyBtf implements Btf {
  private readonly decoded: Array<BtfType | undefined>;
  private all: readonly BtfType[] | undefined;
  private readonly named = new Map<string, readonly number[]>();
  private prefixes: Uint16Array | undefined;
  readonly count: number;
  readonly strings: Uint8Array;

  constructor(
    readonly byteOrder: ByteOrder,
    private readonly r: BtfRecords,
  ) {
    this.strings = r.strings;
    this.count = r.count;
    this.decoded = new Array(this.count);
    this.decoded[0] = VOID;
  }

  records(): BtfRecords {
    return this.r;
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
      t = decodeType(this.r, id);
      this.decoded[id] = t;
    }
    return t;
  }

  kindOf(id: number): BtfKindName | undefined {
    if (!(id >= 0 && id < this.count)) return undefined;
    return id === 0 ? "UNKN" : BTF_KINDS[this.r.kind(id)];
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

  /** Compares each type's name bytes in place: no string is built for the 130k names that do not match. */
  private scanNames(want: Uint8Array, essential: boolean): number[] {
    const out: number[] = [];
    const s = this.strings;
    const n = want.length;
    if (n === 0) return out;
    this.prefixes ??= this.r.namePrefixes();
    const prefixes = this.prefixes;
    // a one-byte name is followed by its NUL, or (essential) by "___"
    const prefix = (want[0] as number) | ((n > 1 ? (want[1] as number) : 0) << 8);
    const mask = n > 1 || !essential ? 0xffff : 0xff;
    const r = this.r;
    for (let id = 1, count = this.count; id < count; id++) {
      if (((prefixes[id] as number) & mask) !== prefix) continue;
      const off = r.nameOff(id);
      let i = 2;
      while (i < n && s[off + i] === want[i]) i++;
      if (i < n) continue;
      const next = s[off + n];
      if (next === 0 || (essential && next === 0x5f && s[off + n + 1] === 0x5f && s[off + n + 2] === 0x5f)) out.push(id);
    }
    return out;
  }
}

/** Type `id` as its object, read field by field from the records (which check its names and ids). */
function decodeType(r: BtfRecords, id: number): BtfType {
  const nameOff = r.nameOff(id);
  const name = r.name(id);
  const kflag = r.kflag(id);
  const vlen = r.vlen(id);
  const kind = BTF_KINDS[r.kind(id)] as BtfKindName;
  // Written out in every literal below (not spread from a shared object): spreading is several times slower.
  switch (kind) {
    case "INT": {
      const e = r.extra(id); // encoding, bits offset, bits
      return {
        id,
        name,
        nameOff,
        kflag,
        kind,
        size: r.size(id),
        encoding: (e >>> 24) & 0x0f,
        bitsOffset: (e >>> 16) & 0xff,
        bits: e & 0xff,
      };
    }
    case "PTR":
    case "TYPEDEF":
    case "VOLATILE":
    case "CONST":
    case "RESTRICT":
    case "TYPE_TAG":
      return { id, name, nameOff, kflag, kind, type: r.type(id) };
    case "ARRAY":
      return {
        id,
        name,
        nameOff,
        kflag,
        kind,
        type: r.arrayType(id),
        indexType: r.ref(r.arrayIndexType(id), id),
        nelems: r.arrayNelems(id),
      };
    case "STRUCT":
    case "UNION": {
      const members = new Array(vlen);
      for (let i = 0; i < vlen; i++)
        members[i] = {
          name: r.memberName(id, i),
          nameOff: r.memberNameOff(id, i),
          type: r.memberType(id, i),
          bitOffset: r.memberBitOffset(id, i),
          bitfieldSize: r.memberBitfieldSize(id, i),
        };
      return { id, name, nameOff, kflag, kind, size: r.size(id), members };
    }
    case "ENUM":
    case "ENUM64": {
      const values = new Array(vlen);
      for (let i = 0; i < vlen; i++) values[i] = { name: r.enumName(id, i), nameOff: r.enumNameOff(id, i), value: r.enumBigValue(id, i) };
      return { id, name, nameOff, kflag, kind, size: r.size(id), values };
    }
    case "FWD":
      return { id, name, nameOff, kflag, kind };
    case "FUNC":
      return { id, name, nameOff, kflag, kind, type: r.type(id), linkage: vlen };
    case "FUNC_PROTO": {
      const params = new Array(vlen);
      for (let i = 0; i < vlen; i++) params[i] = { name: r.paramName(id, i), nameOff: r.paramNameOff(id, i), type: r.paramType(id, i) };
      return { id, name, nameOff, kflag, kind, returnType: r.type(id), params };
    }
    case "VAR":
      return { id, name, nameOff, kflag, kind, type: r.type(id), linkage: r.extra(id) };
    case "DATASEC": {
      const vars = new Array(vlen);
      for (let i = 0; i < vlen; i++) vars[i] = { type: r.varType(id, i), offset: r.varOffset(id, i), size: r.varSize(id, i) };
      return { id, name, nameOff, kflag, kind, size: r.size(id), vars };
    }
    case "FLOAT":
      return { id, name, nameOff, kflag, kind, size: r.size(id) };
    default:
      return { id, name, nameOff, kflag, kind: "DECL_TAG", type: r.type(id), componentIdx: r.extra(id) | 0 };
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
