/**
 * Programs from an object's code sections, linked as libbpf links them: each entry function gets the
 * subprograms it calls (bpf2bpf calls and callback addresses, from `.text` or its own section) appended
 * once, with call offsets rewritten; map, global-data and extern references on lddw become symbolic
 * references the backends resolve.
 */
import { readSlot } from "../isa/codec.js";
import type { Instruction } from "../isa/instruction.js";
import { CALL_LOCAL, LDDW_FUNC, OP_CALL, OP_LDDW } from "../isa/opcodes.js";
import type { ElfFile, ElfRelocation, ElfSection, ElfSymbol } from "./elf.js";
import { SHF_EXECINSTR, SHN_UNDEF, STB_GLOBAL, STB_WEAK, STT_FUNC, STT_NOTYPE, STT_SECTION } from "./elf.js";
import { ObjectError } from "./errors.js";
import { isGlobalDataSection, isMapSection, type MapSpec } from "./maps.js";
import { type ProgramType, sectionType } from "./section-types.js";

/** What an lddw (or call) refers to, to be resolved when the program is loaded. */
export type Reference =
  | { readonly kind: "map"; readonly map: string }
  | { readonly kind: "map_value"; readonly map: string; readonly offset: number }
  | { readonly kind: "extern"; readonly name: string; readonly call: boolean };

export interface LinkedFunction {
  readonly name: string;
  /** First slot in the linked program, and how many slots it has. */
  readonly slot: number;
  readonly slots: number;
  /** Where it came from. */
  readonly section: string;
  readonly offset: number;
}

export interface ProgramSpec {
  /** The entry function's name. */
  readonly name: string;
  readonly section: string;
  readonly type: ProgramType;
  readonly attachType?: string;
  readonly attachTo?: string;
  readonly sleepable: boolean;
  /** Whether the type came from the section name or is the socket_filter default. */
  readonly typeSource: "section" | "default";
  /** Linked instructions: the entry function, then every subprogram it reaches. */
  readonly instructions: readonly Instruction[];
  /** References by slot index of the lddw/call instruction. */
  readonly references: ReadonlyMap<number, Reference>;
  /** Where each function of the linked program sits: its slot range and its origin (section, byte offset). */
  readonly functions: ReadonlyArray<LinkedFunction>;
  readonly license: string;
  readonly kernelVersion: number;
}

/**
 * The program's instructions with each referencing lddw/call replaced by what `resolve` makes of it (a map fd,
 * an address…); `resolve` returns undefined to leave an instruction as it is.
 */
export function resolveReferences(
  p: ProgramSpec,
  resolve: (insn: Instruction, ref: Reference, slot: number) => Instruction | undefined,
): Instruction[] {
  const insns = [...p.instructions];
  const indexAt = new Map<number, number>();
  let slot = 0;
  insns.forEach((i, n) => {
    indexAt.set(slot, n);
    slot += i.op === OP_LDDW ? 2 : 1;
  });
  for (const [at, r] of p.references) {
    const n = indexAt.get(at) as number;
    insns[n] = resolve(insns[n] as Instruction, r, at) ?? (insns[n] as Instruction);
  }
  return insns;
}

// ELF relocation types for BPF (llvm's BPFELFObjectWriter).
export const R_BPF_64_64 = 1;
export const R_BPF_64_ABS64 = 2;
export const R_BPF_64_ABS32 = 3;
export const R_BPF_64_NODYLD32 = 4;
export const R_BPF_64_32 = 10;

interface Func {
  readonly name: string;
  readonly section: ElfSection;
  /** Slot range in the section. */
  readonly start: number;
  readonly end: number;
}

interface CodeSection {
  readonly section: ElfSection;
  readonly insns: readonly Instruction[];
  /** Slot index → index in insns (undefined for lddw second slots). */
  readonly indexAt: ReadonlyArray<number | undefined>;
  readonly functions: readonly Func[];
  /** Functions by their first slot (a call's target must start one). */
  readonly functionAt: ReadonlyMap<number, Func>;
  readonly relocs: ReadonlyMap<number, ElfRelocation>;
}

function decodeSection(elf: ElfFile, section: ElfSection): Pick<CodeSection, "insns" | "indexAt"> {
  if (section.data.byteLength !== section.size) {
    throw new ObjectError("EPROG", `code section of type ${section.type} has no contents in the file`, {
      section: section.name,
      offset: section.offset,
    });
  }
  if (section.size % 8 !== 0) {
    throw new ObjectError("EPROG", `code section size ${section.size} is not a multiple of 8`, {
      section: section.name,
      offset: section.offset,
    });
  }
  const little = elf.byteOrder === "little";
  const view = new DataView(section.data.buffer, section.data.byteOffset, section.data.byteLength);
  const slots = section.size / 8;
  const insns: Instruction[] = [];
  const indexAt: Array<number | undefined> = new Array(slots);
  for (let pc = 0; pc < slots; pc++) {
    const at = pc * 8;
    const i: Instruction = readSlot(view, at, little);
    indexAt[pc] = insns.length;
    if (i.op === OP_LDDW) {
      if (pc + 1 >= slots)
        throw new ObjectError("EPROG", `lddw at the end of the section is missing its second slot`, {
          section: section.name,
          offset: section.offset + at,
        });
      insns.push({ ...i, imm2: view.getInt32(at + 12, little) });
      pc++;
    } else {
      insns.push(i);
    }
  }
  return { insns, indexAt };
}

/** Function entry points of a section: FUNC symbols, or global NOTYPE ones in objects that predate them. */
function functionsOf(elf: ElfFile, section: ElfSection): Func[] {
  const slots = section.size / 8;
  const syms = elf.symbols
    .filter(
      (s) =>
        s.shndx === section.index &&
        s.name !== "" &&
        (s.type === STT_FUNC || (s.type === STT_NOTYPE && (s.bind === STB_GLOBAL || s.bind === STB_WEAK))),
    )
    .sort((a, b) => a.value - b.value);
  const starts = new Map<number, ElfSymbol>();
  for (const s of syms) {
    if (s.value % 8 !== 0 || s.value >= section.size) {
      throw new ObjectError("EPROG", `function ${s.name} at offset ${s.value} is not an instruction of the section`, {
        section: section.name,
      });
    }
    if (!starts.has(s.value / 8)) starts.set(s.value / 8, s);
  }
  if (!starts.has(0)) return functionsWithDefault(section, starts, slots);
  return toFuncs(section, starts, slots);
}

function functionsWithDefault(section: ElfSection, starts: Map<number, ElfSymbol>, slots: number): Func[] {
  const named = toFuncs(section, starts, slots);
  const firstStart = named[0]?.start ?? slots;
  return [{ name: section.name, section, start: 0, end: firstStart }, ...named];
}

function toFuncs(section: ElfSection, starts: Map<number, ElfSymbol>, slots: number): Func[] {
  const ordered = [...starts].sort((a, b) => a[0] - b[0]);
  return ordered.map(([start, sym], k) => {
    const next = k + 1 < ordered.length ? (ordered[k + 1] as [number, ElfSymbol])[0] : slots;
    const sized = sym.size > 0 ? start + sym.size / 8 : next;
    return { name: sym.name, section, start, end: Math.min(Math.max(sized, start + 1), next) };
  });
}

export interface ObjectInfo {
  readonly license: string;
  readonly kernelVersion: number;
}

/** Builds every program of the object, linked and with references resolved to names. */
export function collectPrograms(elf: ElfFile, maps: ReadonlyMap<string, MapSpec>, info: ObjectInfo): Map<string, ProgramSpec> {
  const code = new Map<number, CodeSection>();
  for (const section of elf.sections) {
    if ((section.flags & SHF_EXECINSTR) === 0 || section.size === 0) continue;
    const decoded = decodeSection(elf, section);
    const relocs = new Map<number, ElfRelocation>();
    for (const r of elf.relocationsOf(section.index)) {
      if (r.offset % 8 !== 0 || r.offset >= section.size) {
        throw new ObjectError("ERELOC", `relocation at offset ${r.offset} is not on an instruction`, { section: section.name });
      }
      relocs.set(r.offset / 8, r);
    }
    const functions = functionsOf(elf, section);
    code.set(section.index, { section, ...decoded, functions, functionAt: new Map(functions.map((f) => [f.start, f])), relocs });
  }
  const text = elf.sectionByName(".text");
  const entries = [...code.values()].filter((c) => c.section !== text).flatMap((c) => c.functions.map((f) => ({ c, f })));
  // An object with nothing but .text: its functions are the programs (as verifier test harnesses load them).
  const programs = entries.length > 0 ? entries : [...code.values()].flatMap((c) => c.functions.map((f) => ({ c, f })));
  const out = new Map<string, ProgramSpec>();
  for (const { c, f } of programs) {
    const spec = linkProgram(elf, code, maps, c, f, info);
    if (out.has(spec.name)) throw new ObjectError("EPROG", `program ${spec.name} is defined twice`, { section: c.section.name });
    out.set(spec.name, spec);
  }
  return out;
}

function linkProgram(
  elf: ElfFile,
  code: ReadonlyMap<number, CodeSection>,
  maps: ReadonlyMap<string, MapSpec>,
  entryCode: CodeSection,
  entry: Func,
  info: ObjectInfo,
): ProgramSpec {
  const where = (c: CodeSection, slot: number) => ({ section: c.section.name, offset: c.section.offset + slot * 8 });
  const out: Instruction[] = [];
  const references = new Map<number, Reference>();
  const placed = new Map<Func, number>(); // function → slot where it starts in the linked program
  const functions: LinkedFunction[] = [];
  const fixups: Array<{ index: number; slot: number; target: Func; targetSlot: number }> = [];
  const queue: Array<{ c: CodeSection; f: Func }> = [{ c: entryCode, f: entry }];
  const queued = new Set<Func>([entry]);
  const enqueue = (c: CodeSection, f: Func): void => {
    if (queued.has(f)) return;
    queued.add(f);
    queue.push({ c, f });
  };
  let slot = 0;

  const place = (c: CodeSection, f: Func): void => {
    placed.set(f, slot);
    functions.push({ slot, slots: f.end - f.start, section: c.section.name, offset: f.start * 8, name: f.name });
    for (let s = f.start; s < f.end; s++) {
      const index = c.indexAt[s];
      if (index === undefined) continue;
      const insn = c.insns[index] as Instruction;
      const reloc = c.relocs.get(s);
      let emitted = insn;
      const isCall = insn.op === OP_CALL;
      // The type is not looked at (as libbpf does not): the instruction says what a relocation means, and old LLVM
      // wrote type 0 (R_BPF_NONE) on map loads.
      if (reloc && reloc.type !== R_BPF_64_NODYLD32) {
        const sym = elf.symbols[reloc.symbol] as ElfSymbol;
        const symSection = elf.sections[sym.shndx];
        if (sym.shndx === SHN_UNDEF) {
          references.set(slot, { kind: "extern", name: sym.name, call: isCall });
        } else if (insn.op === OP_LDDW && symSection && isMapSection(symSection.name)) {
          const name = sym.type === STT_SECTION ? mapAtOffset(elf, symSection, insn.imm) : sym.name;
          if (!maps.has(name)) throw new ObjectError("ERELOC", `reference to unknown map ${name}`, where(c, s));
          references.set(slot, { kind: "map", map: name });
          emitted = { ...insn, imm: 0 };
        } else if (insn.op === OP_LDDW && symSection && isGlobalDataSection(symSection.name)) {
          const offset = (sym.type === STT_SECTION ? 0 : sym.value) + insn.imm;
          references.set(slot, { kind: "map_value", map: symSection.name, offset });
          emitted = { ...insn, imm: 0, imm2: 0 };
        } else if (symSection && (symSection.flags & SHF_EXECINSTR) !== 0) {
          const targetCode = code.get(symSection.index) as CodeSection;
          let targetSlot: number;
          if (isCall) {
            if (insn.src !== CALL_LOCAL) throw new ObjectError("ERELOC", `call relocation on a non-local call to ${sym.name}`, where(c, s));
            targetSlot = sym.value / 8 + insn.imm + 1;
          } else if (insn.op === OP_LDDW) {
            targetSlot = (sym.value + insn.imm) / 8;
            emitted = { ...insn, src: LDDW_FUNC };
          } else {
            throw new ObjectError(
              "ERELOC",
              `relocation to code symbol ${sym.name} on an instruction that is neither call nor lddw`,
              where(c, s),
            );
          }
          const target = targetCode.functionAt.get(targetSlot);
          if (!target)
            throw new ObjectError("ERELOC", `call target ${sym.name}+${targetSlot * 8} is not the start of a function`, where(c, s));
          fixups.push({ index: out.length, slot, target, targetSlot });
          enqueue(targetCode, target);
        } else {
          throw new ObjectError(
            "ERELOC",
            `unsupported relocation against symbol '${sym.name}' in section ${symSection?.name ?? sym.shndx}`,
            where(c, s),
          );
        }
      } else if (isCall && insn.src === CALL_LOCAL) {
        // A call within the same section needs no relocation: imm is relative to its position there.
        const targetSlot = s + insn.imm + 1;
        const target = c.functionAt.get(targetSlot);
        if (!target) throw new ObjectError("ERELOC", `local call to slot ${targetSlot}, which does not start a function`, where(c, s));
        fixups.push({ index: out.length, slot, target, targetSlot });
        enqueue(c, target);
      }
      out.push(emitted);
      slot += emitted.op === OP_LDDW ? 2 : 1;
    }
  };
  // each function is queued once, so the queue is walked, not drained
  for (let k = 0; k < queue.length; k++) {
    const next = queue[k] as { c: CodeSection; f: Func };
    place(next.c, next.f);
  }
  for (const fix of fixups) {
    const insn = out[fix.index] as Instruction;
    out[fix.index] = { ...insn, imm: (placed.get(fix.target) as number) - (fix.slot + 1) };
  }
  const t = sectionType(entryCode.section.name);
  return {
    name: entry.name,
    section: entryCode.section.name,
    type: t.type,
    ...(t.attachType ? { attachType: t.attachType } : {}),
    ...(t.attachTo !== undefined ? { attachTo: t.attachTo } : {}),
    sleepable: t.sleepable === true,
    typeSource: t.source,
    instructions: out,
    references,
    functions,
    license: info.license,
    kernelVersion: info.kernelVersion,
  };
}

/** The map a section-symbol relocation points at: the symbol in the maps section at that offset. */
function mapAtOffset(elf: ElfFile, section: ElfSection, offset: number): string {
  const sym = elf.symbols.find((s) => s.shndx === section.index && s.value === offset && s.type !== STT_SECTION && s.name !== "");
  if (!sym) throw new ObjectError("ERELOC", `no map at offset ${offset} of ${section.name}`, { section: section.name });
  return sym.name;
}
