/**
 * Serializes BTF types back to the .BTF wire format (little-endian), reusing the original string section so
 * name offsets stay valid. Used to hand a sanitized copy of an object's BTF to the kernel.
 */
import type { BtfType } from "./types.js";
import { BTF_KINDS } from "./types.js";

function recordSize(t: BtfType): number {
  switch (t.kind) {
    case "INT":
    case "VAR":
    case "DECL_TAG":
      return 16;
    case "ARRAY":
      return 24;
    case "STRUCT":
    case "UNION":
      return 12 + 12 * t.members.length;
    case "ENUM":
      return 12 + 8 * t.values.length;
    case "ENUM64":
      return 12 + 12 * t.values.length;
    case "FUNC_PROTO":
      return 12 + 8 * t.params.length;
    case "DATASEC":
      return 12 + 12 * t.vars.length;
    default:
      return 12;
  }
}

/** Encodes types 1.. (types[0] is void) with the given string section. */
export function encodeBtf(types: readonly BtfType[], strings: Uint8Array): Uint8Array {
  const body = types.slice(1);
  const typeLen = body.reduce((n, t) => n + recordSize(t), 0);
  const out = new Uint8Array(24 + typeLen + strings.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0xeb9f, true);
  v.setUint8(2, 1);
  v.setUint32(4, 24, true);
  v.setUint32(8, 0, true);
  v.setUint32(12, typeLen, true);
  v.setUint32(16, typeLen, true);
  v.setUint32(20, strings.length, true);
  let at = 24;
  const u32 = (x: number): void => {
    v.setUint32(at, x >>> 0, true);
    at += 4;
  };
  for (const t of body) {
    const kind = BTF_KINDS.indexOf(t.kind);
    const vlen =
      t.kind === "STRUCT" || t.kind === "UNION"
        ? t.members.length
        : t.kind === "ENUM" || t.kind === "ENUM64"
          ? t.values.length
          : t.kind === "FUNC_PROTO"
            ? t.params.length
            : t.kind === "DATASEC"
              ? t.vars.length
              : t.kind === "FUNC"
                ? t.linkage
                : 0;
    u32(t.nameOff);
    u32(((t.kflag ? 1 : 0) << 31) | (kind << 24) | (vlen & 0xffff));
    switch (t.kind) {
      case "INT":
        u32(t.size);
        u32((t.encoding << 24) | (t.bitsOffset << 16) | t.bits);
        break;
      case "PTR":
      case "TYPEDEF":
      case "VOLATILE":
      case "CONST":
      case "RESTRICT":
      case "TYPE_TAG":
        u32(t.type);
        break;
      case "ARRAY":
        u32(0);
        u32(t.type);
        u32(t.indexType);
        u32(t.nelems);
        break;
      case "STRUCT":
      case "UNION":
        u32(t.size);
        for (const m of t.members) {
          u32(m.nameOff);
          u32(m.type);
          u32(t.kflag ? (m.bitfieldSize << 24) | m.bitOffset : m.bitOffset);
        }
        break;
      case "ENUM":
        u32(t.size);
        for (const e of t.values) {
          u32(e.nameOff);
          u32(Number(BigInt.asUintN(32, e.value)));
        }
        break;
      case "ENUM64":
        u32(t.size);
        for (const e of t.values) {
          const x = BigInt.asUintN(64, e.value);
          u32(e.nameOff);
          u32(Number(x & 0xffffffffn));
          u32(Number(x >> 32n));
        }
        break;
      case "FWD":
        u32(0);
        break;
      case "FUNC":
        u32(t.type);
        break;
      case "FUNC_PROTO":
        u32(t.returnType);
        for (const p of t.params) {
          u32(p.nameOff);
          u32(p.type);
        }
        break;
      case "VAR":
        u32(t.type);
        u32(t.linkage);
        break;
      case "DATASEC":
        u32(t.size);
        for (const s of t.vars) {
          u32(s.type);
          u32(s.offset);
          u32(s.size);
        }
        break;
      case "FLOAT":
        u32(t.size);
        break;
      case "DECL_TAG":
        u32(t.type);
        u32(t.componentIdx);
        break;
    }
  }
  out.set(strings, at);
  return out;
}
