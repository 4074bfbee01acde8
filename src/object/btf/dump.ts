/** `bpftool btf dump ... format raw`, reproduced line for line (bpftool's dump_btf_type). */
import type { Btf } from "./parse.js";
import { BTF_INT_BOOL, BTF_INT_CHAR, BTF_INT_SIGNED, type BtfType } from "./types.js";

const anon = (name: string, nameOff: number): string => (nameOff === 0 ? "(anon)" : name);

function intEncoding(e: number): string {
  if (e === 0) return "(none)";
  if (e === BTF_INT_SIGNED) return "SIGNED";
  if (e === BTF_INT_CHAR) return "CHAR";
  if (e === BTF_INT_BOOL) return "BOOL";
  return "UNKN";
}

const FUNC_LINKAGE = ["static", "global", "extern"];
const VAR_LINKAGE = ["static", "global", "extern"];

function line(btf: Btf, t: BtfType): string {
  let s = `[${t.id}] ${t.kind} '${anon(t.name, t.nameOff)}'`;
  switch (t.kind) {
    case "INT":
      return `${s} size=${t.size} bits_offset=${t.bitsOffset} nr_bits=${t.bits} encoding=${intEncoding(t.encoding)}`;
    case "PTR":
    case "CONST":
    case "VOLATILE":
    case "RESTRICT":
    case "TYPEDEF":
    case "TYPE_TAG":
      return `${s} type_id=${t.type}`;
    case "ARRAY":
      return `${s} type_id=${t.type} index_type_id=${t.indexType} nr_elems=${t.nelems}`;
    case "STRUCT":
    case "UNION":
      s += ` size=${t.size} vlen=${t.members.length}`;
      for (const m of t.members) {
        s += `\n\t'${anon(m.name, m.nameOff)}' type_id=${m.type} bits_offset=${m.bitOffset}`;
        if (m.bitfieldSize) s += ` bitfield_size=${m.bitfieldSize}`;
      }
      return s;
    case "ENUM":
    case "ENUM64":
      s += ` encoding=${t.kflag ? "SIGNED" : "UNSIGNED"} size=${t.size} vlen=${t.values.length}`;
      for (const v of t.values) {
        const suffix = t.kind === "ENUM64" ? (t.kflag ? "LL" : "ULL") : "";
        s += `\n\t'${anon(v.name, v.nameOff)}' val=${v.value}${suffix}`;
      }
      return s;
    case "FWD":
      return `${s} fwd_kind=${t.kflag ? "union" : "struct"}`;
    case "FUNC":
      return `${s} type_id=${t.type} linkage=${FUNC_LINKAGE[t.linkage] ?? "(unknown)"}`;
    case "FUNC_PROTO":
      s += ` ret_type_id=${t.returnType} vlen=${t.params.length}`;
      for (const p of t.params) s += `\n\t'${anon(p.name, p.nameOff)}' type_id=${p.type}`;
      return s;
    case "VAR":
      return `${s} type_id=${t.type}, linkage=${VAR_LINKAGE[t.linkage] ?? "(unknown)"}`;
    case "DATASEC":
      s += ` size=${t.size} vlen=${t.vars.length}`;
      for (const v of t.vars) {
        s += `\n\ttype_id=${v.type} offset=${v.offset} size=${v.size}`;
        const vt = btf.type(v.type);
        if (vt && v.type !== 0) s += ` (${vt.kind} '${anon(vt.name, vt.nameOff)}')`;
      }
      return s;
    case "FLOAT":
      return `${s} size=${t.size}`;
    case "DECL_TAG":
      return `${s} type_id=${t.type} component_idx=${t.componentIdx}`;
  }
}

/**
 * Every type but void — or only the `roots` (bpftool's `btf dump map MAP key|value|kv`) — one
 * `[id] KIND 'name' ...` entry each, as bpftool prints them.
 */
export function dumpBtfRaw(btf: Btf, roots?: readonly number[]): string {
  let out = "";
  const ids = roots ?? Array.from({ length: btf.types.length - 1 }, (_, i) => i + 1);
  for (const id of ids) {
    const t = btf.type(id);
    if (t && id !== 0) out += `${line(btf, t)}\n`;
  }
  return out;
}
