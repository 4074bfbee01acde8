/**
 * Probe resolution on Linux, as bpftrace resolves probes before it compiles: wildcards (`*`, `?`) expanded
 * against tracefs events, a binary's ELF function symbols and its USDT notes; binaries found on PATH;
 * tracepoint records typed from their tracefs format files; kprobe targets checked against
 * available_filter_functions (bpftrace's "is not traceable" warning).
 */
import { accessSync, closeSync, constants, existsSync, openSync, readdirSync, readFileSync, readSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve as resolvePath } from "node:path";
import { functionSymbols, readUsdtProbes, tracefs, vmlinuxBtf } from "../kernel/index.js";
import type { Btf } from "../object/btf/index.js";
import { parseElf, STT_OBJECT } from "../object/elf.js";
import { TraceRunError } from "./errors.js";
import { type AttachPoint, type ProbeResolver, probeType, type Resolution, SOFTWARE_EVENTS, type TracepointField } from "./probes.js";

const hasWildcard = (s: string): boolean => /[*?]/.test(s);

function wildcard(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replaceAll("*", ".*")
    .replaceAll("?", ".");
  return new RegExp(`^${body}$`);
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch {
    return [];
  }
}

/** A binary named in a probe: a path as given, else the first executable of that name on PATH. */
function findBinary(name: string): string | undefined {
  if (name.includes("/")) return existsSync(name) ? (isAbsolute(name) ? name : resolvePath(name)) : undefined;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  // a library by name ("libc"): its ELF file, not the linker script some distributions put beside it
  for (const dir of ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"]) {
    const lib = listDir(dir).find(
      (f) => (f === name || f.startsWith(`lib${name}.so`) || f.startsWith(`${name}.so`)) && isElf(join(dir, f)),
    );
    if (lib) return join(dir, lib);
  }
  return undefined;
}

function isElf(path: string): boolean {
  try {
    const fd = openSync(path, "r");
    try {
      const magic = Buffer.alloc(4);
      return readSync(fd, magic, 0, 4, 0) === 4 && magic.toString("latin1") === "\x7fELF";
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** Fields of a tracefs format file: `field:const char * filename;	offset:24;	size:8;	signed:0;`. */
export function parseTracepointFormat(text: string): TracepointField[] {
  const fields: TracepointField[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*field:(.+?);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);/.exec(line);
    if (!m) continue;
    const decl = (m[1] as string).trim();
    const named = /^(.*?)\s*\b(\w+)\s*(\[\d*\])?$/.exec(decl);
    if (!named) continue;
    fields.push({
      name: named[2] as string,
      type: `${(named[1] as string).trim()}${named[3] ?? ""}`,
      offset: Number(m[2]),
      size: Number(m[3]),
      signed: m[4] === "1",
    });
  }
  return fields;
}

function tracepoints(point: AttachPoint & { type: "tracepoint" }): Resolution {
  const events = join(tracefs(), "events");
  const points: AttachPoint[] = [];
  const categories = hasWildcard(point.category) ? listDir(events).filter((c) => wildcard(point.category).test(c)) : [point.category];
  for (const category of categories) {
    const names = hasWildcard(point.event) ? listDir(join(events, category)).filter((e) => wildcard(point.event).test(e)) : [point.event];
    for (const event of names) {
      const format = join(events, category, event, "format");
      if (!existsSync(format)) continue;
      const fields = parseTracepointFormat(readFileSync(format, "utf8"));
      points.push({ type: "tracepoint", category, event, name: `tracepoint:${category}:${event}`, fields });
    }
  }
  if (points.length === 0 && !hasWildcard(point.category) && !hasWildcard(point.event))
    return { error: `tracepoint not found: ${point.category}:${point.event}` };
  return { points };
}

function uprobes(point: AttachPoint & { type: "uprobe" | "uretprobe" }): Resolution {
  const path = findBinary(point.binary);
  if (!path) return { error: `uprobe target file '${point.binary}' does not exist or is not executable` };
  const match = wildcard(point.func);
  const seen = new Set<string>();
  const points: AttachPoint[] = [];
  for (const f of functionSymbols(path)) {
    if (!match.test(f.name) || seen.has(f.name)) continue;
    seen.add(f.name);
    points.push({ type: point.type, binary: path, func: f.name, name: `${point.type}:${path}:${f.name}`, offset: f.offset });
  }
  return { points };
}

function usdts(point: AttachPoint & { type: "usdt" }): Resolution {
  const path = findBinary(point.binary);
  if (!path) return { error: `usdt target file '${point.binary}' does not exist or is not executable` };
  const provider = wildcard(point.provider === "" ? "*" : point.provider);
  const name = wildcard(point.probe);
  const points: AttachPoint[] = readUsdtProbes(path)
    .filter((p) => provider.test(p.provider) && name.test(p.name))
    .map((p) => ({
      type: "usdt",
      binary: path,
      provider: p.provider,
      probe: p.name,
      name: `usdt:${path}:${p.provider}:${p.name}`,
      offset: p.offset,
      semaphoreOffset: p.semaphoreOffset,
      args: p.args,
    }));
  if (points.length === 0 && !hasWildcard(point.provider) && !hasWildcard(point.probe))
    return { error: `No USDT probe ${point.provider}:${point.probe} in ${path}` };
  return { points };
}

let filterFunctions: Set<string> | undefined;

/** Functions ftrace can trace; empty when the list cannot be read (bpftrace then warns for every kprobe). */
function traceable(): Set<string> {
  if (!filterFunctions) {
    filterFunctions = new Set();
    try {
      for (const line of readFileSync(join(tracefs(), "available_filter_functions"), "utf8").split("\n"))
        filterFunctions.add(line.split(/\s/)[0] as string);
    } catch {
      // unreadable (lockdown, no ftrace): nothing is known to be traceable
    }
  }
  return filterFunctions;
}

/** A kernel symbol's address from /proc/kallsyms (any symbol type), or undefined. */
function kallsymsAddress(name: string): bigint | undefined {
  try {
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const m = new RegExp(`^([0-9a-f]+) \\S ${escaped}(\\s|$)`, "m").exec(readFileSync("/proc/kallsyms", "utf8"));
    return m ? BigInt(`0x${m[1]}`) : undefined;
  } catch {
    return undefined;
  }
}

export function linuxProbeResolver(): ProbeResolver {
  const kernelSymbols = new Map<string, bigint | undefined>();
  let btf: Btf | undefined | null = null;
  return {
    kernelBtf() {
      if (btf === null) {
        try {
          btf = vmlinuxBtf();
        } catch {
          btf = undefined;
        }
      }
      return btf;
    },
    kernelSymbol(name) {
      if (kernelSymbols.has(name)) return kernelSymbols.get(name);
      const address = kallsymsAddress(name);
      kernelSymbols.set(name, address);
      return address;
    },
    userObject(path, name) {
      try {
        const sym = parseElf(readFileSync(path)).symbols.find((x) => x.name === name && x.type === STT_OBJECT && x.shndx !== 0);
        return sym ? { address: BigInt(sym.value), size: sym.size } : undefined;
      } catch {
        return undefined;
      }
    },
    resolve(point) {
      switch (point.type) {
        case "tracepoint":
          return tracepoints(point);
        case "uprobe":
        case "uretprobe":
          return uprobes(point);
        case "usdt":
          return usdts(point);
        case "kprobe":
        case "kretprobe":
          if (!hasWildcard(point.func) && !traceable().has(point.func))
            return {
              points: [point],
              warning: `${point.func} is not traceable (either non-existing, inlined, or marked as "notrace"); attaching to it will likely fail`,
            };
          return { points: [point] };
        case "kfunc":
        case "kretfunc":
          // a located error, as bpftrace gives where the kernel lacks them, rather than a failure at attach
          return { error: "kfunc/kretfunc probes are not built in tsbpf yet (BPF trampolines: fentry/fexit)" };
        default:
          return { points: [point] };
      }
    },
  };
}

/**
 * `-l [PATTERN]`: the probes whose full names match PATTERN, a glob (bpftrace's listing). A pattern without a
 * type is matched against the full names of tracepoints, software events and kprobes (without a wildcard: as
 * a part of them); uprobe and usdt patterns name their binary.
 */
export function listProbes(pattern = "*"): string[] {
  const colon = pattern.indexOf(":");
  const type = colon < 0 ? undefined : probeType(pattern.slice(0, colon));
  const match = wildcard(colon >= 0 ? `${type}${pattern.slice(colon)}` : hasWildcard(pattern) ? pattern : `*${pattern}*`);
  const out: string[] = [];
  const offer = (names: Iterable<string>): void => {
    for (const n of names) if (match.test(n)) out.push(n);
  };
  if (type === undefined || type === "tracepoint") {
    const events = join(tracefs(), "events");
    for (const c of listDir(events))
      offer(
        listDir(join(events, c))
          .filter((e) => existsSync(join(events, c, e, "id")))
          .map((e) => `tracepoint:${c}:${e}`),
      );
  }
  if (type === undefined || type === "software") {
    // each event once, by its first (long) name
    const seen = new Set<number>();
    for (const [name, ev] of Object.entries(SOFTWARE_EVENTS)) if (!seen.has(ev.config) && seen.add(ev.config)) offer([`software:${name}:`]);
  }
  if (type === undefined || type === "kprobe")
    offer(
      [...traceable()]
        .filter((f) => f !== "")
        .sort()
        .map((f) => `kprobe:${f}`),
    );
  if (type === "uprobe" || type === "usdt") {
    const [, binary = "", ...rest] = pattern.split(":");
    const path = findBinary(binary);
    if (!path) throw new TraceRunError(`${type} target file '${binary}' does not exist or is not executable`, 1);
    // names carry the binary's resolved path
    const inBinary = wildcard(`${type}:${path}:${rest.length > 0 ? rest.join(":") : "*"}`);
    const names =
      type === "uprobe"
        ? [...new Set(functionSymbols(path).map((f) => f.name))].sort().map((f) => `uprobe:${path}:${f}`)
        : readUsdtProbes(path)
            .map((p) => `usdt:${path}:${p.provider}:${p.name}`)
            .sort();
    return names.filter((n) => inBinary.test(n));
  }
  return out;
}
