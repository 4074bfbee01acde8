/** Where a function lives in an ELF executable or shared library: its file offset, as uprobes want it. */
import { readFileSync } from "node:fs";
import { parseElf, STT_FUNC } from "../object/elf.js";
import { KernelError } from "./errors.js";

export function symbolFileOffset(path: string, symbol: string): number {
  const elf = parseElf(readFileSync(path));
  const sym = elf.symbols.find((s) => s.name === symbol && s.type === STT_FUNC && s.shndx !== 0);
  if (!sym) throw new KernelError("uprobe", 2, `no function ${symbol} in ${path}`);
  const section = elf.sections[sym.shndx];
  if (!section) throw new KernelError("uprobe", 2, `${symbol} in ${path} points at section ${sym.shndx}, which does not exist`);
  return sym.value - section.addr + section.offset;
}
