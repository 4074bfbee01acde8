/** `tsbpf objdump OBJ [--decimal] [-S|--line]`: the object's program sections, disassembled like `llvm-objdump -d`. */
import { parseBtfExt } from "../object/btf/ext.js";
import { parseBtf } from "../object/btf/parse.js";
import { type ElfFile, type ElfSection, parseElf } from "../object/elf.js";
import { objdump } from "../object/objdump.js";
import { parseArgs, UsageError } from "./args.js";
import type { Io } from "./commands.js";
import { readInput } from "./program-file.js";

/** Source lines from .BTF.ext line_info, by section and byte offset. */
function sourceLines(elf: ElfFile): (section: ElfSection, byteOffset: number) => string | undefined {
  const btfSection = elf.sectionByName(".BTF");
  const extSection = elf.sectionByName(".BTF.ext");
  if (!btfSection || !extSection) return () => undefined;
  const ext = parseBtfExt(extSection.data, parseBtf(btfSection.data));
  const bySection = new Map([...ext.lineInfo].map(([name, lines]) => [name, new Map(lines.map((l) => [l.insnOff, l.line.trimEnd()]))]));
  return (section, byteOffset) => bySection.get(section.name)?.get(byteOffset);
}

export function objdumpCommand(argv: string[], io: Io): number {
  const p = parseArgs(argv, { decimal: {}, line: { short: "-S" } });
  if (p.positional.length !== 1) throw new UsageError("objdump needs exactly one OBJ (or - for stdin)");
  const file = p.positional[0] as string;
  const elf = parseElf(readInput(file));
  const lineAt = p.flags.has("line") ? sourceLines(elf) : undefined;
  io.stdout(objdump(elf, file, { decimal: p.flags.has("decimal"), ...(lineAt ? { lineAt } : {}) }));
  return 0;
}
