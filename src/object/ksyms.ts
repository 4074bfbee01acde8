/**
 * `.ksyms` externs, resolved as libbpf does against the running kernel: kfunc calls get the BTF id of the
 * kernel function (src = BPF_PSEUDO_KFUNC_CALL), typed variables the BTF id of the kernel variable
 * (lddw src = BPF_PSEUDO_BTF_ID), typeless symbols (`extern const void sym __ksym`) their address from
 * /proc/kallsyms. A weak symbol the kernel lacks reads as 0 (a weak kfunc call is poisoned); a strong one is
 * an error naming it.
 */
import { readFileSync } from "node:fs";
import type { Instruction } from "../isa/instruction.js";
import { splitImm64 } from "../isa/instruction.js";
import { CALL_KFUNC, LDDW_BTF_ID, OP_LDDW } from "../isa/opcodes.js";
import type { Btf } from "./btf/parse.js";
import { skipModsAndTypedefs } from "./btf/resolve.js";
import type { CollectionSpec } from "./collection.js";
import { POISON_HELPER } from "./core/relocate.js";
import { STB_WEAK } from "./elf.js";
import { ObjectError } from "./errors.js";
import type { ProgramSpec, Reference } from "./programs.js";

export interface KernelSymbols {
  /** The kernel's BTF (/sys/kernel/btf/vmlinux). */
  readonly btf: Btf;
  /** Symbol addresses from /proc/kallsyms (zero addresses mean the caller may not read them). */
  readonly kallsyms: ReadonlyMap<string, bigint>;
}

/** Parses /proc/kallsyms text: "ffffffff81000000 T _stext [module]". The first address of a name wins. */
export function parseKallsyms(text: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]+) \S (\S+)/.exec(line);
    if (m && !out.has(m[2] as string)) out.set(m[2] as string, BigInt(`0x${m[1]}`));
  }
  return out;
}

export function readKallsyms(path = "/proc/kallsyms"): Map<string, bigint> {
  try {
    return parseKallsyms(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ObjectError("EKSYM", `cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Names of the .ksyms externs an object declares, from its BTF. */
function ksymNames(spec: CollectionSpec): Set<string> {
  const datasec = spec.btf?.types.find((t) => t.kind === "DATASEC" && t.name === ".ksyms");
  if (datasec?.kind !== "DATASEC") return new Set();
  return new Set(datasec.vars.map((v) => spec.btf?.type(v.type)?.name ?? "").filter((n) => n !== ""));
}

/** Whether the object's BTF types the extern variable (a typeless ksym is `const void`). */
function isTyped(spec: CollectionSpec, name: string): boolean {
  const v = spec.btf?.types.find((t) => t.kind === "VAR" && t.name === name);
  return v?.kind === "VAR" && spec.btf !== undefined && skipModsAndTypedefs(spec.btf, v.type) !== 0;
}

/** The extern references no resolver has handled yet (the loaders report these by name). */
export function unresolvedExterns(program: ProgramSpec): string[] {
  return [...new Set([...program.references.values()].flatMap((r) => (r.kind === "extern" ? [r.name] : [])))];
}

export function resolveKsyms(spec: CollectionSpec, kernel: KernelSymbols): CollectionSpec {
  const names = ksymNames(spec);
  if (names.size === 0) return spec;
  const idOf = (kind: "FUNC" | "VAR", name: string): number | undefined =>
    kernel.btf.idsNamed(name).find((id) => kernel.btf.kindOf(id) === kind);
  const weak = (name: string): boolean => (spec.elf?.symbols ?? []).some((s) => s.name === name && s.bind === STB_WEAK);
  const programs = new Map<string, ProgramSpec>();
  for (const [pname, p] of spec.programs) {
    const indexAt = new Map<number, number>();
    let slot = 0;
    p.instructions.forEach((i, n) => {
      indexAt.set(slot, n);
      slot += i.op === OP_LDDW ? 2 : 1;
    });
    const insns: Instruction[] = [...p.instructions];
    const references = new Map<number, Reference>();
    for (const [at, r] of p.references) {
      if (r.kind !== "extern" || !names.has(r.name)) {
        references.set(at, r);
        continue;
      }
      const n = indexAt.get(at) as number;
      const insn = insns[n] as Instruction;
      if (r.call) {
        const id = idOf("FUNC", r.name);
        if (id !== undefined) insns[n] = { ...insn, src: CALL_KFUNC, imm: id };
        else if (weak(r.name)) insns[n] = { op: insn.op, dst: 0, src: 0, off: 0, imm: POISON_HELPER };
        else throw new ObjectError("EKSYM", `program ${pname}: kfunc ${r.name} is not in the kernel's BTF`);
      } else if (isTyped(spec, r.name)) {
        const id = idOf("VAR", r.name);
        if (id !== undefined) insns[n] = { ...insn, src: LDDW_BTF_ID, imm: id, imm2: 0 };
        else if (weak(r.name)) insns[n] = { ...insn, src: 0, imm: 0, imm2: 0 };
        else throw new ObjectError("EKSYM", `program ${pname}: ksym ${r.name} is not a variable in the kernel's BTF`);
      } else {
        const address = kernel.kallsyms.get(r.name);
        if (address !== undefined) insns[n] = { ...insn, src: 0, ...splitImm64(address) };
        else if (weak(r.name)) insns[n] = { ...insn, src: 0, imm: 0, imm2: 0 };
        else throw new ObjectError("EKSYM", `program ${pname}: ksym ${r.name} is not in /proc/kallsyms`);
      }
    }
    programs.set(pname, { ...p, instructions: insns, references });
  }
  return { ...spec, programs };
}
