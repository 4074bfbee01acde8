/**
 * Attach points of the tracing language: their kinds, bpftrace's aliases, and the canonical `probe` text.
 * A point as written may hold wildcards and names a binary or tracepoint by name only; a ProbeResolver (one
 * per operating system) turns it into concrete points that carry what code generation and attaching need.
 */
import type { UsdtArg } from "../kernel/usdt.js";
import type { Btf } from "../object/btf/index.js";

/** One field of a tracepoint's record, as its tracefs `format` file describes it. */
export interface TracepointField {
  readonly name: string;
  /** The C type as written, "const char *" or "char comm[16]". */
  readonly type: string;
  readonly offset: number;
  readonly size: number;
  readonly signed: boolean;
}

export type AttachPoint =
  | { readonly type: "BEGIN" | "END"; readonly name: string }
  | { readonly type: "interval" | "profile"; readonly unit: string; readonly value: number; readonly name: string }
  | { readonly type: "software" | "hardware"; readonly event: string; readonly count: number; readonly name: string }
  | {
      readonly type: "tracepoint";
      readonly category: string;
      readonly event: string;
      readonly name: string;
      /** The record's fields (resolved points). */
      readonly fields?: readonly TracepointField[];
    }
  | { readonly type: "rawtracepoint"; readonly event: string; readonly name: string }
  | {
      readonly type: "uprobe" | "uretprobe";
      readonly binary: string;
      readonly func: string;
      readonly name: string;
      /** The function's file offset in `binary`, which is then a path (resolved points). */
      readonly offset?: number;
    }
  | {
      readonly type: "usdt";
      readonly binary: string;
      readonly provider: string;
      readonly probe: string;
      readonly name: string;
      /** Resolved points: the probe site's file offset, its semaphore's (0: none) and its argument specs. */
      readonly offset?: number;
      readonly semaphoreOffset?: number;
      readonly args?: readonly UsdtArg[];
    }
  | { readonly type: "kprobe" | "kretprobe" | "kfunc" | "kretfunc"; readonly func: string; readonly name: string };

/** x86-64 struct pt_regs, in order: bpftrace's reg() names. */
export const PT_REGS = [
  "r15",
  "r14",
  "r13",
  "r12",
  "bp",
  "bx",
  "r11",
  "r10",
  "r9",
  "r8",
  "ax",
  "cx",
  "dx",
  "si",
  "di",
  "orig_ax",
  "ip",
  "cs",
  "flags",
  "sp",
  "ss",
];

/** The pt_regs words of arg0..arg5 (di, si, dx, cx, r8, r9) and of the return value (ax). */
export const ARG_REGS = ["di", "si", "dx", "cx", "r8", "r9"];

/** Whether the probe's pointers point into user memory (uprobes, USDT, syscall arguments). */
export function userSpace(point: AttachPoint): boolean {
  return (
    point.type === "uprobe" ||
    point.type === "uretprobe" ||
    point.type === "usdt" ||
    (point.type === "tracepoint" && point.category === "syscalls")
  );
}

/** Concrete points for one point as written, and a warning to show about them. */
export type Resolution = { readonly points: readonly AttachPoint[]; readonly warning?: string } | { readonly error: string };

/** Expands wildcards and finds binaries, functions, USDT notes and tracepoint formats on one system. */
export interface ProbeResolver {
  resolve(point: AttachPoint): Resolution;
  /** kaddr(): a kernel symbol's address. */
  kernelSymbol?(name: string): bigint | undefined;
  /** The running kernel's types (BTF), for struct casts and curtask. */
  kernelBtf?(): Btf | undefined;
  /** uaddr(): a data symbol's address and size in a binary. */
  userObject?(path: string, name: string): { readonly address: bigint; readonly size: number } | undefined;
}

const ALIASES: Record<string, string> = {
  t: "tracepoint",
  k: "kprobe",
  kr: "kretprobe",
  u: "uprobe",
  ur: "uretprobe",
  U: "usdt",
  p: "profile",
  i: "interval",
  s: "software",
  h: "hardware",
  rt: "rawtracepoint",
  f: "kfunc",
  fr: "kretfunc",
  fentry: "kfunc",
  fexit: "kretfunc",
};

/** perf's software events (PERF_COUNT_SW_*) by bpftrace's names, and bpftrace's default sample periods. */
export const SOFTWARE_EVENTS: Record<string, { config: number; period: number }> = {
  "cpu-clock": { config: 0, period: 1000000 },
  cpu: { config: 0, period: 1000000 },
  "task-clock": { config: 1, period: 1000000 },
  "page-faults": { config: 2, period: 100 },
  faults: { config: 2, period: 100 },
  "context-switches": { config: 3, period: 1000 },
  cs: { config: 3, period: 1000 },
  "cpu-migrations": { config: 4, period: 1 },
  migrations: { config: 4, period: 1 },
  "minor-faults": { config: 5, period: 100 },
  "major-faults": { config: 6, period: 1 },
  "alignment-faults": { config: 7, period: 1 },
  "emulation-faults": { config: 8, period: 1 },
  dummy: { config: 9, period: 1 },
  "bpf-output": { config: 10, period: 1 },
};

const TIME_UNITS = new Set(["s", "ms", "us", "hz"]);

/** Nanoseconds between firings of an interval or profile probe. */
export function periodNs(p: { unit: string; value: number }): number {
  switch (p.unit) {
    case "s":
      return p.value * 1e9;
    case "ms":
      return p.value * 1e6;
    case "us":
      return p.value * 1e3;
    default:
      return Math.round(1e9 / p.value);
  }
}

/** A probe type as written, aliases ("t", "u", "fentry") spelled out. */
export function probeType(text: string): string {
  return ALIASES[text] ?? text;
}

/** Parses one attach point's text; the error is bpftrace's message. */
export function parseAttachPoint(text: string): AttachPoint | { error: string } {
  if (text === "BEGIN" || text === "END") return { type: text, name: text };
  const parts = splitColons(text);
  const kind = ALIASES[parts[0] as string] ?? (parts[0] as string);
  const rest = parts.slice(1);
  const name = [kind, ...rest].join(":");
  switch (kind) {
    case "interval":
    case "profile": {
      if (rest.length !== 2) return { error: `${kind} probe type requires 2 arguments` };
      const [unit, value] = rest as [string, string];
      if (!TIME_UNITS.has(unit)) return { error: `${unit} is not an accepted unit of time` };
      if (!/^[0-9]+$/.test(value)) return { error: `${kind} frequency should be a positive integer` };
      return { type: kind, unit, value: Number(value), name };
    }
    case "software":
    case "hardware": {
      if (rest.length < 1 || rest.length > 2) return { error: `${kind} probe type requires 1 or 2 arguments` };
      if (kind === "software" && !SOFTWARE_EVENTS[rest[0] as string]) return { error: `${rest[0]} is not a software probe` };
      return { type: kind, event: rest[0] as string, count: rest[1] ? Number(rest[1]) : 0, name };
    }
    case "tracepoint":
      if (rest.length !== 2) return { error: `tracepoint probe type requires 2 arguments, found ${rest.length}` };
      return { type: "tracepoint", category: rest[0] as string, event: rest[1] as string, name };
    case "rawtracepoint":
      if (rest.length !== 1) return { error: `rawtracepoint probe type requires 1 argument, found ${rest.length}` };
      return { type: "rawtracepoint", event: rest[0] as string, name };
    case "uprobe":
    case "uretprobe":
      if (rest.length !== 2) return { error: `${kind} probe type requires 2 arguments, found ${rest.length}` };
      return { type: kind, binary: rest[0] as string, func: rest[1] as string, name };
    case "usdt":
      if (rest.length !== 3 && rest.length !== 2) return { error: `usdt probe type requires 2 or 3 arguments, found ${rest.length}` };
      return {
        type: "usdt",
        binary: rest[0] as string,
        provider: rest.length === 3 ? (rest[1] as string) : "",
        probe: rest[rest.length - 1] as string,
        name,
      };
    case "kprobe":
    case "kretprobe":
    case "kfunc":
    case "kretfunc":
      if (rest.length !== 1) return { error: `${kind} probe type requires 1 argument, found ${rest.length}` };
      return { type: kind, func: rest[0] as string, name };
    default:
      return { error: "Invalid probe type made it to attachpoint parser" };
  }
}

/** Splits on ':' except inside a quoted part. */
function splitColons(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (const c of text) {
    if (c === '"') quoted = !quoted;
    else if (c === ":" && !quoted) {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}
