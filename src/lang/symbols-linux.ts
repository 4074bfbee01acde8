/**
 * Names for the values scripts print as names, on Linux: kernel addresses through /proc/kallsyms (ksym),
 * user addresses through the traced process's /proc/PID/maps and the mapped file's ELF symbols (usym),
 * uids through /etc/passwd (username). Each table is read on first use.
 */
import { readFileSync } from "node:fs";
import { type FunctionSymbol, functionSymbols, KernelSymbolizer } from "../kernel/index.js";
import type { Symbolizer } from "./values.js";

interface Mapping {
  readonly start: bigint;
  readonly end: bigint;
  readonly offset: bigint;
  readonly path: string;
}

function readMappings(pid: number): Mapping[] {
  try {
    return readFileSync(`/proc/${pid}/maps`, "utf8")
      .split("\n")
      .map((line) => /^([0-9a-f]+)-([0-9a-f]+) \S+ ([0-9a-f]+) \S+ \d+\s+(\/.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ start: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[2]}`), offset: BigInt(`0x${m[3]}`), path: m[4] as string }));
  } catch {
    return [];
  }
}

/** `pid()` is the process whose user addresses usym() names (the -c child or the -p process). */
export function linuxSymbolizer(pid: () => number | undefined): Symbolizer {
  let kernel: KernelSymbolizer | undefined;
  let users: Map<bigint, string> | undefined;
  let mappings: Mapping[] | undefined;
  const files = new Map<string, FunctionSymbol[]>();
  const fileSymbols = (path: string): FunctionSymbol[] => {
    let list = files.get(path);
    if (!list) {
      try {
        list = functionSymbols(path).sort((a, b) => a.offset - b.offset);
      } catch {
        list = [];
      }
      files.set(path, list);
    }
    return list;
  };
  const user = (address: bigint): { name: string; offset: number } | undefined => {
    const p = pid();
    if (p === undefined) return undefined;
    const found = (list: Mapping[]) => list.find((m) => address >= m.start && address < m.end);
    let m = mappings ? found(mappings) : undefined;
    if (!m) {
      mappings = readMappings(p);
      m = found(mappings);
    }
    if (!m) return undefined;
    const offset = Number(address - m.start + m.offset);
    let best: FunctionSymbol | undefined;
    for (const s of fileSymbols(m.path)) {
      if (s.offset > offset) break;
      best = s;
    }
    return best ? { name: best.name, offset: offset - best.offset } : undefined;
  };
  return {
    username(uid) {
      if (!users) {
        users = new Map();
        try {
          for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
            const [name, , id] = line.split(":");
            if (name && id && /^\d+$/.test(id)) users.set(BigInt(id), name);
          }
        } catch {
          // no passwd file: uids print as numbers
        }
      }
      return users.get(uid);
    },
    symbol(space, address) {
      if (space === "user") return user(address);
      try {
        kernel ??= new KernelSymbolizer();
      } catch {
        return undefined;
      }
      const s = kernel.symbolize(address);
      if (s === undefined) return undefined;
      const m = /^(.*)\+0x([0-9a-f]+)$/.exec(s);
      return m ? { name: m[1] as string, offset: Number.parseInt(m[2] as string, 16) } : { name: s, offset: 0 };
    },
  };
}
