/**
 * CO-RE access specs (libbpf's relo_core.c): the access string of a relocation ("0:1:2") walked through a
 * BTF — from the root type, an array index, then member indexes (local spec) or member names (target) —
 * giving the field's bit offset, its type, and for bitfields its size.
 */
import type { Btf } from "../btf/parse.js";
import { skipModsAndTypedefs, typeSize } from "../btf/resolve.js";
import type { BtfMember, BtfType } from "../btf/types.js";
import { ObjectError } from "../errors.js";

/** A name without its `___flavor` suffix. */
export function essentialName(name: string): string {
  const at = name.indexOf("___");
  return at > 0 ? name.slice(0, at) : name;
}

export interface Accessor {
  /** Type the accessor indexes into (after skipping modifiers). */
  readonly typeId: number;
  /** Member index (struct/union) or array element index. */
  readonly index: number;
  /** Member name for struct/union accessors; undefined for array indexes. */
  readonly name?: string;
}

export interface FieldSpec {
  readonly rootId: number;
  readonly accessors: readonly Accessor[];
  /** Bit offset of the field from the start of the root object. */
  readonly bitOffset: number;
  /** The accessed field's type id (unskipped), and the member for bitfield information. */
  readonly fieldTypeId: number;
  readonly member?: BtfMember;
}

function isComposite(t: BtfType | undefined): t is Extract<BtfType, { kind: "STRUCT" | "UNION" }> {
  return t !== undefined && (t.kind === "STRUCT" || t.kind === "UNION");
}

/** Parses the raw indices of a field relocation against the local BTF (indexes select members). */
export function parseLocalFieldSpec(btf: Btf, rootId: number, access: readonly number[]): FieldSpec {
  if (access.length === 0) throw new ObjectError("ECORE", "empty CO-RE access string");
  let id = skipModsAndTypedefs(btf, rootId);
  const accessors: Accessor[] = [{ typeId: id, index: access[0] as number }];
  let bitOffset = (access[0] as number) * typeSize(btf, id, "CO-RE root") * 8;
  let fieldTypeId = rootId;
  let member: BtfMember | undefined;
  for (let k = 1; k < access.length; k++) {
    const idx = access[k] as number;
    const t = btf.type(id);
    if (isComposite(t)) {
      const m = t.members[idx];
      if (!m) throw new ObjectError("ECORE", `CO-RE access ${access.join(":")}: member ${idx} of ${t.name || "(anon)"} does not exist`);
      bitOffset += m.bitOffset;
      // Anonymous members only add their offset: matching finds named members through them by name.
      if (m.name !== "") accessors.push({ typeId: id, index: idx, name: m.name });
      fieldTypeId = m.type;
      member = m;
      id = skipModsAndTypedefs(btf, m.type);
    } else if (t?.kind === "ARRAY") {
      bitOffset += idx * typeSize(btf, t.type, "CO-RE array element") * 8;
      accessors.push({ typeId: id, index: idx });
      fieldTypeId = t.type;
      member = undefined;
      id = skipModsAndTypedefs(btf, t.type);
    } else {
      throw new ObjectError("ECORE", `CO-RE access ${access.join(":")}: type ${id} (${t?.kind}) cannot be indexed`);
    }
  }
  return { rootId, accessors, bitOffset, fieldTypeId, ...(member ? { member } : {}) };
}

/** Whether two field types are compatible (libbpf's bpf_core_fields_are_compat). */
export function fieldsCompatible(local: Btf, localId: number, target: Btf, targetId: number, depth = 0): boolean {
  if (depth > 32) return false;
  const l = local.type(skipModsAndTypedefs(local, localId));
  const t = target.type(skipModsAndTypedefs(target, targetId));
  if (!l || !t) return false;
  if (isComposite(l) && isComposite(t)) return true;
  if ((l.kind === "ENUM" || l.kind === "ENUM64") && (t.kind === "ENUM" || t.kind === "ENUM64")) return true;
  if (l.kind !== t.kind) return (l.kind === "FWD" && isComposite(t)) || (t.kind === "FWD" && isComposite(l));
  switch (l.kind) {
    case "FWD":
    case "FLOAT":
    case "PTR":
      return true;
    case "INT":
      return t.kind === "INT";
    case "ARRAY":
      return t.kind === "ARRAY" && fieldsCompatible(local, l.type, target, t.type, depth + 1);
    default:
      return false;
  }
}

/** Finds a member by name in a struct/union, searching anonymous members too; returns the path of members. */
function findMember(
  btf: Btf,
  structId: number,
  name: string,
  depth = 0,
): Array<{ structId: number; index: number; member: BtfMember }> | undefined {
  if (depth > 32) return undefined;
  const t = btf.type(structId);
  if (!isComposite(t)) return undefined;
  for (let i = 0; i < t.members.length; i++) {
    const m = t.members[i] as BtfMember;
    if (m.name === name) return [{ structId, index: i, member: m }];
    if (m.name === "") {
      const inner = skipModsAndTypedefs(btf, m.type);
      const path = findMember(btf, inner, name, depth + 1);
      if (path) return [{ structId, index: i, member: m }, ...path];
    }
  }
  return undefined;
}

/** Matches a local field spec against a target root type (libbpf's bpf_core_spec_match for fields). */
export function matchFieldSpec(local: Btf, spec: FieldSpec, target: Btf, targetRootId: number): FieldSpec | undefined {
  let id = skipModsAndTypedefs(target, targetRootId);
  const first = spec.accessors[0] as Accessor;
  const accessors: Accessor[] = [{ typeId: id, index: first.index }];
  let bitOffset = first.index * typeSize(target, id, "CO-RE target root") * 8;
  let fieldTypeId = targetRootId;
  let member: BtfMember | undefined;
  for (let k = 1; k < spec.accessors.length; k++) {
    const acc = spec.accessors[k] as Accessor;
    const t = target.type(id);
    if (acc.name !== undefined) {
      if (!isComposite(t)) return undefined;
      const path = findMember(target, id, acc.name);
      if (!path) return undefined;
      for (const step of path) {
        bitOffset += step.member.bitOffset;
        accessors.push({ typeId: step.structId, index: step.index, ...(step.member.name !== "" ? { name: step.member.name } : {}) });
      }
      const m = (path[path.length - 1] as { member: BtfMember }).member;
      const localStruct = local.type(acc.typeId);
      const localMember = isComposite(localStruct) ? localStruct.members[acc.index] : undefined;
      if (!localMember || !fieldsCompatible(local, localMember.type, target, m.type)) return undefined;
      fieldTypeId = m.type;
      member = m;
      id = skipModsAndTypedefs(target, m.type);
    } else {
      if (t?.kind !== "ARRAY") return undefined;
      if (acc.index >= t.nelems && t.nelems !== 0) return undefined;
      bitOffset += acc.index * typeSize(target, t.type, "CO-RE array element") * 8;
      accessors.push({ typeId: id, index: acc.index });
      fieldTypeId = t.type;
      member = undefined;
      id = skipModsAndTypedefs(target, t.type);
    }
  }
  if (!fieldsCompatible(local, spec.fieldTypeId, target, fieldTypeId)) return undefined;
  return { rootId: targetRootId, accessors, bitOffset, fieldTypeId, ...(member ? { member } : {}) };
}
