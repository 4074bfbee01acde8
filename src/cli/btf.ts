/** `tsbpf btf dump FILE [--format raw|c]`: a file's BTF as bpftool prints it. */
import { btfFromFile, dumpBtfC, dumpBtfRaw } from "../object/btf/index.js";
import { parseArgs, stringFlag, UsageError } from "./args.js";
import type { Io } from "./commands.js";
import { readInput } from "./program-file.js";

export function btfCommand(argv: string[], io: Io): number {
  const [sub, ...rest] = argv;
  if (sub !== "dump") throw new UsageError("usage: tsbpf btf dump FILE [--format raw|c]");
  const p = parseArgs(rest, { format: { value: true, choices: ["raw", "c"] } });
  if (p.positional.length !== 1)
    throw new UsageError("btf dump needs exactly one FILE (an object, or raw BTF such as /sys/kernel/btf/vmlinux)");
  const file = p.positional[0] as string;
  const btf = btfFromFile(readInput(file), file);
  io.stdout(stringFlag(p, "format") === "c" ? dumpBtfC(btf) : dumpBtfRaw(btf));
  return 0;
}
