/**
 * Wraps raw eBPF bytes in a minimal ELF64 relocatable object (EM_BPF, one executable .text section),
 * so llvm-objdump can disassemble them as an outside oracle.
 */
export function wrapInElf(code: Uint8Array): Uint8Array {
  const shstrtab = new TextEncoder().encode("\0.text\0.shstrtab\0");
  const textOff = 64;
  const strOff = textOff + code.length;
  const shOff = (strOff + shstrtab.length + 7) & ~7;
  const out = new Uint8Array(shOff + 3 * 64);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]); // ELFCLASS64, little-endian, version 1
  v.setUint16(16, 1, true); // ET_REL
  v.setUint16(18, 247, true); // EM_BPF
  v.setUint32(20, 1, true);
  v.setBigUint64(40, BigInt(shOff), true);
  v.setUint16(52, 64, true); // e_ehsize
  v.setUint16(58, 64, true); // e_shentsize
  v.setUint16(60, 3, true); // e_shnum
  v.setUint16(62, 2, true); // e_shstrndx
  out.set(code, textOff);
  out.set(shstrtab, strOff);
  const section = (index: number, name: number, type: number, flags: number, offset: number, size: number, align: number): void => {
    const at = shOff + index * 64;
    v.setUint32(at, name, true);
    v.setUint32(at + 4, type, true);
    v.setBigUint64(at + 8, BigInt(flags), true);
    v.setBigUint64(at + 24, BigInt(offset), true);
    v.setBigUint64(at + 32, BigInt(size), true);
    v.setBigUint64(at + 48, BigInt(align), true);
  };
  section(1, 1, 1, 6, textOff, code.length, 8); // .text: PROGBITS, ALLOC|EXECINSTR
  section(2, 7, 3, 0, strOff, shstrtab.length, 1); // .shstrtab: STRTAB
  return out;
}
