/** `tsbpf objdump OBJ [--decimal]`: the object's program sections, disassembled like `llvm-objdump -d`. */
import { parseElf } from "../object/elf.js";
import { objdump } from "../object/objdump.js";
import { parseArgs, UsageError } from "./args.js";
import type { Io } from "./commands.js";
import { readInput } from "./program-file.js";

export function objdumpCommand(argv: string[], io: Io): number {
  const p = parseArgs(argv, { decimal: {} });
  if (p.positional.length !== 1) throw new UsageError("objdump needs exactly one OBJ (or - for stdin)");
  const file = p.positional[0] as string;
  io.stdout(objdump(parseElf(readInput(file)), file, { decimal: p.flags.has("decimal") }));
  return 0;
}
