/** Attach points of the tracing language: their kinds, bpftrace's aliases, and the canonical `probe` text. */

export type AttachPoint =
  | { readonly type: "BEGIN" | "END"; readonly name: string }
  | { readonly type: "interval" | "profile"; readonly unit: string; readonly value: number; readonly name: string }
  | { readonly type: "software" | "hardware"; readonly event: string; readonly count: number; readonly name: string }
  | { readonly type: "tracepoint"; readonly category: string; readonly event: string; readonly name: string }
  | { readonly type: "rawtracepoint"; readonly event: string; readonly name: string }
  | { readonly type: "uprobe" | "uretprobe"; readonly binary: string; readonly func: string; readonly name: string }
  | { readonly type: "usdt"; readonly binary: string; readonly provider: string; readonly probe: string; readonly name: string }
  | { readonly type: "kprobe" | "kretprobe" | "kfunc" | "kretfunc"; readonly func: string; readonly name: string };

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
      if (rest.length !== 2) return { error: `${kind} probe type requires 2 arguments, found ${rest.length}` };
      const [unit, value] = rest as [string, string];
      if (!TIME_UNITS.has(unit)) return { error: `${unit} is not an accepted unit of time` };
      if (!/^[0-9]+$/.test(value)) return { error: `${kind} frequency should be a positive integer` };
      return { type: kind, unit, value: Number(value), name };
    }
    case "software":
    case "hardware": {
      if (rest.length < 1 || rest.length > 2) return { error: `${kind} probe type requires 1 or 2 arguments` };
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
