/**
 * Value types of the tracing language and their layout in BPF memory: integers are 8 bytes, strings a
 * fixed `strlen` (BPFTRACE_STRLEN, rounded up to 8), tuples their elements one after another.
 */

export type AggFn = "count" | "sum" | "min" | "max" | "avg" | "stats" | "hist" | "lhist";

/** Frames a stack keeps at most (the kernel's PERF_MAX_STACK_DEPTH, bpftrace's default). */
export const MAX_STACK_DEPTH = 127;

export type SymKind = "ksym" | "usym" | "username" | "kstack" | "ustack";

export type Ty =
  | { readonly k: "int"; readonly size: 1 | 2 | 4 | 8; readonly signed: boolean }
  /** A string; `user` when read from user memory (bpftrace's address space, which comparisons check). */
  | { readonly k: "str"; readonly size: number; readonly user?: boolean }
  | { readonly k: "tuple"; readonly elems: readonly Ty[] }
  /** A map value made by an aggregation function; lhist keeps its bounds. */
  | { readonly k: "agg"; readonly fn: AggFn; readonly lhist?: { readonly min: bigint; readonly max: bigint; readonly step: bigint } }
  /** strftime(): a nanosecond timestamp that user space formats. */
  | { readonly k: "ts"; readonly format: string }
  /**
   * A word user space turns into names when it prints it: an address (ksym(), usym()), a uid (username),
   * or a stack id in the script's stack map (kstack, ustack; `depth` frames at most).
   */
  | { readonly k: "sym"; readonly kind: SymKind; readonly depth?: number }
  /** A pointer (`depth` levels) to an integer, as `(uint16 *)x` makes one; arithmetic scales by what it points to. */
  | { readonly k: "ptr"; readonly size: 1 | 2 | 4 | 8; readonly signed: boolean; readonly depth: number }
  /** A pointer to a kernel struct or union (BTF type id `btf`); `->` reads its members. */
  | { readonly k: "sptr"; readonly btf: number; readonly name: string }
  /** A struct or union inside another one, at an address known while the program runs; `.` goes into it. */
  | { readonly k: "sref"; readonly btf: number; readonly name: string }
  /** ntop(): an address family word and 16 address bytes (IPv4 in the first 4). */
  | { readonly k: "inet" }
  /** buf(): a length word and up to `size` bytes. */
  | { readonly k: "buf"; readonly size: number }
  | { readonly k: "none" };

export const INT64: Ty = { k: "int", size: 8, signed: true };
export const UINT64: Ty = { k: "int", size: 8, signed: false };
export const NONE: Ty = { k: "none" };

/** Bytes a value of this type occupies in keys, map values and events. */
export function storageSize(t: Ty, strlen: number): number {
  switch (t.k) {
    case "int":
    case "ts":
    case "sym":
    case "ptr":
    case "sptr":
      return 8;
    case "str":
      // strings are capped at strlen; a shorter type (comm, a literal, a char array) keeps its own size
      return roundUp8(Math.min(t.size, strlen));
    case "inet":
      return 24;
    case "buf":
      return 8 + roundUp8(t.size);
    case "tuple":
      return t.elems.reduce((n, e) => n + storageSize(e, strlen), 0);
    default:
      return 0;
  }
}

/** Integers and pointers: what arithmetic, comparisons and %d take. */
export function isNumeric(t: Ty): boolean {
  return t.k === "int" || t.k === "ptr" || t.k === "sptr";
}

/** Bytes a pointer's arithmetic steps by: its target's size (another pointer's for `**`). */
export function pointeeSize(t: Ty & { k: "ptr" }): number {
  return t.depth > 1 ? 8 : t.size;
}

/** Types whose values are one 64-bit word, computed in r0 and kept in stack slots. */
export function isWord(t: Ty): boolean {
  return t.k === "int" || t.k === "ts" || t.k === "sym" || t.k === "ptr" || t.k === "sptr";
}

export function roundUp8(n: number): number {
  return (n + 7) & ~7;
}

/** Where each element of a tuple starts. */
export function tupleOffsets(t: Ty & { k: "tuple" }, strlen: number): number[] {
  let at = 0;
  return t.elems.map((e) => {
    const here = at;
    at += storageSize(e, strlen);
    return here;
  });
}

/** bpftrace's name of a type in messages: int64, unsigned int64, string[4], (int64,string[3]), count. */
export function typeName(t: Ty): string {
  switch (t.k) {
    case "int":
      return `${t.signed ? "" : "unsigned "}int${t.size * 8}`;
    case "str":
      return `string[${t.size}]`;
    case "tuple":
      return `(${t.elems.map(typeName).join(",")})`;
    case "agg":
      return t.fn;
    case "ts":
      return "timestamp";
    case "sym":
      return t.kind;
    case "ptr":
      return `${t.signed ? "" : "unsigned "}int${t.size * 8} ${"*".repeat(t.depth)}`;
    case "sptr":
      return `struct ${t.name} *`;
    case "sref":
      return `struct ${t.name}`;
    case "inet":
      return "inet";
    case "buf":
      return `buffer[${t.size}]`;
    default:
      return "none";
  }
}

/** Whether values of the two types can live in the same map slot (strings of any length, ints of any size). */
export function compatible(a: Ty, b: Ty): boolean {
  if (a.k !== b.k) return false;
  if (a.k === "tuple" && b.k === "tuple")
    return a.elems.length === b.elems.length && a.elems.every((e, i) => compatible(e, b.elems[i] as Ty));
  if (a.k === "agg" && b.k === "agg") return a.fn === b.fn;
  if (a.k === "sym" && b.k === "sym") return a.kind === b.kind;
  return true;
}

/** The wider of two compatible types (longer strings; for ints the first's signedness, 8 bytes). */
export function widen(a: Ty, b: Ty): Ty {
  if ((a.k === "str" && b.k === "str") || (a.k === "buf" && b.k === "buf")) return a.size >= b.size ? a : b;
  if (a.k === "int" && b.k === "int") return { k: "int", size: 8, signed: a.signed };
  if (a.k === "tuple" && b.k === "tuple") return { k: "tuple", elems: a.elems.map((e, i) => widen(e, b.elems[i] as Ty)) };
  return a;
}

/** Aggregations whose per-CPU values are summed: count/sum; min/max/avg/stats keep two words. */
export function aggValueSize(fn: AggFn): number {
  return fn === "count" || fn === "sum" || fn === "hist" || fn === "lhist" ? 8 : 16;
}
