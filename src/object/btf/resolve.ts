/**
 * Walking BTF types as libbpf's btf__resolve_type / btf__resolve_size do: through typedefs and qualifiers to
 * the type underneath, and the size in bytes of any sized type. Shared by map definitions, CO-RE, externs
 * and the C printer.
 */
import { ObjectError } from "../errors.js";
import type { Btf } from "./parse.js";
import type { BtfType } from "./types.js";

const MAX_HOPS = 64;

function isModOrTypedef(t: BtfType): t is BtfType & { readonly type: number } {
  return t.kind === "TYPEDEF" || t.kind === "CONST" || t.kind === "VOLATILE" || t.kind === "RESTRICT" || t.kind === "TYPE_TAG";
}

/** The id under typedefs and qualifiers (the id itself when it names no type: 0 is void). */
export function skipModsAndTypedefs(btf: Btf, id: number, where = `type ${id}`): number {
  let cur = id;
  for (let hops = 0; hops < MAX_HOPS; hops++) {
    const t = btf.type(cur);
    if (!t || !isModOrTypedef(t)) return cur;
    cur = t.type;
  }
  throw new ObjectError("EBTF", `${where}: type chain too long at type ${id}`);
}

/** The type under typedefs and qualifiers; it must exist. */
export function resolveType(btf: Btf, id: number, where: string): BtfType {
  const t = btf.type(skipModsAndTypedefs(btf, id, where));
  if (!t) throw new ObjectError("EBTF", `${where}: type ${id} does not exist`);
  return t;
}

/** Size in bytes of a BTF type (structs, ints, arrays, pointers of `ptrSize`, enums...). */
export function typeSize(btf: Btf, id: number, where: string, ptrSize = 8, depth = 0): number {
  if (depth > MAX_HOPS) throw new ObjectError("EBTF", `${where}: type ${id} nests too deeply`);
  const t = resolveType(btf, id, where);
  switch (t.kind) {
    case "INT":
    case "STRUCT":
    case "UNION":
    case "ENUM":
    case "ENUM64":
    case "FLOAT":
    case "DATASEC":
      return t.size;
    case "PTR":
      return ptrSize;
    case "ARRAY":
      return t.nelems * typeSize(btf, t.type, where, ptrSize, depth + 1);
    case "VAR":
      return typeSize(btf, t.type, where, ptrSize, depth + 1);
    default:
      throw new ObjectError("EBTF", `${where}: type ${id} (${t.kind}) has no size`);
  }
}
