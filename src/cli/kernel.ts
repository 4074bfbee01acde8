/**
 * bpftool-style commands on the real kernel: `tsbpf prog load|list|show|dump`, `tsbpf map
 * list|dump|lookup|update|delete`, `tsbpf link list`, each with `--json`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseHex, toHex } from "../isa/codec.js";
import { slotOffsets } from "../isa/instruction.js";
import { formatLlvm } from "../isa/llvm.js";
import { makePinDir } from "../kernel/bpffs.js";
import { loadKernelCollection } from "../kernel/collection.js";
import { KernelError } from "../kernel/errors.js";
import { listLinks, listMaps, listPrograms, programById, xlatedInstructions } from "../kernel/inventory.js";
import { KernelMap, possibleCpus } from "../kernel/map.js";
import { loadCollectionSpec } from "../object/collection.js";
import { parseArgs, stringFlag, UsageError } from "./args.js";
import type { Io } from "./commands.js";

const json = (io: Io, value: unknown): void => {
  io.stdout(`${JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2)}\n`);
};

/** One map entry as printed: per-CPU maps have a value for each possible CPU. */
type MapEntry = { key: string; value: string } | { key: string; values: Array<{ cpu: number; value: string }> };

function id(text: string | undefined, what: string): number {
  if (text === undefined || !/^\d+$/.test(text)) throw new UsageError(`${what} needs a numeric ID`);
  return Number(text);
}

/** tsbpf prog load OBJ [--pin DIR] [--pinmaps DIR] | list | show ID | dump ID */
export function progCommand(argv: string[], io: Io): number {
  const [sub, ...rest] = argv;
  const p = parseArgs(rest, { json: {}, pin: { value: true }, pinmaps: { value: true } });
  switch (sub) {
    case "load": {
      const file = p.positional[0];
      if (!file) throw new UsageError("usage: tsbpf prog load OBJ [--pin DIR] [--pinmaps DIR]");
      const pinDir = stringFlag(p, "pin");
      // Maps declared `pinning = LIBBPF_PIN_BY_NAME` go to (or are reused from) --pinmaps, else /sys/fs/bpf.
      const pinMaps = stringFlag(p, "pinmaps");
      // as bpftool does: the directories are made (in bpffs, mounted first on a fresh machine)
      for (const dir of [pinDir, pinMaps]) if (dir) makePinDir(dir);
      const collection = loadKernelCollection(loadCollectionSpec(readFileSync(file)), pinMaps ? { pinPath: pinMaps } : {});
      try {
        const loaded = [...collection.programs].map(([name, prog]) => {
          if (pinDir) prog.pin(join(pinDir, name));
          return { name, fd: prog.fd, type: prog.type, ...(pinDir ? { pinned: join(pinDir, name) } : {}) };
        });
        if (p.flags.has("json")) json(io, loaded);
        else for (const l of loaded) io.stdout(`${l.name}: ${l.type}${l.pinned ? ` pinned at ${l.pinned}` : ""}\n`);
        if (!pinDir) io.stdout("(not pinned: the programs are unloaded when this command exits; use --pin DIR to keep them)\n");
      } finally {
        collection.close(); // pins keep what should stay
      }
      return 0;
    }
    case "list":
    case "show": {
      const programs = sub === "show" ? [programById(id(p.positional[0], "prog show"))].filter((x) => x !== undefined) : listPrograms();
      if (sub === "show" && programs.length === 0) throw new KernelError("prog show", 2, `no program with id ${p.positional[0]}`);
      if (p.flags.has("json")) json(io, sub === "show" ? programs[0] : programs);
      else
        for (const x of programs)
          io.stdout(
            `${x.id}: ${x.type}  name ${x.name}  tag ${x.tag}\n\txlated ${x.xlatedBytes}B  jited ${x.jitedBytes}B  uid ${x.uid}${x.mapIds.length ? `  map_ids ${x.mapIds.join(",")}` : ""}\n`,
          );
      return 0;
    }
    case "dump": {
      const insns = xlatedInstructions(id(p.positional[0], "prog dump"));
      if (!insns) throw new KernelError("prog dump", 2, `no program with id ${p.positional[0]}`);
      if (p.flags.has("json")) json(io, insns);
      else {
        const { pcs } = slotOffsets(insns);
        io.stdout(insns.map((i, n) => `${String(pcs[n]).padStart(4)}: ${formatLlvm(i)}\n`).join(""));
      }
      return 0;
    }
    default:
      throw new UsageError("usage: tsbpf prog load|list|show|dump");
  }
}

/** tsbpf map list | dump ID | lookup ID KEY | update ID KEY VALUE | delete ID KEY (keys and values in hex) */
export function mapCommand(argv: string[], io: Io): number {
  const [sub, ...rest] = argv;
  const p = parseArgs(rest, { json: {} });
  if (sub === "list") {
    const maps = listMaps();
    if (p.flags.has("json")) json(io, maps);
    else
      for (const m of maps)
        io.stdout(
          `${m.id}: ${m.type}  name ${m.name}  key ${m.keySize}B  value ${m.valueSize}B  max_entries ${m.maxEntries}  flags 0x${m.flags.toString(16)}\n`,
        );
    return 0;
  }
  const mapId = id(p.positional[0], `map ${sub ?? ""}`);
  let map: KernelMap;
  try {
    map = KernelMap.fromId(mapId);
  } catch (e) {
    if (e instanceof KernelError && e.code === "ENOENT") throw new KernelError(`map ${sub}`, 2, `no map with id ${mapId}`);
    throw e;
  }
  try {
    const { keySize, valueSize } = map.spec;
    // The kernel reads exactly the map's sizes: other lengths are refused here, with the sizes it wants.
    const sized = (text: string | undefined, size: number, what: string): Uint8Array => {
      const bytes = parseHex(text ?? "");
      if (bytes.length !== size) throw new UsageError(`the ${what} has ${bytes.length} bytes; map ${mapId}'s ${what}s have ${size}`);
      return bytes;
    };
    const key = (): Uint8Array => sized(p.positional[1], keySize, "key");
    // Per-CPU maps hold a value for each possible CPU, shown one by one as bpftool shows them.
    const shown = (k: Uint8Array, v: Uint8Array | Uint8Array[]): MapEntry =>
      Array.isArray(v) ? { key: toHex(k), values: v.map((c, cpu) => ({ cpu, value: toHex(c) })) } : { key: toHex(k), value: toHex(v) };
    const valueText = (e: MapEntry, between: string): string =>
      "values" in e ? e.values.map((c) => `value (CPU ${String(c.cpu).padStart(2, "0")}): ${c.value}`).join(between) : `value: ${e.value}`;
    switch (sub) {
      case "dump": {
        const entries = [...(map.perCpu ? map.entriesPerCpu() : map.entries())].map(([k, v]) => shown(k, v));
        if (p.flags.has("json")) json(io, entries);
        else for (const e of entries) io.stdout(`key: ${e.key}  ${valueText(e, "  ")}\n`);
        return 0;
      }
      case "lookup": {
        const k = key();
        const v = map.perCpu ? map.getPerCpu(k) : map.get(k);
        if (!v) throw new KernelError("map lookup", 2, "no such key");
        const e = shown(k, v);
        if (p.flags.has("json")) json(io, e);
        else io.stdout(`${valueText(e, "\n")}\n`);
        return 0;
      }
      case "update": {
        const value = sized(p.positional[2], valueSize, "value");
        // as bpftool does, one value given for a per-CPU map is set on every CPU
        if (map.perCpu)
          map.setPerCpu(
            key(),
            Array.from({ length: possibleCpus() }, () => value),
          );
        else map.set(key(), value);
        return 0;
      }
      case "delete":
        map.delete(key());
        return 0;
      default:
        throw new UsageError("usage: tsbpf map list|dump|lookup|update|delete");
    }
  } finally {
    map.close();
  }
}

/** tsbpf link list */
export function linkCommand(argv: string[], io: Io): number {
  const [sub, ...rest] = argv;
  if (sub !== "list") throw new UsageError("usage: tsbpf link list [--json]");
  const p = parseArgs(rest, { json: {} });
  const links = listLinks();
  if (p.flags.has("json")) json(io, links);
  else for (const l of links) io.stdout(`${l.id}: type ${l.type}  prog ${l.progId}\n`);
  return 0;
}
