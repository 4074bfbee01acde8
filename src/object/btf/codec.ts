/**
 * Values laid out as BTF describes them, to and from plain TypeScript values — what lets a user read a map
 * entry as `{ pid: 42, comm: "bash" }` instead of bytes. A codec is built once per type (a tree of closures)
 * and then reused for every entry.
 *
 * Mapping: integers up to 32 bits and enums are numbers; 64- and 128-bit integers, ENUM64 and pointers are
 * bigints; `bool` is a boolean; `char` arrays are strings (up to the first NUL); other arrays are arrays;
 * structs, unions and DATASECs (global data) are objects keyed by member name, with the members of anonymous
 * structs and unions lifted into their parent, as C code names them. Encoding checks every value: a number
 * that does not fit, an unknown member or two members of one union are errors naming the path.
 */
import { ObjectError } from "../errors.js";
import type { Btf } from "./parse.js";
import { resolveType, typeSize } from "./resolve.js";
import { BTF_INT_BOOL, BTF_INT_CHAR, BTF_INT_SIGNED, type BtfMember, type BtfType } from "./types.js";

export type BtfValue = number | bigint | boolean | string | Uint8Array | readonly BtfValue[] | { readonly [member: string]: BtfValue };

export interface ValueCodec<T = BtfValue> {
  /** Size in bytes of an encoded value. */
  readonly size: number;
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

/** Encoding or decoding failed: the message names the path inside the value (e.g. `value.stats[2].bytes`). */
export class CodecError extends ObjectError {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super("EVALUE", `${path}: ${message}`);
  }
}

interface Node {
  readonly size: number;
  decode(v: DataView, at: number): BtfValue;
  encode(v: DataView, at: number, value: unknown, path: string): void;
  /** For structs and unions: the member names an object for it may carry (anonymous members lifted). */
  readonly members?: ReadonlySet<string>;
}

const MAX_DEPTH = 32;

/** The codec for BTF type `id` of `btf` (byte order from the BTF). */
export function btfCodec(btf: Btf, id: number, where = `type ${id}`): ValueCodec {
  const le = btf.byteOrder === "little";
  const node = build(btf, id, le, where, 0);
  return {
    size: node.size,
    encode(value) {
      const out = new Uint8Array(node.size);
      node.encode(new DataView(out.buffer), 0, value, "value");
      return out;
    },
    decode(bytes) {
      if (bytes.length < node.size) throw new CodecError("value", `${bytes.length} bytes, the type needs ${node.size}`);
      return node.decode(new DataView(bytes.buffer, bytes.byteOffset, bytes.length), 0);
    },
  };
}

/** A u32 as a number: the index of array maps, whose keys have no BTF type in global data maps. */
export function indexCodec(littleEndian = true): ValueCodec {
  const node = intNode(4, false, littleEndian, "index");
  return {
    size: 4,
    encode(value) {
      const out = new Uint8Array(4);
      node.encode(new DataView(out.buffer), 0, value, "key");
      return out;
    },
    decode: (bytes) => node.decode(new DataView(bytes.buffer, bytes.byteOffset, bytes.length), 0),
  };
}

/** Bytes as they are, for maps without BTF: values must have exactly `size` bytes. */
export function rawCodec(size: number): ValueCodec<Uint8Array> {
  return {
    size,
    encode(value) {
      if (!(value instanceof Uint8Array)) throw new CodecError("value", "this map has no BTF types: give the bytes as a Uint8Array");
      if (value.length !== size) throw new CodecError("value", `${value.length} bytes, expected ${size}`);
      return value;
    },
    decode: (bytes) => bytes.slice(0, size),
  };
}

function build(btf: Btf, id: number, le: boolean, where: string, depth: number): Node {
  if (depth > MAX_DEPTH) throw new ObjectError("EBTF", `${where}: type ${id} nests too deeply`);
  const t = resolveType(btf, id, where);
  switch (t.kind) {
    case "INT":
      if (t.bitsOffset !== 0 || t.bits !== t.size * 8)
        return bitfield(t.size, t.bitsOffset, t.bits, (t.encoding & BTF_INT_SIGNED) !== 0, le);
      if (t.encoding & BTF_INT_BOOL) return boolNode(t.size);
      return intNode(t.size, (t.encoding & BTF_INT_SIGNED) !== 0, le, `${t.name || "int"}`);
    case "ENUM":
    case "ENUM64":
      return enumNode(t, le);
    case "PTR":
      return intNode(8, false, le, "pointer");
    case "FLOAT":
      if (t.size !== 4 && t.size !== 8) throw new ObjectError("ENOTSUP", `${where}: ${t.size}-byte floats are not supported`);
      return floatNode(t.size, le);
    case "ARRAY":
      return arrayNode(btf, t.type, t.nelems, le, where, depth);
    case "STRUCT":
    case "UNION":
      return recordNode(btf, t.kind === "UNION", t.size, t.members, le, where, depth);
    case "DATASEC":
      return recordNode(
        btf,
        false,
        t.size,
        t.vars.map((v) => ({ name: btf.type(v.type)?.name ?? "", nameOff: 0, type: v.type, bitOffset: v.offset * 8, bitfieldSize: 0 })),
        le,
        where,
        depth,
      );
    case "VAR":
      return build(btf, t.type, le, where, depth + 1);
    default:
      throw new ObjectError("EBTF", `${where}: type ${t.id} (${t.kind}${t.name ? ` ${t.name}` : ""}) has no value layout`);
  }
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return value === null ? "null" : typeof value === "object" ? "an object" : String(value);
}

/** The value as a bigint if it is an integer in [min, max]. */
function integer(value: unknown, min: bigint, max: bigint, path: string, typeName: string): bigint {
  let b: bigint | undefined;
  if (typeof value === "bigint") b = value;
  else if (typeof value === "number" && Number.isSafeInteger(value)) b = BigInt(value);
  else if (typeof value === "boolean") b = value ? 1n : 0n;
  if (b === undefined) throw new CodecError(path, `expected an integer for ${typeName}, got ${describe(value)}`);
  if (b < min || b > max) throw new CodecError(path, `${describe(value)} does not fit in ${typeName}`);
  return b;
}

function intNode(size: number, signed: boolean, le: boolean, typeName: string): Node {
  const bits = BigInt(size * 8);
  const min = signed ? -(1n << (bits - 1n)) : 0n;
  const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  const name = `${typeName} (${signed ? "s" : "u"}${size * 8})`;
  const check = (value: unknown, path: string): bigint => integer(value, min, max, path, name);
  switch (size) {
    case 1:
      return {
        size,
        decode: (v, at) => (signed ? v.getInt8(at) : v.getUint8(at)),
        encode: (v, at, value, path) => v.setUint8(at, Number(BigInt.asUintN(8, check(value, path)))),
      };
    case 2:
      return {
        size,
        decode: (v, at) => (signed ? v.getInt16(at, le) : v.getUint16(at, le)),
        encode: (v, at, value, path) => v.setUint16(at, Number(BigInt.asUintN(16, check(value, path))), le),
      };
    case 4:
      return {
        size,
        decode: (v, at) => (signed ? v.getInt32(at, le) : v.getUint32(at, le)),
        encode: (v, at, value, path) => v.setUint32(at, Number(BigInt.asUintN(32, check(value, path))), le),
      };
    case 8:
      return {
        size,
        decode: (v, at) => (signed ? v.getBigInt64(at, le) : v.getBigUint64(at, le)),
        encode: (v, at, value, path) => v.setBigUint64(at, BigInt.asUintN(64, check(value, path)), le),
      };
    case 16:
      return {
        size,
        decode: (v, at) => {
          const lo = v.getBigUint64(at + (le ? 0 : 8), le);
          const hi = v.getBigUint64(at + (le ? 8 : 0), le);
          const u = (hi << 64n) | lo;
          return signed ? BigInt.asIntN(128, u) : u;
        },
        encode: (v, at, value, path) => {
          const u = BigInt.asUintN(128, check(value, path));
          v.setBigUint64(at + (le ? 0 : 8), u & 0xffffffffffffffffn, le);
          v.setBigUint64(at + (le ? 8 : 0), u >> 64n, le);
        },
      };
    default:
      throw new ObjectError("ENOTSUP", `${size}-byte integers have no value layout`);
  }
}

function boolNode(size: number): Node {
  return {
    size,
    decode: (v, at) => v.getUint8(at) !== 0,
    encode: (v, at, value, path) => {
      if (typeof value !== "boolean") throw new CodecError(path, `expected a boolean, got ${describe(value)}`);
      v.setUint8(at, value ? 1 : 0);
    },
  };
}

function floatNode(size: 4 | 8, le: boolean): Node {
  return {
    size,
    decode: (v, at) => (size === 4 ? v.getFloat32(at, le) : v.getFloat64(at, le)),
    encode: (v, at, value, path) => {
      if (typeof value !== "number") throw new CodecError(path, `expected a number, got ${describe(value)}`);
      if (size === 4) v.setFloat32(at, value, le);
      else v.setFloat64(at, value, le);
    },
  };
}

function enumNode(t: BtfType & { kind: "ENUM" | "ENUM64" }, le: boolean): Node {
  const signed = t.kflag;
  const base = intNode(t.size, signed, le, `enum ${t.name || "(anon)"}`);
  const byName = new Map(t.values.map((e) => [e.name, e.value]));
  const asNumber = t.kind === "ENUM" && t.size <= 4;
  return {
    size: t.size,
    decode: base.decode,
    encode: (v, at, value, path) => {
      if (typeof value === "string") {
        const n = byName.get(value);
        if (n === undefined) throw new CodecError(path, `enum ${t.name || "(anon)"} has no value ${JSON.stringify(value)}`);
        base.encode(v, at, asNumber ? Number(n) : n, path);
      } else {
        base.encode(v, at, value, path);
      }
    },
  };
}

/** A bitfield of `bits` bits at bit `offset` from byte `at` (offsets count from the low bit on little-endian). */
function bitfield(containerSize: number, offset: number, bits: number, signed: boolean, le: boolean): Node {
  const first = Math.floor(offset / 8);
  const span = Math.ceil((offset + bits) / 8) - first;
  const shift = BigInt(le ? offset - first * 8 : span * 8 - (offset - first * 8) - bits);
  const mask = (1n << BigInt(bits)) - 1n;
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : mask;
  const load = (v: DataView, at: number): bigint => {
    let x = 0n;
    for (let i = 0; i < span; i++) {
      const byte = BigInt(v.getUint8(at + first + (le ? span - 1 - i : i)));
      x = (x << 8n) | byte;
    }
    return x;
  };
  const store = (v: DataView, at: number, x: bigint): void => {
    for (let i = 0; i < span; i++) {
      const byte = Number((x >> BigInt(8 * (le ? i : span - 1 - i))) & 0xffn);
      v.setUint8(at + first + i, byte);
    }
  };
  const wide = bits > 32;
  return {
    size: containerSize,
    decode: (v, at) => {
      let x = (load(v, at) >> shift) & mask;
      if (signed) x = BigInt.asIntN(bits, x);
      return wide ? x : Number(x);
    },
    encode: (v, at, value, path) => {
      const x = BigInt.asUintN(bits, integer(value, min, max, path, `a ${bits}-bit bitfield`));
      store(v, at, (load(v, at) & ~(mask << shift)) | (x << shift));
    },
  };
}

function arrayNode(btf: Btf, elemId: number, n: number, le: boolean, where: string, depth: number): Node {
  const elemType = resolveType(btf, elemId, where);
  const isChar = elemType.kind === "INT" && elemType.size === 1 && ((elemType.encoding & BTF_INT_CHAR) !== 0 || elemType.name === "char");
  if (isChar) return charArray(n);
  const elem = build(btf, elemId, le, where, depth + 1);
  const stride = typeSize(btf, elemId, where);
  return {
    size: stride * n,
    decode: (v, at) => Array.from({ length: n }, (_, i) => elem.decode(v, at + i * stride)),
    encode: (v, at, value, path) => {
      if (!Array.isArray(value)) throw new CodecError(path, `expected an array of ${n}, got ${describe(value)}`);
      if (value.length > n) throw new CodecError(path, `${value.length} elements, the array holds ${n}`);
      value.forEach((e, i) => {
        elem.encode(v, at + i * stride, e, `${path}[${i}]`);
      });
    },
  };
}

/** char[N]: a string up to the first NUL; encoding takes a string (UTF-8, NUL-padded) or the bytes. */
function charArray(n: number): Node {
  return {
    size: n,
    decode: (v, at) => {
      const bytes = new Uint8Array(v.buffer, v.byteOffset + at, n);
      const end = bytes.indexOf(0);
      return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
    },
    encode: (v, at, value, path) => {
      const bytes =
        typeof value === "string"
          ? new TextEncoder().encode(value)
          : value instanceof Uint8Array
            ? value
            : Array.isArray(value)
              ? Uint8Array.from(value.map((b, i) => Number(integer(b, -128n, 255n, `${path}[${i}]`, "char")) & 0xff))
              : undefined;
      if (!bytes) throw new CodecError(path, `expected a string for char[${n}], got ${describe(value)}`);
      if (bytes.length > n) throw new CodecError(path, `${bytes.length} bytes do not fit in char[${n}]`);
      new Uint8Array(v.buffer, v.byteOffset + at, n).set(bytes);
    },
  };
}

function recordNode(
  btf: Btf,
  union: boolean,
  size: number,
  members: readonly BtfMember[],
  le: boolean,
  where: string,
  depth: number,
): Node {
  const fields = members.map((m) => {
    // A bitfield: kflag structs give its size in the member; older BTF gives an INT of fewer bits than its size.
    const t = resolveType(btf, m.type, where);
    const bits = m.bitfieldSize > 0 ? m.bitfieldSize : t.kind === "INT" && t.bits !== t.size * 8 ? t.bits : 0;
    const bitOffset = m.bitOffset + (m.bitfieldSize === 0 && t.kind === "INT" ? t.bitsOffset : 0);
    if (bits === 0 && bitOffset % 8 !== 0) throw new ObjectError("EBTF", `${where}: member ${m.name} is not byte-aligned`);
    const node = bits > 0 ? bitfield(0, bitOffset % 8, bits, isSigned(btf, m.type, where), le) : build(btf, m.type, le, where, depth + 1);
    return { name: m.name, at: Math.floor(bitOffset / 8), node, lifted: m.name === "" && node.members !== undefined };
  });
  const names = new Set<string>();
  for (const f of fields) {
    if (f.lifted) for (const n of f.node.members ?? []) names.add(n);
    else if (f.name !== "") names.add(f.name);
  }
  return {
    size,
    members: names,
    decode: (v, at) => {
      const out: Record<string, BtfValue> = {};
      for (const f of fields) {
        if (f.lifted) Object.assign(out, f.node.decode(v, at + f.at));
        else if (f.name !== "") out[f.name] = f.node.decode(v, at + f.at);
      }
      return out;
    },
    encode: (v, at, value, path) => {
      if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Uint8Array)
        throw new CodecError(path, `expected an object, got ${describe(value)}`);
      const given = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined);
      const unknown = given.filter((k) => !names.has(k));
      if (unknown.length > 0) throw new CodecError(path, `no member ${unknown.join(", ")} (members: ${[...names].join(", ") || "none"})`);
      if (union && given.length > 1) throw new CodecError(path, `a union holds one member, got ${given.join(", ")}`);
      for (const f of fields) {
        if (f.lifted) {
          // the anonymous member's own members, picked out of this object
          const own = given.filter((k) => f.node.members?.has(k));
          if (own.length > 0)
            f.node.encode(v, at + f.at, Object.fromEntries(own.map((k) => [k, (value as Record<string, unknown>)[k]])), path);
        } else if (f.name !== "" && (value as Record<string, unknown>)[f.name] !== undefined) {
          f.node.encode(v, at + f.at, (value as Record<string, unknown>)[f.name], `${path}.${f.name}`);
        }
      }
    },
  };
}

function isSigned(btf: Btf, id: number, where: string): boolean {
  const t = resolveType(btf, id, where);
  return (t.kind === "INT" && (t.encoding & BTF_INT_SIGNED) !== 0) || ((t.kind === "ENUM" || t.kind === "ENUM64") && t.kflag);
}
