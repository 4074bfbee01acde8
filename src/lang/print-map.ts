/**
 * Printing a map as bpftrace 0.17 prints it (print() and the dump at exit): element order, per-CPU values
 * merged, hist/lhist bars, stats, and the `-f json` form. The rules are in ../shared/bpftrace/FORMAT_RULES.md.
 */
import type { CompiledMap } from "./layout.js";
import { storageSize } from "./types.js";
import { type DataValue, data, decode, json, type PrintContext, signed, text, type Value } from "./values.js";

/** One element as read from the BPF map: its key bytes and its value bytes (one per CPU for per-CPU maps). */
export interface RawEntry {
  readonly key: Uint8Array;
  readonly values: readonly Uint8Array[];
}

export interface PrintOptions {
  readonly top?: number;
  readonly div?: number;
  readonly json: boolean;
  readonly strlen: number;
  readonly context?: PrintContext;
}

interface Element {
  readonly keyBytes: Uint8Array;
  readonly key: readonly Value[] | undefined;
  /** Sort value and printed value(s). */
  sort: bigint;
  value?: Value;
  count?: bigint;
  total?: bigint;
  buckets?: Map<number, bigint>;
}

const u64 = (b: Uint8Array, at: number): bigint => new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(at, true);
const i64 = (b: Uint8Array, at: number): bigint => BigInt.asIntN(64, u64(b, at));

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return a.length - b.length;
}

/** Key order for maps of non-numeric values: element by element, integers unsigned, strings bytewise. */
function compareKeys(a: readonly Value[], b: readonly Value[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareValue(a[i] as Value, b[i] as Value);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

function compareValue(a: Value, b: Value): number {
  if (typeof a === "bigint" && typeof b === "bigint") {
    const x = BigInt.asUintN(64, a);
    const y = BigInt.asUintN(64, b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a instanceof Uint8Array && b instanceof Uint8Array) return compareBytes(a, b);
  if (typeof a === "object" && typeof b === "object" && "tuple" in a && "tuple" in b) return compareKeys(a.tuple, b.tuple);
  return 0;
}

function elements(map: CompiledMap, entries: readonly RawEntry[], strlen: number): Element[] {
  const agg = map.value.k === "agg" ? map.value : undefined;
  const keyOf = (bytes: Uint8Array): readonly Value[] | undefined => {
    if (!map.key) return undefined;
    let at = 0;
    return map.key.map((t) => {
      const v = decode(bytes, at, t, strlen);
      at += storageSize(t, strlen);
      return v;
    });
  };
  if (agg && (agg.fn === "hist" || agg.fn === "lhist")) {
    const byKey = new Map<string, Element>();
    for (const e of entries) {
      const keyBytes = e.key.subarray(0, map.keySize);
      const id = Array.from(keyBytes).join(",");
      let el = byKey.get(id);
      if (!el) {
        el = { keyBytes, key: keyOf(keyBytes), sort: 0n, buckets: new Map() };
        byKey.set(id, el);
      }
      const bucket = Number(u64(e.key, map.keySize));
      const n = e.values.reduce((s, v) => s + u64(v, 0), 0n);
      el.buckets?.set(bucket, (el.buckets.get(bucket) ?? 0n) + n);
      el.sort += n;
    }
    return [...byKey.values()];
  }
  return entries.map((e) => {
    const el: Element = { keyBytes: e.key, key: keyOf(e.key), sort: 0n };
    if (!agg) {
      el.value = signed(decode(e.values[0] as Uint8Array, 0, map.value, strlen));
      el.sort = typeof el.value === "bigint" ? el.value : 0n;
      return el;
    }
    switch (agg.fn) {
      case "count":
      case "sum":
        el.sort = BigInt.asIntN(
          64,
          e.values.reduce((s, v) => s + i64(v, 0), 0n),
        );
        break;
      case "min":
      case "max": {
        const set = e.values.filter((v) => u64(v, 8) !== 0n).map((v) => i64(v, 0));
        el.sort = set.length === 0 ? 0n : set.reduce((m, v) => (agg.fn === "min" ? (v < m ? v : m) : v > m ? v : m));
        break;
      }
      default: {
        el.count = e.values.reduce((s, v) => s + u64(v, 0), 0n);
        el.total = BigInt.asIntN(
          64,
          e.values.reduce((s, v) => s + i64(v, 8), 0n),
        );
        el.sort = el.count === 0n ? 0n : el.total / el.count;
      }
    }
    el.value = el.sort;
    return el;
  });
}

/** The elements in bpftrace's print order, cut to `top`, and the divisor that applies to their values. */
function ordered(map: CompiledMap, entries: readonly RawEntry[], opts: Omit<PrintOptions, "json">): { els: Element[]; div: bigint } {
  const agg = map.value.k === "agg" ? map.value : undefined;
  let els = elements(map, entries, opts.strlen);
  const numeric = !agg ? map.value.k === "int" : true;
  if (numeric) els.sort((a, b) => (a.sort < b.sort ? -1 : a.sort > b.sort ? 1 : compareBytes(a.keyBytes, b.keyBytes)));
  else els.sort((a, b) => compareKeys(a.key ?? [], b.key ?? []));
  const top = agg?.fn === "stats" ? 0 : (opts.top ?? 0);
  if (top > 0) els = els.slice(Math.max(0, els.length - top));
  const div = BigInt(agg?.fn === "stats" || agg?.fn === "lhist" ? 1 : Math.max(1, opts.div ?? 1));
  // a key-less count() that was never written prints as 0
  if (els.length === 0 && !map.key && agg?.fn === "count") els = [{ keyBytes: new Uint8Array(8), key: undefined, sort: 0n, value: 0n }];
  return { els, div };
}

/** The printed form of one map (a print() call or its part of the dump at exit). */
export function printMap(map: CompiledMap, entries: readonly RawEntry[], opts: PrintOptions): string {
  const { els, div } = ordered(map, entries, opts);
  const statsLike = map.value.k === "agg" && (map.value.fn === "stats" || map.value.fn === "avg");
  return opts.json ? jsonMap(map, els, div, opts) : textMap(map, els, div, statsLike, opts);
}

/** One element of a map as data: plain values, count/sum/min/max/avg as `value`, stats, hist/lhist buckets. */
export interface MapElementData {
  readonly key?: readonly DataValue[];
  readonly value?: DataValue;
  readonly stats?: { readonly count: bigint; readonly average: bigint; readonly total: bigint };
  /** Non-empty range of buckets, first to last used; `min`/`max` absent on the open ends. */
  readonly buckets?: readonly { readonly min?: bigint; readonly max?: bigint; readonly count: bigint }[];
}

/** A map's elements as data, in the order print() shows them. */
export function mapData(map: CompiledMap, entries: readonly RawEntry[], opts: Omit<PrintOptions, "json">): MapElementData[] {
  const agg = map.value.k === "agg" ? map.value : undefined;
  const { els, div } = ordered(map, entries, opts);
  return els.map((el) => {
    const key = el.key ? { key: el.key.map((k) => data(signed(k), opts.context)) } : {};
    if (el.buckets && agg) {
      const range = bucketRange(el.buckets);
      const buckets = [];
      for (let i = range?.[0] ?? 0; range && i <= range[1]; i++)
        buckets.push({ ...bucketSpan(i, agg), count: (el.buckets.get(i) ?? 0n) / div });
      return { ...key, buckets };
    }
    if (agg?.fn === "stats") return { ...key, stats: { count: el.count ?? 0n, average: el.sort, total: el.total ?? 0n } };
    const v = el.value ?? 0n;
    return { ...key, value: data(typeof v === "bigint" ? v / div : v, opts.context) };
  });
}

/** A bucket's true bounds (hist: powers of two; lhist: its steps), open ends without one. */
function bucketSpan(index: number, agg: AggTy): { min?: bigint; max?: bigint } {
  if (agg.fn === "hist") {
    if (index === 0) return { max: -1n };
    if (index === 1) return { min: 0n, max: 0n };
    return { min: 1n << BigInt(index - 2), max: (1n << BigInt(index - 1)) - 1n };
  }
  const l = agg.lhist as { min: bigint; max: bigint; step: bigint };
  const last = Number((l.max - l.min) / l.step) + 1;
  if (index === 0) return { max: l.min - 1n };
  if (index === last) return { min: l.max };
  const lo = l.min + BigInt(index - 1) * l.step;
  return { min: lo, max: lo + l.step - 1n };
}

function keyText(el: Element, context?: PrintContext): string {
  return el.key ? `[${el.key.map((k) => text(signed(k), context, true)).join(", ")}]` : "";
}

function textMap(map: CompiledMap, els: readonly Element[], div: bigint, statsLike: boolean, opts: PrintOptions): string {
  const agg = map.value.k === "agg" ? map.value : undefined;
  if (els.length === 0) return statsLike ? "\n\n" : "\n";
  let out = "";
  for (const el of els) {
    const head = `${map.name}${keyText(el, opts.context)}: `;
    if (el.buckets && agg) {
      out += `${head}\n${histLines(el.buckets, agg, div)}\n`;
    } else if (agg?.fn === "stats") {
      out += `${head}count ${el.count}, average ${el.sort}, total ${el.total}\n`;
    } else {
      const v = el.value ?? 0n;
      out += `${head}${text(typeof v === "bigint" ? v / div : v, opts.context)}\n`;
    }
  }
  return statsLike ? `${out}\n` : out;
}

function jsonMap(map: CompiledMap, els: readonly Element[], div: bigint, opts: PrintOptions): string {
  const agg = map.value.k === "agg" ? map.value : undefined;
  const kind = agg?.fn === "hist" || agg?.fn === "lhist" ? "hist" : agg?.fn === "stats" || agg?.fn === "avg" ? "stats" : "map";
  if (els.length === 0) return "";
  const valueJson = (el: Element): string => {
    if (el.buckets && agg) return `[${histBuckets(el.buckets, agg, div).join(", ")}]`;
    if (agg?.fn === "stats") return `{"count": ${el.count}, "average": ${el.sort}, "total": ${el.total}}`;
    const v = el.value ?? 0n;
    return json(typeof v === "bigint" ? v / div : v, opts.context);
  };
  const body = map.key ? `{${els.map((el) => `${jsonKey(el, opts.context)}: ${valueJson(el)}`).join(", ")}}` : valueJson(els[0] as Element);
  return `{"type": "${kind}", "data": {"${map.name}": ${body}}}\n`;
}

function jsonKey(el: Element, context?: PrintContext): string {
  const parts = (el.key ?? []).map((k) => {
    const s = json(signed(k), context, true);
    return s.startsWith('"') ? s.slice(1, -1) : s;
  });
  return `"${parts.join(",")}"`;
}

// ---- hist / lhist ----

type AggTy = { fn: string; lhist?: { min: bigint; max: bigint; step: bigint } };

/** Number with bpftrace's K/M/G suffix when it is an exact multiple. */
function suffixed(n: bigint): string {
  if (n !== 0n && n % (1n << 30n) === 0n) return `${n >> 30n}G`;
  if (n !== 0n && n % (1n << 20n) === 0n) return `${n >> 20n}M`;
  if (n !== 0n && n % 1024n === 0n) return `${n >> 10n}K`;
  return n.toString();
}

function bucketLabel(index: number, agg: AggTy): string {
  if (agg.fn === "hist") {
    if (index === 0) return "(..., 0)";
    if (index === 1) return "[0]";
    if (index === 2) return "[1]";
    return `[${suffixed(1n << BigInt(index - 2))}, ${suffixed(1n << BigInt(index - 1))})`;
  }
  const l = agg.lhist as { min: bigint; max: bigint; step: bigint };
  const last = Number((l.max - l.min) / l.step) + 1;
  if (index === 0) return `(..., ${suffixed(l.min)})`;
  if (index === last) return `[${suffixed(l.max)}, ...)`;
  const lo = l.min + BigInt(index - 1) * l.step;
  return `[${suffixed(lo)}, ${suffixed(lo + l.step)})`;
}

/** The range of buckets printed: first to last non-empty. */
function bucketRange(buckets: Map<number, bigint>): [number, number] | undefined {
  const used = [...buckets.entries()].filter(([, n]) => n > 0n).map(([i]) => i);
  if (used.length === 0) return undefined;
  return [Math.min(...used), Math.max(...used)];
}

function histLines(buckets: Map<number, bigint>, agg: AggTy, div: bigint): string {
  const range = bucketRange(buckets);
  if (!range) return "";
  let max = 0n;
  for (let i = range[0]; i <= range[1]; i++) if ((buckets.get(i) ?? 0n) > max) max = buckets.get(i) ?? 0n;
  let out = "";
  for (let i = range[0]; i <= range[1]; i++) {
    const n = buckets.get(i) ?? 0n;
    // bpftrace: (int)(count / (float)max_count * 52), in float
    const bar = max === 0n ? 0 : Math.trunc(Math.fround(Math.fround(Math.fround(Number(n)) / Math.fround(Number(max))) * 52));
    out += `${bucketLabel(i, agg).padEnd(16)}${(n / div).toString().padStart(8)} |${"@".repeat(bar).padEnd(52)}|\n`;
  }
  return out;
}

function histBuckets(buckets: Map<number, bigint>, agg: AggTy, div: bigint): string[] {
  const range = bucketRange(buckets);
  if (!range) return [];
  const out: string[] = [];
  for (let i = range[0]; i <= range[1]; i++) {
    const count = (buckets.get(i) ?? 0n) / div;
    out.push(`{${bucketBounds(i, agg)}"count": ${count}}`);
  }
  return out;
}

function bucketBounds(index: number, agg: AggTy): string {
  if (agg.fn === "hist") {
    if (index === 0) return `"max": -1, `;
    if (index === 1) return `"min": 0, "max": 0, `;
    // bpftrace computes these in int: 1 << 31 wraps negative and 1 << 32 is 1 << 0
    const min = BigInt.asIntN(32, 1n << BigInt(index - 2));
    const max = BigInt.asIntN(32, (1n << BigInt((index - 1) & 31)) - 1n);
    return `"min": ${min}, "max": ${max}, `;
  }
  const l = agg.lhist as { min: bigint; max: bigint; step: bigint };
  const last = Number((l.max - l.min) / l.step) + 1;
  if (index === 0) return `"max": ${l.min - 1n}, `;
  if (index === last) return `"min": ${l.max}, `;
  const lo = l.min + BigInt(index - 1) * l.step;
  return `"min": ${lo}, "max": ${lo + l.step - 1n}, `;
}
