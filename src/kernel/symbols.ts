/** Where functions live in an ELF executable or shared library: their file offsets, as uprobes want them. */
import { existsSync, readFileSync } from "node:fs";
import { type ElfFile, parseElf, STT_FUNC } from "../object/elf.js";
import { KernelError } from "./errors.js";

export interface FunctionSymbol {
  readonly name: string;
  /** File offset of the function's first instruction. */
  readonly offset: number;
}

/**
 * Every defined function of the file, in symbol table order: its static table, else (a stripped library)
 * the one of its separate debug file found by build id under /usr/lib/debug (as gdb and bcc find it), else
 * its dynamic table.
 */
export function functionSymbols(path: string): FunctionSymbol[] {
  const elf = parseElf(readFileSync(path));
  const debug = elf.sectionByName(".symtab") ? undefined : debugFile(elf);
  const out: FunctionSymbol[] = [];
  const seen = new Set<string>();
  const add = (name: string, offset: number): void => {
    if (seen.has(name)) return;
    seen.add(name);
    out.push({ name, offset });
  };
  // a stripped file's own (dynamic) names first, then its debug file's, their @VERSION suffixes dropped;
  // a debug file keeps the addresses, and the file offsets are the stripped file's
  for (const file of debug ? [elf, debug] : [elf]) {
    for (const sym of file.symbols) {
      if (sym.type !== STT_FUNC || sym.shndx === 0 || sym.name === "") continue;
      const section =
        file === elf
          ? elf.sections[sym.shndx]
          : elf.sections.find((x) => x.addr !== 0 && sym.value >= x.addr && sym.value < x.addr + x.size);
      if (section) add(sym.name.replace(/@.*$/, ""), sym.value - section.addr + section.offset);
    }
  }
  return out;
}

const NT_GNU_BUILD_ID = 3;

/** The separate debug file of a stripped file, /usr/lib/debug/.build-id/XX/YYYY.debug, if it is installed. */
function debugFile(elf: ElfFile): ElfFile | undefined {
  const notes = elf.sectionByName(".note.gnu.build-id");
  const id = notes ? elf.notes(notes).find((n) => n.name === "GNU" && n.type === NT_GNU_BUILD_ID) : undefined;
  if (!id) return undefined;
  const hex = Array.from(id.desc, (b) => b.toString(16).padStart(2, "0")).join("");
  const path = `/usr/lib/debug/.build-id/${hex.slice(0, 2)}/${hex.slice(2)}.debug`;
  try {
    return existsSync(path) ? parseElf(readFileSync(path)) : undefined;
  } catch {
    return undefined;
  }
}

export function symbolFileOffset(path: string, symbol: string): number {
  const sym = functionSymbols(path).find((s) => s.name === symbol);
  if (!sym) throw new KernelError("uprobe", 2, `no function ${symbol} in ${path}`);
  return sym.offset;
}
