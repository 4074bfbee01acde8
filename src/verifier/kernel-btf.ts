/**
 * The kernel's types, from its BTF (vmlinux), as the verifier walks them: what a load through a BTF pointer
 * reads (btf_struct_walk: a scalar, or a pointer to another kernel struct), which fields keep their parent's
 * trust (the kernel's BTF_TYPE_SAFE_* lists), and the context of a tracing program (the prototype of an
 * iterator's bpf_iter_<target> function or of a BTF tracepoint's btf_trace_<name>).
 */
import type { Btf } from "../object/btf/parse.js";
import { skipModsAndTypedefs } from "../object/btf/resolve.js";
import type { BtfType } from "../object/btf/types.js";

export type StructAccess =
  | { readonly kind: "scalar" }
  | { readonly kind: "ptr"; readonly id: number; readonly field: string; readonly tag?: string; readonly untrusted: boolean }
  /** A pointer to something other than a struct: read-only untrusted memory of unknown size (6.18). */
  | { readonly kind: "untrusted_mem" }
  | { readonly kind: "error"; readonly message: string };

const isStruct = (t: BtfType | undefined): t is Extract<BtfType, { kind: "STRUCT" | "UNION" }> =>
  t?.kind === "STRUCT" || t?.kind === "UNION";

/** A name as the kernel prints it (__btf_name_by_offset): "(anon)" where there is none. */
const named = (name: string | undefined): string => (name ? name : "(anon)");

/** The name a kernel type prints with (its struct name, under typedefs and qualifiers). */
export function kernelTypeName(btf: Btf, id: number): string {
  return named(btf.type(skipModsAndTypedefs(btf, id))?.name);
}

/** The id of the kernel struct named `name` (0 when the kernel's BTF has none). */
export function kernelStructId(btf: Btf, name: string): number {
  return btf.idsNamed(name).find((x) => btf.kindOf(x) === "STRUCT") ?? 0;
}

/** __btf_resolve_size: a member's size, and for arrays (flattened) the element's type and count. */
function resolveSize(btf: Btf, id: number): { size: number; type: BtfType; typeId: number; nelems: number; array: boolean } | undefined {
  let cur = skipModsAndTypedefs(btf, id);
  let nelems = 1;
  let array = false;
  for (let depth = 0; depth < 32; depth++) {
    const t = btf.type(cur);
    if (!t) return undefined;
    if (t.kind === "ARRAY") {
      array = true;
      nelems *= t.nelems;
      cur = skipModsAndTypedefs(btf, t.type);
      continue;
    }
    const unit = t.kind === "PTR" ? 8 : "size" in t ? (t as { size: number }).size : undefined;
    if (unit === undefined) return undefined;
    return { size: unit * nelems, type: t, typeId: cur, nelems, array };
  }
  return undefined;
}

/**
 * btf_struct_access over btf_struct_walk: what a load of `size` bytes at `off` in kernel struct `id` reads.
 * `untrusted` relaxes the end-of-member check as the kernel does for untrusted pointers.
 */
export function structAccess(btf: Btf, id: number, off: number, size: number, untrusted = false): StructAccess {
  let t = btf.type(skipModsAndTypedefs(btf, id));
  // Walking a union of several members makes what is found untrusted, and that persists (PTR_UNTRUSTED).
  const flag = { untrusted };
  for (let hops = 0; hops < 64; hops++) {
    const walked = structWalk(btf, t, off, size, flag);
    if (walked.kind !== "struct") return walked;
    t = btf.type(walked.id);
    off = 0;
  }
  return { kind: "error", message: `struct ${t?.name ?? ""} nests too deeply` };
}

/** The struct nested at `off` of struct `id` (one level of btf_struct_walk's WALK_STRUCT), if one starts there. */
export function structAccessAt(btf: Btf, id: number, off: number): number | undefined {
  const walked = structWalk(btf, btf.type(skipModsAndTypedefs(btf, id)), off, 1, { untrusted: false });
  return walked.kind === "struct" ? walked.id : undefined;
}

type Walk = StructAccess | { readonly kind: "struct"; readonly id: number };

function structWalk(btf: Btf, start: BtfType | undefined, startOff: number, size: number, flag: { untrusted: boolean }): Walk {
  let t = start;
  let off = startOff;
  for (let depth = 0; depth < 64; depth++) {
    if (!isStruct(t)) return { kind: "error", message: `Type '${named(t?.name)}' is not a struct` };
    const tname = named(t.name);
    if (t.kind === "UNION" && t.members.length !== 1) flag.untrusted = true;
    if (off + size > t.size) {
      // A flexible array at the end may be indexed past the struct.
      const last = t.members[t.members.length - 1];
      const lastType = last ? btf.type(skipModsAndTypedefs(btf, last.type)) : undefined;
      const beyond = { kind: "error", message: `access beyond struct ${tname} at off ${off} size ${size}` } as const;
      if (!last || lastType?.kind !== "ARRAY" || lastType.nelems !== 0) return beyond;
      const moff = Math.floor(last.bitOffset / 8);
      if (off < moff) return beyond;
      const elem = btf.type(skipModsAndTypedefs(btf, lastType.type));
      if (elem?.kind === "INT") return { kind: "scalar" };
      if (!isStruct(elem) || elem.size === 0) return beyond;
      off = (off - moff) % elem.size;
      t = elem;
      continue;
    }
    let next: Walk | undefined;
    for (const m of t.members) {
      let moff = Math.floor(m.bitOffset / 8);
      if (off + size <= moff) break;
      if (m.bitfieldSize) {
        const endBit = m.bitOffset + m.bitfieldSize;
        if (off <= moff && Math.ceil(endBit / 8) <= off + size) return { kind: "scalar" };
        continue;
      }
      if (off < moff) break;
      const r = resolveSize(btf, m.type);
      const mname = named(m.name);
      if (!r) return { kind: "error", message: `field ${mname} doesn't have size` };
      const trueEnd = moff + r.size;
      if (off >= trueEnd) continue;
      let mtype = r.type;
      let mid = r.typeId;
      let msize = r.size;
      if (r.array) {
        if (moff === trueEnd) continue;
        msize = r.size / r.nelems;
        moff += Math.floor((off - moff) / msize) * msize;
        mtype = r.type;
        mid = r.typeId;
      }
      if (isStruct(mtype)) {
        if (off === moff) return { kind: "struct", id: mid };
        off -= moff;
        t = mtype;
        next = { kind: "struct", id: -1 };
        break;
      }
      if (mtype.kind === "PTR") {
        if (msize !== size || off !== moff)
          return {
            kind: "error",
            message: `cannot access ptr member ${m.name} with moff ${moff} in struct ${tname} with off ${off} size ${size}`,
          };
        const pointee = btf.type(mtype.type);
        const tag = pointee?.kind === "TYPE_TAG" ? pointee.name : undefined;
        const target = skipModsAndTypedefs(btf, mtype.type);
        if (isStruct(btf.type(target)))
          return { kind: "ptr", id: target, field: m.name, untrusted: flag.untrusted, ...(tag ? { tag } : {}) };
        return { kind: "untrusted_mem" };
      }
      if (off + size > trueEnd && !flag.untrusted)
        return {
          kind: "error",
          message: `access beyond the end of member ${mname} (mend:${trueEnd}) in struct ${tname} with off ${off} size ${size}`,
        };
      return { kind: "scalar" };
    }
    if (next) continue;
    return { kind: "error", message: `struct ${tname} doesn't have field at offset ${off}` };
  }
  return { kind: "error", message: "struct nests too deeply" };
}

/**
 * Fields a walk from a trusted pointer keeps trusted, or gives RCU-protected pointers through (the kernel's
 * BTF_TYPE_SAFE_TRUSTED, BTF_TYPE_SAFE_RCU and their _OR_NULL forms, Linux 6.12).
 */
const SAFE_TRUSTED: Readonly<Record<string, readonly string[]>> = {
  bpf_iter_meta: ["seq"],
  bpf_iter__task: ["task"],
  linux_binprm: ["file"],
  file: ["f_inode"],
  dentry: ["d_inode"],
  sock: ["sk_socket"],
};
const SAFE_TRUSTED_OR_NULL: Readonly<Record<string, readonly string[]>> = {
  socket: ["sk"],
};
const SAFE_RCU: Readonly<Record<string, readonly string[]>> = {
  task_struct: ["cgroups", "real_parent", "group_leader"],
  cgroup: ["kn"],
  css_set: ["dfl_cgrp"],
};
const SAFE_RCU_OR_NULL: Readonly<Record<string, readonly string[]>> = {
  mm_struct: ["exe_file"],
  sk_buff: ["sk"],
  request_sock: ["sk"],
};

/** The trust a pointer loaded from `field` of a `parent` struct has (check_ptr_to_btf_access). */
export function walkedTrust(
  parentName: string,
  parentFlavour: string,
  field: string,
  tag: string | undefined,
): { flavour: string; maybeNull: boolean } {
  if (parentFlavour === "untrusted_") return { flavour: "untrusted_", maybeNull: false };
  if (parentFlavour !== "trusted_" && parentFlavour !== "rcu_") return { flavour: "", maybeNull: false };
  const listed = (table: Readonly<Record<string, readonly string[]>>): boolean => table[parentName]?.includes(field) === true;
  if (listed(SAFE_TRUSTED)) return { flavour: "trusted_", maybeNull: false };
  if (listed(SAFE_TRUSTED_OR_NULL)) return { flavour: "trusted_", maybeNull: true };
  // Non-sleepable programs run in an RCU read section.
  if (listed(SAFE_RCU)) return { flavour: "rcu_", maybeNull: false };
  if (tag === "rcu" || listed(SAFE_RCU_OR_NULL)) return { flavour: "rcu_", maybeNull: true };
  return { flavour: "", maybeNull: false };
}

/** A parameter of a kernel function's prototype, as a tracing context holds it. */
export type CtxArg =
  | { readonly kind: "scalar"; readonly slotBytes: number }
  | { readonly kind: "ptr"; readonly id: number; readonly tag?: string }
  | { readonly kind: "void_ptr" }
  /** Neither: a pointer to a non-struct (`pointer`), or some other type; refused with the kernel's words. */
  | { readonly kind: "other"; readonly pointer: boolean; readonly btfKind: string; readonly name: string };

export interface TracingProto {
  readonly params: readonly CtxArg[];
  /** The bytes the return value takes after them (rounded to 8; 0 for void). */
  readonly retBytes: number;
}

const roundUp8 = (n: number): number => Math.ceil(n / 8) * 8;

/** The prototype of a FUNC named `name`, or of the function a TYPEDEF `name` points to (btf_trace_*). */
export function tracingProto(btf: Btf, name: string, kind: "FUNC" | "TYPEDEF"): TracingProto | undefined {
  const id = btf.idsNamed(name).find((x) => btf.kindOf(x) === kind);
  const t = id === undefined ? undefined : btf.type(id);
  let protoId: number | undefined;
  if (t?.kind === "FUNC") protoId = t.type;
  else if (t?.kind === "TYPEDEF") {
    const ptr = btf.type(t.type);
    protoId = ptr?.kind === "PTR" ? ptr.type : undefined;
  }
  const proto = protoId === undefined ? undefined : btf.type(protoId);
  if (proto?.kind !== "FUNC_PROTO") return undefined;
  const params = proto.params.map((p): CtxArg => {
    const raw = btf.type(p.type);
    const pt = btf.type(skipModsAndTypedefs(btf, p.type));
    if (pt?.kind === "PTR") {
      if (pt.type === 0) return { kind: "void_ptr" };
      const pointee = btf.type(skipModsAndTypedefs(btf, pt.type));
      if (pointee?.kind === "INT") return { kind: "void_ptr" };
      if (!isStruct(pointee)) return { kind: "other", pointer: true, btfKind: pointee?.kind ?? "UNKN", name: p.name };
      const tagged = btf.type(pt.type);
      return { kind: "ptr", id: skipModsAndTypedefs(btf, pt.type), ...(tagged?.kind === "TYPE_TAG" ? { tag: tagged.name } : {}) };
    }
    const size = pt && "size" in pt ? (pt as { size: number }).size : 0;
    if (pt?.kind === "INT" || pt?.kind === "ENUM" || pt?.kind === "ENUM64" || isStruct(pt))
      return { kind: "scalar", slotBytes: roundUp8(size) };
    return { kind: "other", pointer: false, btfKind: pt?.kind ?? "UNKN", name: raw?.name ?? "" };
  });
  const ret = btf.type(skipModsAndTypedefs(btf, proto.returnType));
  const retBytes =
    proto.returnType === 0 ? 0 : ret?.kind === "PTR" ? 8 : roundUp8(ret && "size" in ret ? (ret as { size: number }).size : 0);
  return { params, retBytes };
}

/** get_ctx_arg_idx: which parameter (or the return value, at the count) a context offset falls in. */
export function ctxArgIndex(proto: TracingProto, off: number): number {
  let offset = 0;
  for (let i = 0; i < proto.params.length; i++) {
    const p = proto.params[i] as CtxArg;
    offset += p.kind === "scalar" ? p.slotBytes : 8;
    if (off < offset) return i;
  }
  offset += proto.retBytes;
  return off < offset ? proto.params.length : proto.params.length + 1;
}
