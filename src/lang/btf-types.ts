/**
 * Kernel types for scripts, from BTF: struct and union members (anonymous ones searched through, as C
 * does), and what a member's type is in the language — integers and enums by size and sign, char arrays as
 * strings, pointers to structs as struct pointers, embedded structs as places further `.field`s go into.
 */
import type { Btf, BtfType } from "../object/btf/index.js";
import type { Ty } from "./types.js";

const QUALIFIERS = new Set(["TYPEDEF", "CONST", "VOLATILE", "RESTRICT", "TYPE_TAG"]);
const BTF_INT_SIGNED = 1;

/** The type behind typedefs and qualifiers. */
export function stripType(btf: Btf, id: number): BtfType | undefined {
  let t = btf.type(id);
  for (let n = 0; t && QUALIFIERS.has(t.kind) && n < 32; n++) t = btf.type((t as { type: number }).type);
  return t;
}

/** The struct or union named `name` (a complete one, not a forward declaration). */
export function structNamed(btf: Btf, name: string): number | undefined {
  return btf.idsNamed(name).find((id) => {
    const k = btf.kindOf(id);
    return k === "STRUCT" || k === "UNION";
  });
}

export interface MemberPlace {
  /** Byte offset from the start of the outer struct. */
  readonly offset: number;
  readonly type: number;
  readonly bitfield: boolean;
}

/** A member by name, looking into anonymous struct and union members too. */
export function memberOf(btf: Btf, structId: number, name: string): MemberPlace | undefined {
  const t = stripType(btf, structId);
  if (!t || (t.kind !== "STRUCT" && t.kind !== "UNION")) return undefined;
  for (const m of t.members) {
    if (m.name === name) return { offset: m.bitOffset >> 3, type: m.type, bitfield: m.bitfieldSize !== 0 || m.bitOffset % 8 !== 0 };
    if (m.name === "") {
      const inner = memberOf(btf, m.type, name);
      if (inner) return { ...inner, offset: inner.offset + (m.bitOffset >> 3) };
    }
  }
  return undefined;
}

/** The language's type of a kernel type, or undefined where scripts cannot hold it yet. */
export function scriptType(btf: Btf, id: number): Ty | undefined {
  const t = stripType(btf, id);
  if (!t) return undefined;
  switch (t.kind) {
    case "INT":
      return t.size === 1 || t.size === 2 || t.size === 4 || t.size === 8
        ? { k: "int", size: t.size, signed: (t.encoding & BTF_INT_SIGNED) !== 0 }
        : undefined;
    case "ENUM":
    case "ENUM64":
      return t.size === 1 || t.size === 2 || t.size === 4 || t.size === 8 ? { k: "int", size: t.size, signed: t.kflag } : undefined;
    case "PTR": {
      const to = stripType(btf, t.type);
      if (to && (to.kind === "STRUCT" || to.kind === "UNION")) return { k: "sptr", btf: to.id, name: to.name };
      if (to?.kind === "INT" && (to.size === 1 || to.size === 2 || to.size === 4 || to.size === 8))
        return { k: "ptr", size: to.size, signed: (to.encoding & BTF_INT_SIGNED) !== 0, depth: 1 };
      return { k: "int", size: 8, signed: false };
    }
    case "ARRAY": {
      const el = stripType(btf, t.type);
      return el?.kind === "INT" && el.size === 1 ? { k: "str", size: t.nelems } : undefined;
    }
    case "STRUCT":
    case "UNION":
      return { k: "sref", btf: t.id, name: t.name };
    default:
      return undefined;
  }
}
