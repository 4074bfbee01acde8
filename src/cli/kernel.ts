/**
 * bpftool-style commands on the real kernel: `tsbpf prog load|loadall|list|show|dump|pin|run` (loading in
 * prog-load.ts, running in prog-run.ts), `tsbpf map list|show|create|dump|lookup|getnext|update|delete|peek|push|
 * pop|freeze|pin`, `tsbpf link list|show|pin|detach`, each with `--json`. Objects and bytes are named as bpftool
 * names them, or by tsbpf's short forms (kernel-args.ts).
 */
import { NotSupportedError } from "../errors.js";
import { toHex } from "../isa/codec.js";
import { slotOffsets } from "../isa/instruction.js";
import { formatLlvm } from "../isa/llvm.js";
import { KernelError } from "../kernel/errors.js";
import {
  detachLink,
  type LinkInfo,
  linkById,
  listLinks,
  listMaps,
  listPrograms,
  type MapInfo,
  mapById,
  type ProgramInfo,
  pinById,
  programById,
  withObjectFd,
} from "../kernel/inventory.js";
import { BPF_ANY, BPF_EXIST, BPF_NOEXIST, KernelMap, possibleCpus } from "../kernel/map.js";
import { type XlatedProgram, xlatedProgram } from "../kernel/xlated.js";
import type { BtfValue } from "../object/btf/codec.js";
import { mapTypeNumber } from "../object/map-types.js";
import type { MapSpec } from "../object/maps.js";
import { parseArgs, UsageError } from "./args.js";
import type { Io } from "./commands.js";
import { takeBytes, takeHandle, takeKeywords } from "./kernel-args.js";
import { progLoadCommand } from "./prog-load.js";
import { progRunCommand } from "./prog-run.js";

/** JSON as the kernel commands print it: 64-bit integers as decimal strings (exact), byte arrays as arrays. */
const json = (io: Io, value: unknown): void => {
  io.stdout(
    `${JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? Array.from(v) : v), 2)}\n`,
  );
};

/**
 * One map entry as printed: per-CPU maps have a value for each possible CPU. Maps with BTF also carry the
 * entry decoded by it in --json, as bpftool -j's `formatted` does (structs as objects, char arrays as strings).
 */
type MapEntry = ({ key: string; value: string } | { key: string; values: Array<{ cpu: number; value: string }> }) & {
  formatted?: { key?: BtfValue; value?: BtfValue; values?: Array<{ cpu: number; value: BtfValue }> };
};

/** Refuses words left over after a command's own. */
function noMore(words: readonly string[], command: string): void {
  if (words.length > 0) throw new UsageError(`${command}: unexpected '${words[0]}'`);
}

/** `pin OBJECT FILE`: pins the object named by the words at FILE in bpffs. */
function pinCommand(kind: "prog" | "map" | "link", words: readonly string[]): number {
  const { id, rest } = takeHandle(words, kind, `${kind} pin`);
  const [path, ...extra] = rest;
  if (path === undefined) throw new UsageError(`usage: tsbpf ${kind} pin ${kind.toUpperCase()} FILE`);
  noMore(extra, `${kind} pin`);
  pinById(kind, id, path);
  return 0;
}

const programLine = (x: ProgramInfo): string =>
  `${x.id}: ${x.type}  name ${x.name}  tag ${x.tag}\n\txlated ${x.xlatedBytes}B  jited ${x.jitedBytes}B  uid ${x.uid}${x.mapIds.length ? `  map_ids ${x.mapIds.join(",")}` : ""}\n`;
const mapLine = (m: MapInfo): string =>
  `${m.id}: ${m.type}  name ${m.name}  key ${m.keySize}B  value ${m.valueSize}B  max_entries ${m.maxEntries}  flags 0x${m.flags.toString(16)}\n`;
const linkLine = (l: LinkInfo): string => `${l.id}: type ${l.typeName}  prog ${l.progId}\n`;

/** What `KIND list` and `KIND show OBJECT` print: every object of a kind, or one, a line each or as --json. */
interface Listing<T> {
  kind: "prog" | "map" | "link";
  all(): T[];
  byId(id: number): T | undefined;
  line(x: T): string;
}

const PROGRAMS: Listing<ProgramInfo> = { kind: "prog", all: () => listPrograms(), byId: (id) => programById(id), line: programLine };
const MAPS: Listing<MapInfo> = { kind: "map", all: () => listMaps(), byId: (id) => mapById(id), line: mapLine };
const LINKS: Listing<LinkInfo> = { kind: "link", all: () => listLinks(), byId: (id) => linkById(id), line: linkLine };

function listOrShow<T>(listing: Listing<T>, sub: "list" | "show", words: readonly string[], asJson: boolean, io: Io): number {
  const command = `${listing.kind} ${sub}`;
  if (sub === "list") {
    noMore(words, command);
    const all = listing.all();
    if (asJson) json(io, all);
    else io.stdout(all.map(listing.line).join(""));
    return 0;
  }
  const { id, rest } = takeHandle(words, listing.kind, command);
  noMore(rest, command);
  const one = listing.byId(id);
  if (!one) throw new KernelError(command, 2, `no ${listing.kind === "prog" ? "program" : listing.kind} with id ${id}`);
  if (asJson) json(io, one);
  else io.stdout(listing.line(one));
  return 0;
}

/**
 * Instructions in the llvm dialect, one per line with its slot, under the function they begin and the source line
 * they came from (`; text`, as bpftool and llvm-objdump -S print it) where the program has BTF.
 */
function xlatedText(program: XlatedProgram): string {
  const { pcs } = slotOffsets(program.instructions);
  const functions = new Map(program.functions.map((f) => [f.slot, f.name]));
  let out = "";
  let line = 0;
  program.instructions.forEach((insn, n) => {
    const slot = pcs[n] as number;
    if (functions.has(slot)) out += `${functions.get(slot)}:\n`;
    // the source without its indentation, as bpftool prints it
    for (; line < program.lines.length && (program.lines[line]?.slot as number) <= slot; line++)
      out += `; ${program.lines[line]?.text.trimStart()}\n`;
    out += `${String(slot).padStart(4)}: ${formatLlvm(insn)}\n`;
  });
  return out;
}

/** tsbpf prog load|loadall ... | list | show PROG | dump [xlated] PROG | pin PROG FILE | run PROG ... */
export function progCommand(argv: string[], io: Io): number {
  const [sub, ...rest] = argv;
  const p = parseArgs(rest, { json: {}, pin: { value: true }, pinmaps: { value: true } });
  switch (sub) {
    case "load":
    case "loadall":
      return progLoadCommand(sub, p, io);
    case "list":
    case "show":
      return listOrShow(PROGRAMS, sub, p.positional, p.flags.has("json"), io);
    case "dump": {
      // bpftool's `prog dump xlated PROG`; tsbpf's `prog dump PROG` means the same
      const [kind, ...words] = p.positional[0] === "xlated" || p.positional[0] === "jited" ? p.positional : ["xlated", ...p.positional];
      if (kind === "jited")
        throw new NotSupportedError(
          "prog dump jited",
          "printing the JIT's machine code needs a disassembler for this CPU; prog dump xlated prints the instructions the kernel runs",
        );
      const { id, rest: extra } = takeHandle(words, "prog", "prog dump");
      noMore(extra, "prog dump");
      const program = xlatedProgram(id);
      if (p.flags.has("json")) json(io, program.instructions);
      else io.stdout(xlatedText(program));
      return 0;
    }
    case "pin":
      return pinCommand("prog", p.positional);
    case "run":
      return progRunCommand(p.positional, p.flags.has("json"), io);
    default:
      throw new UsageError("usage: tsbpf prog load|loadall|list|show|dump|pin|run (PROG: ID | id ID | pinned PATH | name NAME | tag TAG)");
  }
}

const UPDATE_FLAGS: Record<string, bigint> = { any: BPF_ANY, noexist: BPF_NOEXIST, exist: BPF_EXIST };

/** The update flag the words end with (any when none), refusing anything after it. */
function updateFlags(words: readonly string[], command: string): bigint {
  const [word, ...extra] = words;
  const flags = word === undefined ? BPF_ANY : UPDATE_FLAGS[word];
  if (flags === undefined) throw new UsageError(`${command}: '${word}' is not an update flag (any, exist, noexist)`);
  noMore(extra, command);
  return flags;
}

/** Maps whose values are other kernel objects: prog arrays (3), arrays and hashes of maps (12, 13). */
const REFERRING_MAPS: Record<number, "prog" | "map"> = { 3: "prog", 12: "map", 13: "map" };

/**
 * tsbpf map list | show MAP | dump MAP | lookup MAP KEY | getnext MAP [KEY] | update MAP KEY VALUE [any|exist|noexist]
 * | delete MAP KEY | peek MAP | push|enqueue MAP VALUE | pop|dequeue MAP | freeze MAP | pin MAP FILE
 */
export function mapCommand(argv: string[], io: Io): number {
  const [sub, ...rest] = argv;
  const p = parseArgs(rest, { json: {} });
  const command = `map ${sub ?? ""}`;
  if (sub === "list" || sub === "show") return listOrShow(MAPS, sub, p.positional, p.flags.has("json"), io);
  if (sub === "pin") return pinCommand("map", p.positional);
  if (sub === "create") return mapCreateCommand(p.positional);
  if (!sub || !MAP_SUBCOMMANDS.has(sub))
    throw new UsageError(
      "usage: tsbpf map list|show|create|dump|lookup|getnext|update|delete|peek|push|enqueue|pop|dequeue|freeze|pin (MAP: ID | id ID | pinned PATH | name NAME)",
    );
  const { id: mapId, rest: words } = takeHandle(p.positional, "map", command);
  let map: KernelMap;
  try {
    map = KernelMap.fromId(mapId);
  } catch (e) {
    if (e instanceof KernelError && e.code === "ENOENT") throw new KernelError(command, 2, `no map with id ${mapId}`);
    throw e;
  }
  try {
    return onMap(map, mapId, sub, words, p.flags.has("json"), io);
  } finally {
    map.close();
  }
}

const CREATE_USAGE =
  "usage: tsbpf map create FILE type TYPE key KEY_SIZE value VALUE_SIZE entries MAX_ENTRIES name NAME [flags FLAGS] [inner_map MAP]";

const CREATE_WORDS = ["type", "key", "value", "entries", "name", "flags", "inner_map"] as const;

/** tsbpf map create FILE type TYPE key N value N entries N name NAME [flags F] [inner_map MAP]: bpftool's, pinned at FILE. */
function mapCreateCommand(words: readonly string[]): number {
  const [file, ...rest] = words;
  if (file === undefined) throw new UsageError(CREATE_USAGE);
  const { values: given, ids } = takeKeywords(rest, CREATE_WORDS, "map create", `; ${CREATE_USAGE}`, { inner_map: "map" });
  const inner = ids.get("inner_map");
  for (const word of ["type", "key", "value", "entries", "name"] as const)
    if (!given.has(word)) throw new UsageError(`map create needs ${word}; ${CREATE_USAGE}`);
  const typeName = given.get("type") as string;
  const type = mapTypeNumber(typeName);
  if (type < 0) throw new UsageError(`map create: unknown map type '${typeName}'`);
  const number = (word: (typeof CREATE_WORDS)[number]): number => {
    const text = given.get(word) ?? "0";
    const n = /^0x[0-9a-f]+$/i.test(text) ? Number.parseInt(text, 16) : /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(n) || n > 0xffffffff) throw new UsageError(`map create: ${word} '${text}' is not a number`);
    return n;
  };
  const spec: MapSpec = {
    name: given.get("name") as string,
    type,
    typeName,
    keySize: number("key"),
    valueSize: number("value"),
    maxEntries: number("entries"),
    flags: number("flags"),
    pinning: 0,
    section: "tsbpf map create",
  };
  using template = inner === undefined ? undefined : KernelMap.fromId(inner);
  using map = KernelMap.create(spec, template ? { innerMapFd: template.fd } : {});
  map.pin(file);
  return 0;
}

const MAP_SUBCOMMANDS = new Set(["dump", "lookup", "getnext", "update", "delete", "peek", "push", "enqueue", "pop", "dequeue", "freeze"]);

/** Per-CPU maps hold a value for each possible CPU, shown one by one as bpftool shows them. */
function shown(map: KernelMap, k: Uint8Array, v: Uint8Array | Uint8Array[]): MapEntry {
  const entry: MapEntry = Array.isArray(v)
    ? { key: toHex(k), values: v.map((c, cpu) => ({ cpu, value: toHex(c) })) }
    : { key: toHex(k), value: toHex(v) };
  if (!map.spec.btf || map.spec.valueTypeId === undefined) return entry;
  const typed = map.typed();
  const key = k.length > 0 ? { key: typed.key.decode(k) } : {};
  entry.formatted = Array.isArray(v)
    ? { ...key, values: v.map((c, cpu) => ({ cpu, value: typed.value.decode(c) })) }
    : { ...key, value: typed.value.decode(v) };
  return entry;
}
const valueText = (e: MapEntry, between: string): string =>
  "values" in e ? e.values.map((c) => `value (CPU ${String(c.cpu).padStart(2, "0")}): ${c.value}`).join(between) : `value: ${e.value}`;

function onMap(map: KernelMap, mapId: number, sub: string, words: readonly string[], asJson: boolean, io: Io): number {
  const command = `map ${sub}`;
  const { keySize, valueSize } = map.spec;
  // The kernel reads exactly the map's sizes: other lengths are refused here, with the sizes it wants.
  // Queues and stacks have no keys: their key may be left out.
  const takeKey = (from: readonly string[]) =>
    keySize === 0 && from[0] !== "key" ? { bytes: new Uint8Array(0), rest: [...from] } : takeBytes(from, "key", keySize, command, mapId);
  const printValue = (k: Uint8Array, v: Uint8Array | Uint8Array[] | undefined, missing: string): number => {
    if (!v) throw new KernelError(command, 2, missing);
    const e = shown(map, k, v);
    if (asJson) json(io, e);
    else io.stdout(`${valueText(e, "\n")}\n`);
    return 0;
  };
  switch (sub) {
    case "dump": {
      noMore(words, command);
      const entries = [...(map.perCpu ? map.entriesPerCpu() : map.entries())].map(([k, v]) => shown(map, k, v));
      if (asJson) json(io, entries);
      else for (const e of entries) io.stdout(`key: ${e.key}  ${valueText(e, "  ")}\n`);
      return 0;
    }
    case "lookup": {
      const { bytes: k, rest } = takeKey(words);
      noMore(rest, command);
      return printValue(k, map.perCpu ? map.getPerCpu(k) : map.get(k), "no such key");
    }
    case "getnext": {
      const { bytes: k, rest } = words.length === 0 ? { bytes: undefined, rest: [] } : takeKey(words);
      noMore(rest, command);
      const next = map.nextKey(k);
      if (!next) throw new KernelError(command, 2, k ? "no key after this one" : "the map is empty");
      if (asJson) json(io, { key: k ? toHex(k) : null, nextKey: toHex(next) });
      else io.stdout(`${k ? `key: ${toHex(k)}\n` : ""}next key: ${toHex(next)}\n`);
      return 0;
    }
    case "update":
    case "push":
    case "enqueue": {
      const key = sub === "update" ? takeKey(words) : { bytes: new Uint8Array(0), rest: [...words] };
      // A prog array's values are programs, a map-in-map's maps: bpftool takes them by name (`value id 7`, `value
      // pinned PATH`...), and the kernel by an fd of them, open for the call.
      const refersTo = REFERRING_MAPS[map.spec.type];
      if (refersTo && key.rest[0] === "value" && ["id", "pinned", "name", "tag"].includes(key.rest[1] ?? "")) {
        const { id, rest } = takeHandle(key.rest.slice(1), refersTo, command);
        const flags = updateFlags(rest, command);
        withObjectFd(refersTo, id, command, (fd) => {
          const value = new Uint8Array(4);
          new DataView(value.buffer).setUint32(0, fd, true);
          map.set(key.bytes, value, flags);
        });
        return 0;
      }
      const { bytes: value, rest } = takeBytes(key.rest, "value", valueSize, command, mapId);
      const flags = updateFlags(rest, command);
      // as bpftool does, one value given for a per-CPU map is set on every CPU
      if (map.perCpu)
        map.setPerCpu(
          key.bytes,
          Array.from({ length: possibleCpus() }, () => value),
          flags,
        );
      else map.set(key.bytes, value, flags);
      return 0;
    }
    case "delete": {
      const { bytes: k, rest } = takeKey(words);
      noMore(rest, command);
      map.delete(k);
      return 0;
    }
    case "peek":
    case "pop":
    case "dequeue": {
      noMore(words, command);
      const none = new Uint8Array(0);
      return printValue(none, sub === "peek" ? map.get(none) : map.lookupAndDelete(none), `${map.spec.typeName} is empty`);
    }
    case "freeze":
      noMore(words, command);
      map.freeze();
      return 0;
    default:
      throw new UsageError(`unknown map command ${sub}`);
  }
}

/** tsbpf link list | show LINK | pin LINK FILE | detach LINK */
export function linkCommand(argv: string[], io: Io): number {
  const [sub, ...rest] = argv;
  const p = parseArgs(rest, { json: {} });
  switch (sub) {
    case "list":
    case "show":
      return listOrShow(LINKS, sub, p.positional, p.flags.has("json"), io);
    case "pin":
      return pinCommand("link", p.positional);
    case "detach": {
      const { id, rest: extra } = takeHandle(p.positional, "link", "link detach");
      noMore(extra, "link detach");
      detachLink(id);
      return 0;
    }
    default:
      throw new UsageError("usage: tsbpf link list|show|pin|detach (LINK: ID | id ID | pinned PATH)");
  }
}
