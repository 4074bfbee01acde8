/**
 * Decoding the bytes programs write (map keys and values, event arguments) into printable values, as
 * bpftrace prints them in text and in `-f json`.
 */
import { cString, escapeBuffer, latin1 } from "./format.js";
import { MAX_STACK_DEPTH, type SymKind, storageSize, type Ty } from "./types.js";

export type Value =
  | bigint
  | Uint8Array
  | { readonly tuple: readonly Value[] }
  | { readonly ts: bigint; readonly format: string }
  | { readonly sym: SymKind; readonly value: bigint; readonly depth?: number }
  | { readonly inet: number; readonly address: Uint8Array }
  | { readonly buf: Uint8Array };

/** Names for addresses and ids: kernel and user symbols, user names (undefined: none known). */
export interface Symbolizer {
  symbol(space: "kernel" | "user", address: bigint): { readonly name: string; readonly offset: number } | undefined;
  username(uid: bigint): string | undefined;
  /** The followed process was just released: learn its address space while it runs. */
  follow?(): void;
  /** Events are all handled: from now on name user addresses of live processes only, as bpftrace's dump does. */
  settle?(): void;
}

/**
 * What printing needs from the machine: clocks for strftime(), names for ksym()/usym()/username and
 * stack frames, and the stacks themselves (a stack map's frames by id).
 */
export interface PrintContext {
  /** Epoch milliseconds now, and the monotonic ns now (read together). */
  readonly wallMs: number;
  readonly monoNs: bigint;
  readonly symbols?: Symbolizer;
  readonly stack?: (kind: "kstack" | "ustack", depth: number, id: bigint) => readonly bigint[];
}

const u64At = (bytes: Uint8Array, at: number): bigint => new DataView(bytes.buffer, bytes.byteOffset + at, 8).getBigUint64(0, true);

export function decode(bytes: Uint8Array, at: number, t: Ty, strlen: number): Value {
  switch (t.k) {
    case "int": {
      const raw = u64At(bytes, at);
      return t.signed ? BigInt.asIntN(64, raw) : raw;
    }
    case "ptr":
    case "sptr":
      return u64At(bytes, at);
    case "ts":
      return { ts: u64At(bytes, at), format: t.format };
    case "sym":
      return { sym: t.kind, value: u64At(bytes, at), ...(t.depth !== undefined ? { depth: t.depth } : {}) };
    case "inet":
      return { inet: Number(u64At(bytes, at)), address: bytes.slice(at + 8, at + 24) };
    case "buf": {
      const n = Math.min(Number(u64At(bytes, at)), t.size);
      return { buf: bytes.slice(at + 8, at + 8 + n) };
    }
    case "str":
      return cString(bytes.subarray(at, at + storageSize(t, strlen)));
    case "tuple": {
      let off = at;
      return {
        tuple: t.elems.map((e) => {
          const v = decode(bytes, off, e, strlen);
          off += storageSize(e, strlen);
          return v;
        }),
      };
    }
    default:
      return 0n;
  }
}

/** Map values print signed whatever their type (bpftrace: 0xffffffffffffffff → -1). */
export function signed(v: Value): Value {
  return typeof v === "bigint" ? BigInt.asIntN(64, v) : v;
}

/** A value as printed; `key` for a map key, where stack frames are indented 4 spaces (8 elsewhere). */
export function text(v: Value, context?: PrintContext, key = false): string {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return latin1(v);
  if ("tuple" in v) return `(${v.tuple.map((x) => text(x, context, key)).join(", ")})`;
  if ("sym" in v) return symbolText(v, context, key ? 4 : 8);
  if ("inet" in v) return inetText(v.inet, v.address);
  if ("buf" in v) return escapeBuffer(v.buf);
  return strftime(v.format, v.ts, context);
}

const AF_INET = 2;
const AF_INET6 = 10;

/** inet_ntop's text: dotted IPv4, or IPv6 with the longest run of zero groups as "::" (RFC 5952). */
function inetText(af: number, a: Uint8Array): string {
  if (af === AF_INET) return `${a[0]}.${a[1]}.${a[2]}.${a[3]}`;
  if (af !== AF_INET6) return "";
  const groups = Array.from({ length: 8 }, (_, i) => (((a[2 * i] as number) << 8) | (a[2 * i + 1] as number)).toString(16));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  if (best < 0) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLen).join(":")}`;
}

const hex = (n: bigint): string => `0x${n.toString(16)}`;

/**
 * Names as bpftrace prints them: a symbol without its offset, a stack as one "    name+offset" line per
 * frame after a newline; unresolved addresses in hex, uids without a name as numbers.
 */
function symbolText(
  v: { readonly sym: SymKind; readonly value: bigint; readonly depth?: number },
  context: PrintContext | undefined,
  indent: number,
): string {
  const symbols = context?.symbols;
  switch (v.sym) {
    case "username":
      return symbols?.username(v.value) ?? v.value.toString();
    case "ksym":
    case "usym":
      return symbols?.symbol(v.sym === "ksym" ? "kernel" : "user", v.value)?.name ?? hex(v.value);
    default: {
      const space = v.sym === "kstack" ? "kernel" : "user";
      const depth = v.depth ?? MAX_STACK_DEPTH;
      const frames = BigInt.asIntN(64, v.value) < 0n ? [] : (context?.stack?.(v.sym, depth, v.value) ?? []);
      const lines = frames.map((ip) => {
        const s = symbols?.symbol(space, ip);
        return `${" ".repeat(indent)}${s ? `${s.name}+${s.offset}` : hex(ip)}\n`;
      });
      return `\n${lines.join("")}`;
    }
  }
}

export function json(v: Value, context?: PrintContext, key = false): string {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return jsonString(v);
  if ("tuple" in v) return `[${v.tuple.map((x) => json(x, context, key)).join(",")}]`;
  if ("sym" in v || "inet" in v || "buf" in v) return jsonString(new TextEncoder().encode(text(v, context, key)));
  // bpftrace writes strftime() values unquoted
  return strftime(v.format, v.ts, context);
}

/** A value as the API hands it over: integers as bigints, strings and names as text, tuples as arrays. */
export type DataValue = bigint | string | readonly DataValue[];

const UTF8 = new TextDecoder();

export function data(v: Value, context?: PrintContext): DataValue {
  if (typeof v === "bigint") return v;
  if (v instanceof Uint8Array) return UTF8.decode(v);
  if ("tuple" in v) return v.tuple.map((x) => data(x, context));
  return text(v, context);
}

/** bpftrace's JSON string escaping: bytes ≥ 0x80 come out as \uffffffXX (a sign-extended char). */
export function jsonString(bytes: Uint8Array): string {
  let s = '"';
  for (const b of bytes) {
    if (b === 0x22) s += '\\"';
    else if (b === 0x5c) s += "\\\\";
    else if (b === 0x0a) s += "\\n";
    else if (b === 0x0d) s += "\\r";
    else if (b === 0x09) s += "\\t";
    else if (b < 0x20) s += `\\u${b.toString(16).padStart(4, "0")}`;
    else if (b >= 0x80) s += `\\uffffff${b.toString(16)}`;
    else s += String.fromCharCode(b);
  }
  return `${s}"`;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** C strftime in local time for a monotonic-clock timestamp, plus bpftrace's %f (microseconds). */
export function strftime(format: string, monoNs: bigint, context?: PrintContext): string {
  const c = context ?? { wallMs: Date.now(), monoNs };
  const wallNs = BigInt(Math.round(c.wallMs)) * 1000000n - c.monoNs + monoNs;
  const d = new Date(Number(wallNs / 1000000n));
  const micros = Number((wallNs / 1000n) % 1000000n);
  const p2 = (n: number): string => String(n).padStart(2, "0");
  return format.replace(/%([a-zA-Z%])/g, (_, f: string) => {
    switch (f) {
      case "Y":
        return String(d.getFullYear());
      case "m":
        return p2(d.getMonth() + 1);
      case "d":
        return p2(d.getDate());
      case "H":
        return p2(d.getHours());
      case "M":
        return p2(d.getMinutes());
      case "S":
        return p2(d.getSeconds());
      case "f":
        return String(micros).padStart(6, "0");
      case "y":
        return p2(d.getFullYear() % 100);
      case "j": {
        const start = new Date(d.getFullYear(), 0, 1);
        return String(Math.floor((d.getTime() - start.getTime()) / 86400000) + 1).padStart(3, "0");
      }
      case "a":
        return DAYS[d.getDay()] as string;
      case "b":
        return MONTHS[d.getMonth()] as string;
      case "s":
        return String(Math.floor(d.getTime() / 1000));
      case "T":
        return `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
      case "D":
        return `${p2(d.getMonth() + 1)}/${p2(d.getDate())}/${p2(d.getFullYear() % 100)}`;
      case "F":
        return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}`;
      case "%":
        return "%";
      default:
        return `%${f}`;
    }
  });
}
