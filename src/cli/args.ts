/** A small, strict command-line parser: known flags only, values checked, errors say which flag. */
import { TsbpfError } from "../errors.js";

export class UsageError extends TsbpfError {
  constructor(message: string) {
    super("EUSAGE", message);
  }
}

export interface FlagSpec {
  /** Takes a value (`--mem HEX`); otherwise a boolean switch. */
  value?: boolean;
  /** Allowed values, when the set is closed. */
  choices?: readonly string[];
  /** Short alias, e.g. "-o". */
  short?: string;
}

export interface Parsed {
  flags: Map<string, string | true>;
  positional: string[];
}

export function parseArgs(argv: readonly string[], spec: Readonly<Record<string, FlagSpec>>): Parsed {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  const byShort = new Map(Object.entries(spec).flatMap(([name, s]) => (s.short ? [[s.short, name] as const] : [])));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positional.push(arg);
      continue;
    }
    const [rawName, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const name = rawName.startsWith("--") ? rawName.slice(2) : byShort.get(rawName);
    const s = name === undefined ? undefined : spec[name];
    if (name === undefined || s === undefined) throw new UsageError(`unknown option ${rawName}`);
    if (!s.value) {
      if (inline !== undefined) throw new UsageError(`option --${name} takes no value`);
      flags.set(name, true);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`option --${name} needs a value`);
    if (s.choices && !s.choices.includes(value))
      throw new UsageError(`option --${name} must be one of ${s.choices.join(", ")} (got '${value}')`);
    flags.set(name, value);
  }
  return { flags, positional };
}

export function stringFlag(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === "string" ? v : undefined;
}

export function intFlag(p: Parsed, name: string): number | undefined {
  const v = stringFlag(p, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`option --${name} needs a non-negative integer (got '${v}')`);
  const n = Number(v);
  // past 2^53 a number no longer holds every integer: '9007199254740993' would silently become ...992
  if (!Number.isSafeInteger(n)) throw new UsageError(`option --${name}: ${v} is larger than ${Number.MAX_SAFE_INTEGER}`);
  return n;
}
