/**
 * Applies CO-RE relocations (.BTF.ext core_relo records) to a linked program against a target BTF, as
 * libbpf's relo_core.c does: candidates are target types of a compatible kind whose name equals the local
 * type's name without its `___flavor` suffix; every matching candidate must agree; instructions get the
 * target's field offsets, sizes, type ids, existence and enum values. A relocation with no candidate is
 * poisoned (the instruction becomes `call 0xbad2310`, which the verifier reports if it is reachable),
 * except the *_exists and type_matches kinds, which become 0.
 */
import type { Instruction } from "../../isa/instruction.js";
import { splitImm64 } from "../../isa/instruction.js";
import {
  CLASS_ALU,
  CLASS_ALU64,
  CLASS_LDX,
  CLASS_ST,
  CLASS_STX,
  OP_CALL,
  OP_LDDW,
  opClass,
  SIZE_B,
  SIZE_DW,
  SIZE_H,
  SIZE_W,
} from "../../isa/opcodes.js";
import type { CoreRelo } from "../btf/ext.js";
import type { Btf } from "../btf/parse.js";
import { skipModsAndTypedefs, typeSize } from "../btf/resolve.js";
import { BTF_INT_SIGNED, type BtfType } from "../btf/types.js";
import { ObjectError } from "../errors.js";
import type { ProgramSpec } from "../programs.js";
import { essentialName, type FieldSpec, matchFieldSpec, parseLocalFieldSpec } from "./spec.js";

/** The helper id libbpf writes into poisoned instructions ("bad relo"). */
export const POISON_HELPER = 0xbad2310;

export interface CoreOutcome {
  readonly slot: number;
  readonly kind: CoreRelo["kind"];
  readonly access: string;
  readonly typeName: string;
  /** The value written, or undefined when the instruction was poisoned. */
  readonly value?: bigint;
  readonly poisoned: boolean;
}

const FIELD_KINDS = new Set([
  "field_byte_offset",
  "field_byte_size",
  "field_exists",
  "field_signed",
  "field_lshift_u64",
  "field_rshift_u64",
]);
const TYPE_KINDS = new Set(["type_id_local", "type_id_target", "type_exists", "type_size", "type_matches"]);

/** Candidate target types by essential name (the target's index finds them without decoding the others). */
function candidatesByName(target: Btf, name: string): readonly number[] {
  return target.idsNamed(name, true);
}

function kindsCompatible(a: BtfType, b: BtfType): boolean {
  if (a.kind === b.kind) return true;
  const enums = (t: BtfType) => t.kind === "ENUM" || t.kind === "ENUM64";
  const composite = (t: BtfType) => t.kind === "STRUCT" || t.kind === "UNION";
  return (enums(a) && enums(b)) || (a.kind === "FWD" && composite(b)) || (b.kind === "FWD" && composite(a));
}

/** Loose structural compatibility of whole types (libbpf's bpf_core_types_are_compat). */
function typesCompatible(local: Btf, localId: number, target: Btf, targetId: number, depth = 0): boolean {
  if (depth > 32) return false;
  const l = local.type(skipModsAndTypedefs(local, localId));
  const t = target.type(skipModsAndTypedefs(target, targetId));
  if (!l || !t) return false;
  if (!kindsCompatible(l, t)) return false;
  switch (l.kind) {
    case "INT":
      return t.kind === "INT" && l.size === t.size;
    case "PTR":
      return t.kind === "PTR" && typesCompatible(local, l.type, target, t.type, depth + 1);
    case "ARRAY":
      return t.kind === "ARRAY" && typesCompatible(local, l.type, target, t.type, depth + 1);
    case "FUNC_PROTO":
      return (
        t.kind === "FUNC_PROTO" &&
        l.params.length === t.params.length &&
        typesCompatible(local, l.returnType, target, t.returnType, depth + 1) &&
        l.params.every((p, i) => typesCompatible(local, p.type, target, (t.params[i] as { type: number }).type, depth + 1))
      );
    default:
      return true;
  }
}

/** Stricter matching for type_matches: every local member/enumerator must exist by name with matching types. */
function typesMatch(local: Btf, localId: number, target: Btf, targetId: number, depth = 0): boolean {
  if (!typesCompatible(local, localId, target, targetId, depth)) return false;
  const l = local.type(skipModsAndTypedefs(local, localId));
  const t = target.type(skipModsAndTypedefs(target, targetId));
  if (!l || !t) return false;
  if ((l.kind === "STRUCT" || l.kind === "UNION") && (t.kind === "STRUCT" || t.kind === "UNION")) {
    return l.members.every((m) => {
      const tm = t.members.find((x) => x.name === m.name);
      return tm !== undefined && depth < 8 && typesMatch(local, m.type, target, tm.type, depth + 1);
    });
  }
  if ((l.kind === "ENUM" || l.kind === "ENUM64") && (t.kind === "ENUM" || t.kind === "ENUM64")) {
    return l.values.every((v) => t.values.some((x) => essentialName(x.name) === essentialName(v.name)));
  }
  return true;
}

interface Resolution {
  value: bigint;
  /** For field_byte_offset on a load/store: the target field's size, when the access size must follow it. */
  size?: number;
}

function fieldValue(btf: Btf, spec: FieldSpec, kind: CoreRelo["kind"]): Resolution {
  const fieldType = btf.type(skipModsAndTypedefs(btf, spec.fieldTypeId)) as BtfType;
  const bitfield = spec.member !== undefined && spec.member.bitfieldSize > 0;
  const bitOff = spec.bitOffset;
  let byteSize = typeSize(btf, spec.fieldTypeId, "CO-RE field");
  let byteOff = Math.floor(bitOff / 8);
  let bitSize = byteSize * 8;
  if (bitfield) {
    bitSize = (spec.member as { bitfieldSize: number }).bitfieldSize;
    byteOff = Math.floor(bitOff / 8 / byteSize) * byteSize;
    while (bitOff + bitSize - byteOff * 8 > byteSize * 8) {
      if (byteSize >= 8) throw new ObjectError("ECORE", "bitfield cannot be read with a 64-bit load");
      byteSize *= 2;
      byteOff = Math.floor(bitOff / 8 / byteSize) * byteSize;
    }
  }
  switch (kind) {
    case "field_byte_offset":
      return bitfield ? { value: BigInt(byteOff) } : { value: BigInt(byteOff), size: byteSize };
    case "field_byte_size":
      return { value: BigInt(byteSize) };
    case "field_exists":
      return { value: 1n };
    case "field_signed": {
      const signed =
        ((fieldType.kind === "ENUM" || fieldType.kind === "ENUM64") && fieldType.kflag) ||
        (fieldType.kind === "INT" && (fieldType.encoding & BTF_INT_SIGNED) !== 0);
      return { value: signed ? 1n : 0n };
    }
    case "field_lshift_u64":
      return { value: BigInt(64 - (bitOff + bitSize - byteOff * 8)) };
    default:
      return { value: BigInt(64 - bitSize) };
  }
}

/** Resolves one relocation; undefined means no candidate matched. */
function resolve(local: Btf, target: Btf, relo: CoreRelo): { result?: Resolution; localValue: bigint } {
  const localRoot = local.type(relo.typeId);
  if (!localRoot) throw new ObjectError("ECORE", `CO-RE relocation refers to local type ${relo.typeId}, which does not exist`);
  const access = relo.access.split(":").map((x) => {
    if (!/^\d+$/.test(x)) throw new ObjectError("ECORE", `malformed CO-RE access string '${relo.access}'`);
    return Number(x);
  });
  const localSkipped = local.type(skipModsAndTypedefs(local, relo.typeId)) as BtfType;
  if (relo.kind === "type_id_local") return { result: { value: BigInt(relo.typeId) }, localValue: BigInt(relo.typeId) };
  const name = essentialName(localSkipped.name);
  if (name === "") throw new ObjectError("ECORE", `CO-RE relocation on an anonymous type (${localSkipped.kind} ${relo.typeId})`);
  const candidates = candidatesByName(target, name).filter((id) => kindsCompatible(localSkipped, target.type(id) as BtfType));
  const results: Resolution[] = [];
  let localValue = 0n;

  if (FIELD_KINDS.has(relo.kind)) {
    const spec = parseLocalFieldSpec(local, relo.typeId, access);
    localValue = fieldValue(local, spec, relo.kind).value;
    for (const id of candidates) {
      const matched = matchFieldSpec(local, spec, target, id);
      if (matched) results.push(fieldValue(target, matched, relo.kind));
    }
  } else if (TYPE_KINDS.has(relo.kind)) {
    localValue =
      relo.kind === "type_size"
        ? BigInt(typeSize(local, relo.typeId, "CO-RE type"))
        : relo.kind === "type_id_target"
          ? BigInt(relo.typeId)
          : 1n;
    for (const id of candidates) {
      const ok =
        relo.kind === "type_matches" ? typesMatch(local, relo.typeId, target, id) : typesCompatible(local, relo.typeId, target, id);
      if (!ok) continue;
      if (relo.kind === "type_size") results.push({ value: BigInt(typeSize(target, id, "CO-RE target type")) });
      else if (relo.kind === "type_id_target") results.push({ value: BigInt(id) });
      else results.push({ value: 1n });
    }
  } else {
    // enumval_exists / enumval_value: access is the enumerator's index in the local enum.
    if (localSkipped.kind !== "ENUM" && localSkipped.kind !== "ENUM64")
      throw new ObjectError("ECORE", `enum relocation on ${localSkipped.kind}`);
    const localEnumerator = localSkipped.values[access[0] as number];
    if (!localEnumerator) throw new ObjectError("ECORE", `enumerator ${access[0]} does not exist in ${localSkipped.name}`);
    localValue = relo.kind === "enumval_value" ? localEnumerator.value : 1n;
    const wanted = essentialName(localEnumerator.name);
    for (const id of candidates) {
      const t = target.type(id);
      if (t?.kind !== "ENUM" && t?.kind !== "ENUM64") continue;
      const e = t.values.find((v) => essentialName(v.name) === wanted);
      if (e) results.push({ value: relo.kind === "enumval_value" ? e.value : 1n });
    }
  }
  if (results.length === 0) return { localValue };
  const first = results[0] as Resolution;
  if (results.some((r) => r.value !== first.value)) {
    throw new ObjectError(
      "ECORE",
      `CO-RE relocation ${relo.kind} ${name} ${relo.access}: candidates disagree (${results.map((r) => r.value).join(", ")})`,
    );
  }
  return { result: first, localValue };
}

const SIZE_OF: Record<number, number> = { 1: SIZE_B, 2: SIZE_H, 4: SIZE_W, 8: SIZE_DW };

function patch(insn: Instruction, res: Resolution, slot: number): Instruction {
  const cls = opClass(insn.op);
  if (insn.op === OP_LDDW) return { ...insn, ...splitImm64(res.value) };
  if (cls === CLASS_ALU || cls === CLASS_ALU64) {
    if (res.value > 0x7fffffffn || res.value < -0x80000000n)
      throw new ObjectError("ECORE", `CO-RE value ${res.value} does not fit the instruction at slot ${slot}`);
    return { ...insn, imm: Number(res.value) };
  }
  if (cls === CLASS_LDX || cls === CLASS_ST || cls === CLASS_STX) {
    if (res.value > 0x7fffn) throw new ObjectError("ECORE", `CO-RE field offset ${res.value} does not fit the instruction at slot ${slot}`);
    const sizeBits = res.size !== undefined ? SIZE_OF[res.size] : undefined;
    const op = sizeBits !== undefined && cls === CLASS_LDX ? (insn.op & ~0x18) | sizeBits : insn.op;
    return { ...insn, op, off: Number(res.value) };
  }
  throw new ObjectError(
    "ECORE",
    `CO-RE relocation on an instruction that cannot carry it (opcode 0x${insn.op.toString(16)}) at slot ${slot}`,
  );
}

/**
 * Returns the program with its CO-RE relocations applied against `target` (e.g. /sys/kernel/btf/vmlinux),
 * and what each relocation resolved to.
 */
export function applyCoreRelocations(
  program: ProgramSpec,
  local: Btf,
  relos: ReadonlyMap<string, readonly CoreRelo[]>,
  target: Btf,
): { program: ProgramSpec; outcomes: CoreOutcome[] } {
  const bySlot = new Map<number, number>();
  const insns = [...program.instructions];
  let slot = 0;
  insns.forEach((i, n) => {
    bySlot.set(slot, n);
    slot += i.op === OP_LDDW ? 2 : 1;
  });
  const outcomes: CoreOutcome[] = [];
  const poisoned = new Set<number>();
  for (const f of program.functions) {
    for (const relo of relos.get(f.section) ?? []) {
      if (relo.insnOff < f.offset || relo.insnOff >= f.offset + f.slots * 8) continue;
      const at = f.slot + (relo.insnOff - f.offset) / 8;
      const index = bySlot.get(at);
      if (index === undefined) throw new ObjectError("ECORE", `CO-RE relocation at ${f.section}+${relo.insnOff} is not on an instruction`);
      const { result } = resolve(local, target, relo);
      const typeName = local.type(relo.typeId)?.name ?? "";
      const existsKind =
        relo.kind === "field_exists" || relo.kind === "type_exists" || relo.kind === "enumval_exists" || relo.kind === "type_matches";
      if (result === undefined && !existsKind) {
        poisoned.add(index);
        outcomes.push({ slot: at, kind: relo.kind, access: relo.access, typeName, poisoned: true });
        continue;
      }
      const res = result ?? { value: 0n };
      insns[index] = patch(insns[index] as Instruction, res, at);
      outcomes.push({ slot: at, kind: relo.kind, access: relo.access, typeName, value: res.value, poisoned: false });
    }
  }
  // Poisoned lddw keeps its two slots: both become the poison call.
  const out: Instruction[] = [];
  insns.forEach((i, n) => {
    if (!poisoned.has(n)) out.push(i);
    else {
      const poison: Instruction = { op: OP_CALL, dst: 0, src: 0, off: 0, imm: POISON_HELPER };
      out.push(poison);
      if (i.op === OP_LDDW) out.push(poison);
    }
  });
  return { program: { ...program, instructions: out }, outcomes };
}
