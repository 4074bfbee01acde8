/** Where functions live in an ELF executable or shared library: their file offsets, as uprobes want them. */
import { readFileSync } from "node:fs";
import { parseElf, STT_FUNC } from "../object/elf.js";
import { KernelError } from "./errors.js";

export interface FunctionSymbol {
  readonly name: string;
  /** File offset of the function's first instruction. */
  readonly offset: number;
}

/** Every defined function of the file, in symbol table order (the static table, else the dynamic one). */
export function functionSymbols(path: string): FunctionSymbol[] {
  const elf = parseElf(readFileSync(path));
  const out: FunctionSymbol[] = [];
  for (const sym of elf.symbols) {
    if (sym.type !== STT_FUNC || sym.shndx === 0 || sym.name === "") continue;
    const section = elf.sections[sym.shndx];
    if (section) out.push({ name: sym.name, offset: sym.value - section.addr + section.offset });
  }
  return out;
}

export function symbolFileOffset(path: string, symbol: string): number {
  const sym = functionSymbols(path).find((s) => s.name === symbol);
  if (!sym) throw new KernelError("uprobe", 2, `no function ${symbol} in ${path}`);
  return sym.offset;
}
