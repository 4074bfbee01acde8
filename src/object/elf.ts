/**
 * ELF64 reader for BPF objects (System V gABI; https://refspecs.linuxfoundation.org/elf/gabi4+/contents.html):
 * sections, symbols, REL and RELA relocations and notes, in either byte order. Every read is bounds-checked;
 * malformed input is an ObjectError naming the offset and what was expected. Nothing here touches the kernel.
 */
import type { ByteOrder } from "../isa/codec.js";
import { ObjectError } from "./errors.js";
import { ByteReader } from "./reader.js";

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_DYNSYM = 11;
export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
export const SHN_UNDEF = 0;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const EM_BPF = 247;

export interface ElfSection {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  readonly addr: number;
  /** File offset of the contents. */
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: number;
  readonly entsize: number;
  /** Contents (empty for SHT_NOBITS, whose `size` bytes are zeros). */
  readonly data: Uint8Array;
}

export interface ElfSymbol {
  readonly index: number;
  readonly name: string;
  readonly value: number;
  readonly size: number;
  readonly type: number;
  readonly bind: number;
  readonly visibility: number;
  /** Section index (or SHN_UNDEF / SHN_ABS / SHN_COMMON). */
  readonly shndx: number;
}

export interface ElfRelocation {
  /** Byte offset in the target section. */
  readonly offset: number;
  readonly type: number;
  /** Index into the symbol table. */
  readonly symbol: number;
  readonly addend: number;
}

export interface ElfNote {
  readonly name: string;
  readonly type: number;
  readonly desc: Uint8Array;
}

export interface ElfFile {
  readonly byteOrder: ByteOrder;
  readonly type: number;
  readonly machine: number;
  readonly sections: readonly ElfSection[];
  readonly symbols: readonly ElfSymbol[];
  /**
   * The relocations applying to a section (the entries of its REL and RELA sections), read on first request:
   * most of an object's relocations are for its DWARF and BTF sections, which no loader reads (libbpf skips
   * them too).
   */
  relocationsOf(sectionIndex: number): readonly ElfRelocation[];
  sectionByName(name: string): ElfSection | undefined;
  /** Notes of a SHT_NOTE section. */
  notes(section: ElfSection): ElfNote[];
}

const MAGIC = [0x7f, 0x45, 0x4c, 0x46];

export function parseElf(bytes: Uint8Array): ElfFile {
  if (bytes.length < 16 || MAGIC.some((b, i) => bytes[i] !== b))
    throw new ObjectError("ENOTELF", "not an ELF file: bad magic", { offset: 0 });
  if (bytes[4] !== 2) throw new ObjectError("EELFCLASS", `unsupported ELF class ${bytes[4]}: only ELF64 holds BPF`, { offset: 4 });
  if (bytes[5] !== 1 && bytes[5] !== 2) throw new ObjectError("EELFDATA", `invalid ELF data encoding ${bytes[5]}`, { offset: 5 });
  const byteOrder: ByteOrder = bytes[5] === 1 ? "little" : "big";
  const r = new ByteReader(bytes, byteOrder, "ELF");
  r.seek(16, "ELF header");
  r.need(48, "ELF header");
  const type = r.u16("e_type");
  const machine = r.u16("e_machine");
  r.u32("e_version");
  r.u64("e_entry");
  r.u64("e_phoff");
  const shoff = r.u64("e_shoff");
  r.u32("e_flags");
  r.u16("e_ehsize");
  r.u16("e_phentsize");
  r.u16("e_phnum");
  const shentsize = r.u16("e_shentsize");
  let shnum = r.u16("e_shnum");
  let shstrndx = r.u16("e_shstrndx");
  if (shoff === 0) throw new ObjectError("ENOSECTIONS", "ELF file has no section header table", { offset: 0x28 });
  if (shentsize !== 64) throw new ObjectError("EELFSHENT", `section header size ${shentsize}, expected 64`, { offset: 0x3a });
  if (shnum === 0 || shstrndx === SHN_XINDEX) {
    // Extended numbering: the real values live in section header 0.
    r.seek(shoff, "section header 0");
    r.need(64, "section header 0");
    const size = r.u64At(shoff + 32, "sh_size");
    const link = r.u32At(shoff + 40, "sh_link");
    if (shnum === 0) shnum = size;
    if (shstrndx === SHN_XINDEX) shstrndx = link;
  }
  r.need(shnum * 64, `${shnum} section headers`, shoff);

  interface RawSection {
    nameOff: number;
    type: number;
    flags: number;
    addr: number;
    offset: number;
    size: number;
    link: number;
    info: number;
    addralign: number;
    entsize: number;
  }
  const raw: RawSection[] = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * 64;
    raw.push({
      nameOff: r.u32At(at, "sh_name"),
      type: r.u32At(at + 4, "sh_type"),
      flags: r.u64HalfAt(at + 8, "sh_flags"), // every defined flag lives in the low 32 bits
      addr: r.u64At(at + 16, "sh_addr"),
      offset: r.u64At(at + 24, "sh_offset"),
      size: r.u64At(at + 32, "sh_size"),
      link: r.u32At(at + 40, "sh_link"),
      info: r.u32At(at + 44, "sh_info"),
      addralign: r.u64At(at + 48, "sh_addralign"),
      entsize: r.u64At(at + 56, "sh_entsize"),
    });
  }
  const dataOf = (s: RawSection, i: number): Uint8Array =>
    s.type === SHT_NOBITS || s.type === SHT_NULL ? new Uint8Array(0) : r.bytesAt(s.offset, s.size, `contents of section ${i}`);
  if (shstrndx >= shnum)
    throw new ObjectError("EELFSHSTRNDX", `section name table index ${shstrndx} out of range (${shnum} sections)`, { offset: 0x3e });
  const shstr = new ByteReader(
    dataOf(raw[shstrndx] as RawSection, shstrndx),
    byteOrder,
    "section name table",
    (raw[shstrndx] as RawSection).offset,
  );
  const sections: ElfSection[] = raw.map((s, index) => ({
    index,
    name: index === 0 ? "" : shstr.cstring(s.nameOff, `name of section ${index}`),
    type: s.type,
    flags: s.flags,
    addr: s.addr,
    offset: s.offset,
    // gABI: a SHT_NULL header is inactive and its other members are undefined, so it holds nothing.
    size: s.type === SHT_NULL ? 0 : s.size,
    link: s.link,
    info: s.info,
    addralign: s.addralign,
    entsize: s.entsize,
    data: dataOf(s, index),
  }));

  // Executables and shared libraries may be stripped down to their dynamic symbols.
  const symtab = sections.find((s) => s.type === SHT_SYMTAB) ?? sections.find((s) => s.type === SHT_DYNSYM);
  const symbols = symtab ? readSymbols(symtab, sections, byteOrder) : [];
  const relocationSections = new Map<number, ElfSection[]>();
  for (const s of sections) {
    if (s.type !== SHT_REL && s.type !== SHT_RELA) continue;
    if (s.info >= sections.length)
      throw new ObjectError("EELFREL", `relocation section targets section ${s.info}, which does not exist`, { section: s.name });
    const entsize = relocationSize(s);
    if (s.size % entsize !== 0)
      throw new ObjectError("EELFREL", `relocation section size ${s.size} is not a multiple of ${entsize}`, { section: s.name });
    relocationSections.set(s.info, [...(relocationSections.get(s.info) ?? []), s]);
  }
  const relocations = new Map<number, readonly ElfRelocation[]>();

  return {
    byteOrder,
    type,
    machine,
    sections,
    symbols,
    relocationsOf(index) {
      let list = relocations.get(index);
      if (!list) {
        list = (relocationSections.get(index) ?? []).flatMap((s) => readRelocations(s, byteOrder, symbols.length));
        relocations.set(index, list);
      }
      return list;
    },
    sectionByName: (name) => sections.find((s) => s.name === name),
    notes: (section) => readNotes(section, byteOrder),
  };
}

function readSymbols(symtab: ElfSection, sections: readonly ElfSection[], order: ByteOrder): ElfSymbol[] {
  if (symtab.entsize !== 24) throw new ObjectError("EELFSYM", `symbol entry size ${symtab.entsize}, expected 24`, { section: symtab.name });
  if (symtab.size % 24 !== 0)
    throw new ObjectError("EELFSYM", `symbol table size ${symtab.size} is not a multiple of 24`, { section: symtab.name });
  const strtab = sections[symtab.link];
  if (!strtab || strtab.type !== SHT_STRTAB)
    throw new ObjectError("EELFSYM", `symbol table links to section ${symtab.link}, not a string table`, { section: symtab.name });
  const strings = new ByteReader(strtab.data, order, "string table", strtab.offset);
  const r = new ByteReader(symtab.data, order, "symbol table", symtab.offset);
  const out: ElfSymbol[] = [];
  for (let index = 0, at = 0; at < r.length; index++, at += 24) {
    const info = r.bytes[at + 4] as number;
    out.push({
      index,
      name: strings.cstring(r.u32At(at, "st_name"), `name of symbol ${index}`),
      value: r.u64At(at + 8, "st_value"),
      size: r.u64At(at + 16, "st_size"),
      type: info & 0xf,
      bind: info >> 4,
      visibility: (r.bytes[at + 5] as number) & 3,
      shndx: r.u16At(at + 6, "st_shndx"),
    });
  }
  return out;
}

/** Bytes per entry of a relocation section: Elf64_Rela has an addend after Elf64_Rel's offset and info. */
function relocationSize(s: ElfSection): number {
  return s.type === SHT_RELA ? 24 : 16;
}

function readRelocations(s: ElfSection, order: ByteOrder, symbolCount: number): ElfRelocation[] {
  const rela = s.type === SHT_RELA;
  const entsize = relocationSize(s);
  const r = new ByteReader(s.data, order, `relocation section ${s.name}`, s.offset);
  const out: ElfRelocation[] = [];
  for (let at = 0; at < r.length; at += entsize) {
    // r_info is (symbol << 32) | type: read as its two u32 halves, no BigInt
    const type = r.u64HalfAt(at + 8, "r_info");
    const symbol = r.u64HalfAt(at + 8, "r_info", true);
    if (symbol >= symbolCount) {
      throw new ObjectError("EELFREL", `relocation refers to symbol ${symbol}, but the symbol table has ${symbolCount}`, {
        offset: s.offset + at,
      });
    }
    const addend = rela ? r.i64At(at + 16, "r_addend") : 0;
    out.push({ offset: r.u64At(at, "r_offset"), type, symbol, addend });
  }
  return out;
}

function readNotes(s: ElfSection, order: ByteOrder): ElfNote[] {
  const r = new ByteReader(s.data, order, `note section ${s.name}`, s.offset);
  const align = (n: number): number => (n + 3) & ~3;
  const out: ElfNote[] = [];
  while (r.pos < r.length) {
    const namesz = r.u32("n_namesz");
    const descsz = r.u32("n_descsz");
    const type = r.u32("n_type");
    const nameBytes = r.bytesAt(r.pos, namesz, "note name");
    r.pos += align(namesz);
    const desc = r.bytesAt(r.pos, descsz, "note descriptor");
    r.pos = Math.min(r.length, r.pos + align(descsz));
    const nul = nameBytes.indexOf(0);
    out.push({ name: new TextDecoder().decode(nul < 0 ? nameBytes : nameBytes.subarray(0, nul)), type, desc });
  }
  return out;
}
