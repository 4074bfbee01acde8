#!/usr/bin/env node
// Writes old_form.o: an object in the form LLVM wrote before BPF had an ELF machine number of its own and
// before libbpf's BTF maps, which iproute2 and samples/bpf loaders of that era read:
//   - e_machine EM_NONE (0), not EM_BPF (247);
//   - relocations in SHT_RELA sections named `.rela<section>`, with relocation type 0 and an addend of 0;
//   - map definitions in a `maps` section, 28 bytes each (samples/bpf's struct bpf_map_def: type, key_size,
//     value_size, max_entries, map_flags, inner_map_idx, numa_node), named by global symbols.
// clang can no longer emit this form, so it is written here, byte by byte and reproducibly, from the program
// below. Usage: node old_form.mjs OUT
import { writeFileSync } from "node:fs";

// The program (socket filter): count packets in an array map by their length modulo 4, and record the
// last length seen in a hash map keyed by the protocol; return the packet's length.
//   r6 = r1                       ; ctx
//   r7 = *(u32 *)(r6 + 0)         ; skb->len
//   r2 = r7 ; r2 &= 3 ; *(u32 *)(r10 - 4) = r2
//   r2 = r10 ; r2 += -4
//   r1 = counters ll              ; relocation, type 0
//   call bpf_map_lookup_elem
//   if r0 == 0 goto +2
//   r1 = 1 ; lock *(u64 *)(r0 + 0) += r1
//   r2 = *(u32 *)(r6 + 16)        ; skb->protocol
//   *(u32 *)(r10 - 8) = r2 ; *(u64 *)(r10 - 16) = r7
//   r2 = r10 ; r2 += -8 ; r3 = r10 ; r3 += -16 ; r4 = 0
//   r1 = last_len ll              ; relocation, type 0
//   call bpf_map_update_elem
//   r0 = r7
//   exit
const insn = (op, dst, src, off, imm) => ({ op, dst, src, off, imm });
const program = [
  insn(0xbf, 6, 1, 0, 0),
  insn(0x61, 7, 6, 0, 0),
  insn(0xbf, 2, 7, 0, 0),
  insn(0x57, 2, 0, 0, 3),
  insn(0x63, 10, 2, -4, 0),
  insn(0xbf, 2, 10, 0, 0),
  insn(0x07, 2, 0, 0, -4),
  insn(0x18, 1, 0, 0, 0), // lddw counters (slot 7)
  insn(0x00, 0, 0, 0, 0),
  insn(0x85, 0, 0, 0, 1),
  insn(0x15, 0, 0, 2, 0),
  insn(0xb7, 1, 0, 0, 1),
  insn(0xdb, 0, 1, 0, 0),
  insn(0x61, 2, 6, 16, 0),
  insn(0x63, 10, 2, -8, 0),
  insn(0x7b, 10, 7, -16, 0),
  insn(0xbf, 2, 10, 0, 0),
  insn(0x07, 2, 0, 0, -8),
  insn(0xbf, 3, 10, 0, 0),
  insn(0x07, 3, 0, 0, -16),
  insn(0xb7, 4, 0, 0, 0),
  insn(0x18, 1, 0, 0, 0), // lddw last_len (slot 21)
  insn(0x00, 0, 0, 0, 0),
  insn(0x85, 0, 0, 0, 2),
  insn(0xbf, 0, 7, 0, 0),
  insn(0x95, 0, 0, 0, 0),
];
const code = new Uint8Array(program.length * 8);
const cv = new DataView(code.buffer);
program.forEach((i, n) => {
  cv.setUint8(n * 8, i.op);
  cv.setUint8(n * 8 + 1, (i.src << 4) | i.dst);
  cv.setInt16(n * 8 + 2, i.off, true);
  cv.setInt32(n * 8 + 4, i.imm, true);
});

// struct bpf_map_def { type, key_size, value_size, max_entries, map_flags, inner_map_idx, numa_node }
const mapDefs = [
  { name: "counters", def: [2, 4, 8, 4, 0, 0, 0] }, // BPF_MAP_TYPE_ARRAY
  { name: "last_len", def: [1, 4, 8, 16, 0, 0, 0] }, // BPF_MAP_TYPE_HASH
];
const maps = new Uint8Array(mapDefs.length * 28);
mapDefs.forEach((m, k) => {
  for (let f = 0; f < 7; f++) new DataView(maps.buffer).setUint32(k * 28 + f * 4, m.def[f], true);
});
const license = new TextEncoder().encode("GPL\0");

// Sections: 0 null, 1 socket, 2 .relasocket, 3 maps, 4 license, 5 .symtab, 6 .strtab
const names = ["", "socket", ".relasocket", "maps", "license", ".symtab", ".strtab"];
const strings = ["", ...names.slice(1), "count_len", ...mapDefs.map((m) => m.name), "_license"];
const strtab = [];
const nameOff = new Map();
for (const s of strings) {
  if (nameOff.has(s)) continue;
  nameOff.set(s, strtab.length);
  strtab.push(...new TextEncoder().encode(s), 0);
}
// Symbols: null, then globals (old LLVM made every one global): the program, the maps, the license
const symbols = [
  { name: "", value: 0, size: 0, info: 0, shndx: 0 },
  { name: "count_len", value: 0, size: code.length, info: (1 << 4) | 2, shndx: 1 }, // GLOBAL FUNC
  ...mapDefs.map((m, k) => ({ name: m.name, value: k * 28, size: 28, info: (1 << 4) | 1, shndx: 3 })), // GLOBAL OBJECT
  { name: "_license", value: 0, size: 4, info: (1 << 4) | 1, shndx: 4 },
];
const symtab = new Uint8Array(symbols.length * 24);
symbols.forEach((s, k) => {
  const v = new DataView(symtab.buffer, k * 24, 24);
  v.setUint32(0, nameOff.get(s.name), true);
  v.setUint8(4, s.info);
  v.setUint16(6, s.shndx, true);
  v.setBigUint64(8, BigInt(s.value), true);
  v.setBigUint64(16, BigInt(s.size), true);
});
// Elf64_Rela { r_offset, r_info = sym << 32 | type (0), r_addend = 0 }
const relocs = [
  { offset: 7 * 8, symbol: 2 },
  { offset: 21 * 8, symbol: 3 },
];
const rela = new Uint8Array(relocs.length * 24);
relocs.forEach((r, k) => {
  const v = new DataView(rela.buffer, k * 24, 24);
  v.setBigUint64(0, BigInt(r.offset), true);
  v.setBigUint64(8, BigInt(r.symbol) << 32n, true);
  v.setBigInt64(16, 0n, true);
});

const contents = [code, rela, maps, license, symtab, Uint8Array.from(strtab)];
const offsets = [];
let at = 64;
for (const c of contents) {
  at = (at + 7) & ~7;
  offsets.push(at);
  at += c.length;
}
const shoff = (at + 7) & ~7;
const out = new Uint8Array(shoff + names.length * 64);
const v = new DataView(out.buffer);
out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]); // ELFCLASS64, little-endian, EV_CURRENT
v.setUint16(16, 1, true); // ET_REL
v.setUint16(18, 0, true); // EM_NONE
v.setUint32(20, 1, true);
v.setBigUint64(40, BigInt(shoff), true);
v.setUint16(52, 64, true);
v.setUint16(58, 64, true);
v.setUint16(60, names.length, true);
v.setUint16(62, 6, true); // section names in .strtab
contents.forEach((c, k) => out.set(c, offsets[k]));
// [type, flags, link, info, align, entsize]
const headers = [
  [1, 6, 0, 0, 8, 0], // socket: PROGBITS, ALLOC|EXECINSTR
  [4, 0, 5, 1, 8, 24], // .relasocket: RELA, symbols in .symtab, for section 1
  [1, 3, 0, 0, 4, 0], // maps: PROGBITS, WRITE|ALLOC
  [1, 3, 0, 0, 1, 0], // license
  [2, 0, 6, 1, 8, 24], // .symtab: first global is 1
  [3, 0, 0, 0, 1, 0], // .strtab
];
headers.forEach(([type, flags, link, info, align, entsize], k) => {
  const h = shoff + (k + 1) * 64;
  v.setUint32(h, nameOff.get(names[k + 1]), true);
  v.setUint32(h + 4, type, true);
  v.setBigUint64(h + 8, BigInt(flags), true);
  v.setBigUint64(h + 24, BigInt(offsets[k]), true);
  v.setBigUint64(h + 32, BigInt(contents[k].length), true);
  v.setUint32(h + 40, link, true);
  v.setUint32(h + 44, info, true);
  v.setBigUint64(h + 48, BigInt(align), true);
  v.setBigUint64(h + 56, BigInt(entsize), true);
});
writeFileSync(process.argv[2] ?? "old_form.o", out);
