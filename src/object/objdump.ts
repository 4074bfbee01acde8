/**
 * `tsbpf objdump`: disassembles every executable section of an object the way `llvm-objdump -d
 * --no-show-raw-insn` does — section headers, a label at each symbol, one instruction per line with its
 * slot index, and jump targets annotated with the nearest symbol (`<LBB0_3>`, `<func+0x10>`).
 */
import { readSlot } from "../isa/codec.js";
import type { Instruction } from "../isa/instruction.js";
import { formatLlvm, type LlvmFormatOptions } from "../isa/llvm.js";
import { OP_LDDW } from "../isa/opcodes.js";
import { opInfo } from "../isa/table.js";
import { type ElfFile, type ElfSection, type ElfSymbol, SHF_EXECINSTR, STT_FILE, STT_SECTION } from "./elf.js";

export interface ObjdumpOptions {
  /** llvm-objdump 14 style: decimal immediates (default: llvm 19's hex). */
  decimal?: boolean;
  /** Source lines to print before the instruction at a byte offset of a section (from BTF line_info). */
  lineAt?: (section: ElfSection, byteOffset: number) => string | undefined;
}

interface Label {
  address: number;
  name: string;
}

/**
 * Symbols that label addresses in a section, sorted, one per address; the section itself labels 0. Where
 * several share an address, llvm-objdump sorts them by (address, name) and takes the last: the greatest name.
 */
function labelsOf(elf: ElfFile, section: ElfSection): Label[] {
  const byAddress = new Map<number, string>();
  const candidates = elf.symbols.filter(
    (s: ElfSymbol) => s.shndx === section.index && s.type !== STT_FILE && s.type !== STT_SECTION && s.name !== "",
  );
  for (const s of candidates) {
    const held = byAddress.get(s.value);
    if (held === undefined || byteGreater(s.name, held)) byAddress.set(s.value, s.name);
  }
  if (!byAddress.has(0)) byAddress.set(0, section.name);
  return [...byAddress].map(([address, name]) => ({ address, name })).sort((a, b) => a.address - b.address);
}

/** a > b as std::string compares them (bytes of UTF-8, unsigned). */
function byteGreater(a: string, b: string): boolean {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < x.length && i < y.length; i++) if (x[i] !== y[i]) return (x[i] as number) > (y[i] as number);
  return x.length > y.length;
}
const utf8 = new TextEncoder();

function symbolize(labels: readonly Label[], address: number): string {
  let best: Label | undefined;
  for (const l of labels) if (l.address <= address) best = l;
  if (!best) return "";
  return best.address === address ? ` <${best.name}>` : ` <${best.name}+0x${(address - best.address).toString(16)}>`;
}

/** Decodes a section's slots leniently (objdump shows what is there, valid or not). */
function slotsOf(section: ElfSection, little: boolean): Array<{ pc: number; insn: Instruction }> {
  const view = new DataView(section.data.buffer, section.data.byteOffset, section.data.byteLength);
  const slots = Math.floor(section.data.length / 8);
  const out: Array<{ pc: number; insn: Instruction }> = [];
  const read = (pc: number): Instruction => readSlot(view, pc * 8, little);
  for (let pc = 0; pc < slots; pc++) {
    const i = read(pc);
    if (i.op === OP_LDDW && pc + 1 < slots) {
      out.push({ pc, insn: { ...i, imm2: read(pc + 1).imm } });
      pc++;
    } else {
      out.push({ pc, insn: i });
    }
  }
  return out;
}

function isJump(i: Instruction): boolean {
  const kind = opInfo(i.op)?.kind;
  return kind === "ja" || kind === "ja32" || kind === "jcc";
}

export function objdump(elf: ElfFile, fileName: string, options: ObjdumpOptions = {}): string {
  const fmt: LlvmFormatOptions = { objdump: true, alu32: false, hex: !options.decimal };
  const out: string[] = ["", `${fileName}:\tfile format elf64-bpf`, ""];
  for (const section of elf.sections) {
    if ((section.flags & SHF_EXECINSTR) === 0 || section.size === 0) continue;
    out.push(`Disassembly of section ${section.name}:`);
    const labels = labelsOf(elf, section);
    let nextLabel = 0;
    for (const { pc, insn } of slotsOf(section, elf.byteOrder === "little")) {
      const address = pc * 8;
      while (nextLabel < labels.length && (labels[nextLabel] as Label).address <= address) {
        const l = labels[nextLabel++] as Label;
        out.push("", `${l.address.toString(16).padStart(16, "0")} <${l.name}>:`);
      }
      const line = options.lineAt?.(section, address);
      if (line !== undefined) out.push(`; ${line}`);
      let text = formatLlvm(insn, fmt);
      if (isJump(insn)) {
        const rel = opInfo(insn.op)?.kind === "ja32" ? insn.imm : insn.off;
        text += symbolize(labels, (pc + 1 + rel) * 8);
      }
      out.push(`${String(pc).padStart(8)}:\t${text}`);
    }
    out.push("");
  }
  return `${out.join("\n")}\n`;
}
