/**
 * `tsbpf btf dump` and `tsbpf btf list`: BTF as bpftool prints it, from a file (an object, or raw BTF such as
 * /sys/kernel/btf/vmlinux) or from the kernel (`id ID`, `map MAP [key|value|kv|all]`, `prog PROG`).
 */
import { NotSupportedError } from "../errors.js";
import { KernelError } from "../kernel/errors.js";
import { btfById, btfBytesById, listBtf, listMaps, listPrograms, mapById, programById } from "../kernel/inventory.js";
import { type Btf, btfFromFile, dumpBtfC, dumpBtfRaw, parseBtf } from "../object/btf/index.js";
import { parseArgs, stringFlag, UsageError } from "./args.js";
import type { Io } from "./commands.js";
import { takeHandle } from "./kernel-args.js";
import { readInput } from "./program-file.js";

const USAGE =
  "usage: tsbpf btf dump FILE | file FILE | id ID | map MAP [key|value|kv|all] | prog PROG [--format raw|c] | tsbpf btf list [--json]";

export function btfCommand(argv: string[], io: Io): number {
  const [sub, ...rest] = argv;
  if (sub === "list") return btfList(rest, io);
  if (sub !== "dump") throw new UsageError(USAGE);
  const p = parseArgs(rest, { format: { value: true, choices: ["raw", "c"] } });
  let words = p.positional;
  let format = stringFlag(p, "format");
  // bpftool's own spelling: `... format c`
  if (words.length >= 2 && words[words.length - 2] === "format") {
    format = words[words.length - 1];
    if (format !== "raw" && format !== "c") throw new UsageError(`btf dump: format must be raw or c (got '${format}')`);
    words = words.slice(0, -2);
  }
  const { btf, roots } = btfToDump(words);
  io.stdout(format === "c" ? dumpBtfC(btf, roots) : dumpBtfRaw(btf, roots));
  return 0;
}

/** The BTF the words name, and the types to print when not all of them. */
function btfToDump(words: readonly string[]): { btf: Btf; roots?: number[] } {
  const [what, ...args] = words;
  const only = (rest: readonly string[]): void => {
    if (rest.length > 0) throw new UsageError(`btf dump: unexpected '${rest[0]}'`);
  };
  switch (what) {
    case "id": {
      const [id, ...extra] = args;
      if (id === undefined || !/^\d+$/.test(id)) throw new UsageError("btf dump id needs a numeric ID");
      only(extra);
      return { btf: kernelBtf(Number(id)) };
    }
    case "map": {
      const { id, rest } = takeHandle(args, "map", "btf dump map");
      const [part = "kv", ...extra] = rest; // bpftool: key and value unless told
      only(extra);
      const info = mapById(id);
      if (!info) throw new KernelError("btf dump map", 2, `no map with id ${id}`);
      if (info.btfId === 0) throw new KernelError("btf dump map", 2, `map ${id} has no BTF`);
      const parts: Record<string, number[] | undefined> = {
        key: [info.btfKeyTypeId],
        value: [info.btfValueTypeId],
        kv: [info.btfKeyTypeId, info.btfValueTypeId],
        all: undefined,
      };
      if (!(part in parts)) throw new UsageError(`btf dump map: '${part}' is not one of key, value, kv, all`);
      const roots = parts[part]?.filter((r) => r !== 0);
      return { btf: kernelBtf(info.btfId), ...(roots ? { roots } : {}) };
    }
    case "prog": {
      const { id, rest } = takeHandle(args, "prog", "btf dump prog");
      only(rest);
      const info = programById(id);
      if (!info) throw new KernelError("btf dump prog", 2, `no program with id ${id}`);
      if (info.btfId === 0) throw new KernelError("btf dump prog", 2, `program ${id} has no BTF`);
      return { btf: kernelBtf(info.btfId) };
    }
    case "file": {
      const [file, ...extra] = args;
      if (file === undefined) throw new UsageError("btf dump file needs a FILE");
      only(extra);
      return { btf: btfFromFile(readInput(file), file) };
    }
    default:
      if (what === undefined || args.length > 0)
        throw new UsageError(
          "btf dump needs exactly one FILE (an object, or raw BTF such as /sys/kernel/btf/vmlinux), or id ID, map MAP, prog PROG",
        );
      return { btf: btfFromFile(readInput(what), what) };
  }
}

/** A kernel BTF object, parsed; modules' BTF is split BTF on top of vmlinux's, which is not read here yet. */
function kernelBtf(id: number): Btf {
  const info = btfById(id);
  if (info?.kernel && info.name !== "vmlinux")
    throw new NotSupportedError(
      `btf dump id ${id}`,
      `it is module ${info.name}'s BTF, split on top of vmlinux's, which tsbpf does not read yet`,
    );
  const bytes = btfBytesById(id);
  if (!bytes) throw new KernelError("btf dump", 2, `no BTF with id ${id}`);
  return parseBtf(bytes, `BTF id ${id}`);
}

/** tsbpf btf list: every BTF object in the kernel with the programs and maps that use it, as bpftool lists them. */
function btfList(argv: string[], io: Io): number {
  const p = parseArgs(argv, { json: {} });
  if (p.positional.length > 0) throw new UsageError(`btf list: unexpected '${p.positional[0]}'`);
  const programs = listPrograms();
  const maps = listMaps();
  const rows = listBtf().map((b) => ({
    ...b,
    progIds: programs.filter((x) => x.btfId === b.id).map((x) => x.id),
    mapIds: maps.filter((m) => m.btfId === b.id).map((m) => m.id),
  }));
  if (p.flags.has("json")) io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
  else
    for (const r of rows)
      io.stdout(
        `${r.id}: name ${r.kernel ? `[${r.name}]` : r.name || "<anon>"}  size ${r.size}B${r.progIds.length ? `  prog_ids ${r.progIds.join(",")}` : ""}${r.mapIds.length ? `  map_ids ${r.mapIds.join(",")}` : ""}\n`,
      );
  return 0;
}
