/**
 * clang leaves the size of every DATASEC and the offsets of its variables 0; the ELF section and symbol table
 * know them. Fixed here once, as libbpf does when it opens an object, so global data can be laid out (and
 * decoded) from BTF like any struct.
 */
import { type Btf, withTypes } from "./btf/parse.js";
import type { BtfType } from "./btf/types.js";
import type { ElfFile } from "./elf.js";

export function fixDatasecs(btf: Btf, elf: ElfFile): Btf {
  let changed = false;
  const types = btf.types.map((t): BtfType => {
    if (t.kind !== "DATASEC") return t;
    const section = elf.sectionByName(t.name);
    if (!section || section.size === 0) return t; // .kconfig, .ksyms: no section, the loader places them
    const vars = t.vars
      .map((v) => {
        const name = btf.type(v.type)?.name ?? "";
        const sym = elf.symbols.find((s) => s.shndx === section.index && s.name === name);
        return sym ? { type: v.type, offset: sym.value, size: Math.max(v.size, sym.size) } : v;
      })
      .sort((a, b) => a.offset - b.offset);
    changed = true;
    return { ...t, size: section.size, vars };
  });
  return changed ? withTypes(btf, types) : btf;
}
