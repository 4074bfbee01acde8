/**
 * Names for the values scripts print as names, on Linux: kernel addresses through /proc/kallsyms (ksym),
 * user addresses through the traced process's /proc/PID/maps and the mapped file's ELF symbols (usym),
 * uids through /etc/passwd (username). Each table is read on first use.
 */
import { readFileSync, readlinkSync, realpathSync } from "node:fs";
import { type FunctionSymbol, functionSymbols, KernelSymbolizer } from "../kernel/index.js";
import { parseElf } from "../object/elf.js";
import type { Symbolizer } from "./values.js";

const ET_EXEC = 2;

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

/** For a non-PIE executable (ET_EXEC), the file offset of a link-time address, as its sections place it. */
function linkTimeOffsets(path: string): ((address: bigint) => number | undefined) | undefined {
  try {
    const elf = parseElf(readFileSync(path));
    if (elf.type !== ET_EXEC) return undefined;
    return (address) => {
      const a = Number(address);
      const s = elf.sections.find((x) => x.addr !== 0 && a >= x.addr && a < x.addr + x.size);
      return s ? a - s.addr + s.offset : undefined;
    };
  } catch {
    return undefined;
  }
}

/**
 * `pid()` is the process whose user addresses usym() names (the -c child or the -p process), `program` the
 * -c command's file: while the run lasts, a non-PIE command's own addresses are named from the file even
 * if the process has already exited (bpftrace, reading /proc at once, names them while it lives).
 */
export function linuxSymbolizer(pid: () => number | undefined, program?: string): Symbolizer {
  let kernel: KernelSymbolizer | undefined;
  let users: Map<bigint, string> | undefined;
  let mappings: Mapping[] | undefined;
  let settled = false;
  let linkTime: ((address: bigint) => number | undefined) | undefined | null = null;
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
      const live = readMappings(p);
      if (live.length > 0) mappings = live;
      m = found(live);
    }
    if (m) return nameAt(m.path, Number(address - m.start + m.offset));
    if (settled || program === undefined) return undefined;
    if (linkTime === null) linkTime = linkTimeOffsets(program);
    const offset = linkTime?.(address);
    return offset === undefined ? undefined : nameAt(program, offset);
  };
  const nameAt = (path: string, offset: number): { name: string; offset: number } | undefined => {
    let best: FunctionSymbol | undefined;
    for (const s of fileSymbols(path)) {
      if (s.offset > offset) break;
      best = s;
    }
    return best ? { name: best.name, offset: offset - best.offset } : undefined;
  };
  return {
    follow() {
      // the held child execs its command right after its release: wait (≤ 100 ms) for the exec, then
      // read its mappings, so that events handled after a quick command exited still name its functions
      const p = pid();
      if (p === undefined) return;
      const exe = (): string | undefined => {
        try {
          return readlinkSync(`/proc/${p}/exe`);
        } catch {
          return undefined;
        }
      };
      // the -c child is held by /bin/sh (child-linux.ts) until it execs the command
      const shell = realpathSync("/bin/sh");
      const nap = new Int32Array(new SharedArrayBuffer(4));
      for (let i = 0; i < 500 && exe() === shell; i++) Atomics.wait(nap, 0, 0, 0.2);
      // the exe link changes before the new image is mapped: wait for a mapping of it too
      const image = exe();
      for (let i = 0; i < 500 && image !== undefined; i++) {
        const list = readMappings(p);
        if (list.length === 0 || list.some((m) => m.path === image)) {
          if (list.length > 0) mappings = list;
          return;
        }
        Atomics.wait(nap, 0, 0, 0.2);
      }
    },
    settle() {
      // bpftrace names addresses at its final dump from live processes only (an exited one's print in hex)
      mappings = undefined;
      settled = true;
    },
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
