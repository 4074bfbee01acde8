/**
 * Parses a .BTF section (or /sys/kernel/btf/vmlinux): header, type section and string section, in either
 * byte order (told apart by the magic). Every malformed input is an ObjectError with the offset.
 */
import type { ByteOrder } from "../../isa/codec.js";
import { ObjectError } from "../errors.js";
import { ByteReader, decodeText } from "../reader.js";
import { BTF_KINDS, type BtfType } from "./types.js";

export const BTF_MAGIC = 0xeb9f;

export interface Btf {
  readonly byteOrder: ByteOrder;
  /** The raw string section. */
  readonly strings: Uint8Array;
  /** types[0] is the implicit void type; ids index this array. */
  readonly types: readonly BtfType[];
  /** The string at an offset of the string section, or undefined when the offset is invalid. */
  string(offset: number): string | undefined;
  /** The type with an id (undefined past the end). */
  type(id: number): BtfType | undefined;
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
  const strings = bytes.subarray(stringsAt, stringsAt + strLen);
  if (strLen > 0 && strings[0] !== 0)
    throw new ObjectError("EBTF", `${where}: string section does not start with an empty string`, { offset: stringsAt });
  const string = (offset: number): string | undefined => {
    if (offset >= strLen) return undefined;
    // No cache: decoding a short ASCII name costs less than looking it up in a map of 100k+ offsets.
    const end = strings.indexOf(0, offset);
    return decodeText(strings, offset, end < 0 ? strLen : end);
  };
  const name = (off: number, at: number): string => {
    const s = string(off);
    if (s === undefined)
      throw new ObjectError("EBTF", `${where}: name offset ${off} is outside the string section (${strLen} bytes)`, { offset: at });
    return s;
  };

  const t = new ByteReader(bytes.subarray(typesAt, typesAt + typeLen), byteOrder, `${where} types`, typesAt);
  const types: BtfType[] = [VOID];
  while (t.pos < t.length) {
    const at = typesAt + t.pos;
    const id = types.length;
    const nameOff = t.u32("name_off");
    const info = t.u32("info");
    const sizeOrType = t.u32("size/type");
    const vlen = info & 0xffff;
    const kindNo = (info >>> 24) & 0x1f;
    const kflag = info >>> 31 === 1;
    const kind = BTF_KINDS[kindNo];
    if (kind === undefined || kind === "UNKN")
      throw new ObjectError("EBTF", `${where}: type ${id} has unknown kind ${kindNo}`, { offset: at });
    // Written out in every literal below (not spread from a shared object): spreading is several times slower,
    // and vmlinux has 120k+ types.
    const typeName = name(nameOff, at);
    const list = <T>(n: number, read: () => T): T[] => {
      t.need(n, `${kind} members of type ${id}`);
      const out: T[] = [];
      for (let i = 0; i < n; i++) out.push(read());
      return out;
    };
    switch (kind) {
      case "INT": {
        const v = t.u32("int encoding");
        types.push({
          id,
          name: typeName,
          nameOff,
          kflag,
          kind,
          size: sizeOrType,
          encoding: (v >>> 24) & 0x0f,
          bitsOffset: (v >>> 16) & 0xff,
          bits: v & 0xff,
        });
        break;
      }
      case "PTR":
      case "TYPEDEF":
      case "VOLATILE":
      case "CONST":
      case "RESTRICT":
      case "TYPE_TAG":
        types.push({ id, name: typeName, nameOff, kflag, kind, type: sizeOrType });
        break;
      case "ARRAY":
        types.push({
          id,
          name: typeName,
          nameOff,
          kflag,
          kind,
          type: t.u32("array type"),
          indexType: t.u32("index type"),
          nelems: t.u32("nelems"),
        });
        break;
      case "STRUCT":
      case "UNION": {
        t.need(vlen * 12, `${vlen} members of type ${id}`);
        const members = list(vlen, () => {
          const mat = typesAt + t.pos;
          const off = t.u32("member name");
          const type = t.u32("member type");
          const offset = t.u32("member offset");
          return {
            name: name(off, mat),
            nameOff: off,
            type,
            bitOffset: kflag ? offset & 0xffffff : offset,
            bitfieldSize: kflag ? offset >>> 24 : 0,
          };
        });
        types.push({ id, name: typeName, nameOff, kflag, kind, size: sizeOrType, members });
        break;
      }
      case "ENUM": {
        t.need(vlen * 8, `${vlen} values of type ${id}`);
        const values = list(vlen, () => {
          const vat = typesAt + t.pos;
          const off = t.u32("enum name");
          const raw = t.i32("enum value");
          return { name: name(off, vat), nameOff: off, value: BigInt(kflag ? raw : raw >>> 0) };
        });
        types.push({ id, name: typeName, nameOff, kflag, kind, size: sizeOrType, values });
        break;
      }
      case "ENUM64": {
        t.need(vlen * 12, `${vlen} values of type ${id}`);
        const values = list(vlen, () => {
          const vat = typesAt + t.pos;
          const off = t.u32("enum64 name");
          const lo = t.u32("enum64 lo");
          const hi = t.u32("enum64 hi");
          const u = (BigInt(hi) << 32n) | BigInt(lo);
          return { name: name(off, vat), nameOff: off, value: kflag ? BigInt.asIntN(64, u) : u };
        });
        types.push({ id, name: typeName, nameOff, kflag, kind, size: sizeOrType, values });
        break;
      }
      case "FWD":
        types.push({ id, name: typeName, nameOff, kflag, kind });
        break;
      case "FUNC":
        types.push({ id, name: typeName, nameOff, kflag, kind, type: sizeOrType, linkage: vlen });
        break;
      case "FUNC_PROTO": {
        t.need(vlen * 8, `${vlen} parameters of type ${id}`);
        const params = list(vlen, () => {
          const pat = typesAt + t.pos;
          const off = t.u32("param name");
          return { name: name(off, pat), nameOff: off, type: t.u32("param type") };
        });
        types.push({ id, name: typeName, nameOff, kflag, kind, returnType: sizeOrType, params });
        break;
      }
      case "VAR":
        types.push({ id, name: typeName, nameOff, kflag, kind, type: sizeOrType, linkage: t.u32("var linkage") });
        break;
      case "DATASEC": {
        t.need(vlen * 12, `${vlen} variables of type ${id}`);
        const vars = list(vlen, () => ({ type: t.u32("secinfo type"), offset: t.u32("secinfo offset"), size: t.u32("secinfo size") }));
        types.push({ id, name: typeName, nameOff, kflag, kind, size: sizeOrType, vars });
        break;
      }
      case "FLOAT":
        types.push({ id, name: typeName, nameOff, kflag, kind, size: sizeOrType });
        break;
      case "DECL_TAG":
        types.push({ id, name: typeName, nameOff, kflag, kind, type: sizeOrType, componentIdx: t.i32("component_idx") });
        break;
    }
  }
  return { byteOrder, strings, types, string, type: (id) => types[id] };
}

/** The same BTF with its types replaced (same ids, same strings). */
export function withTypes(btf: Btf, types: readonly BtfType[]): Btf {
  return { byteOrder: btf.byteOrder, strings: btf.strings, types, string: (off) => btf.string(off), type: (id) => types[id] };
}
