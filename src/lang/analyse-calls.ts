/**
 * The analyser's shared state and what it checks of calls: every builtin function's arguments and result
 * type (printf's format against its arguments, aggregations, str/buf/ntop/ksym/kaddr...), and the kernel
 * and probe context scripts read (args->, struct members from BTF). Statements and the other expressions are
 * analyse.ts's.
 */
import type { Expr } from "./ast.js";
import { memberOf, scriptType, structNamed } from "./btf-types.js";
import type { Diagnostic, SourceRange } from "./errors.js";
import { specifierKind, specifiers } from "./format.js";
import { type AttachPoint, type ProbeResolver, PT_REGS, type TracepointField, userSpace } from "./probes.js";
import { type AggFn, INT64, isNumeric, MAX_STACK_DEPTH, NONE, type Ty, typeName, UINT64, widen } from "./types.js";

export interface MapInfo {
  readonly name: string;
  /** Key element types; undefined for a key-less map. */
  key: Ty[] | undefined;
  value: Ty;
}

export interface AnalyseOptions {
  /** Positional parameters $1..$N. */
  readonly params?: readonly string[];
  /** Whether -c gave a child command (cpid). */
  readonly hasChild?: boolean;
  readonly unsafe?: boolean;
  /** BPFTRACE_STRLEN. */
  readonly strlen?: number;
  /** Expands wildcards and finds what probes name on this system; without it points stay as written. */
  readonly resolver?: ProbeResolver;
}

export const AGG_ARGS: Record<AggFn, number> = { count: 0, sum: 1, min: 1, max: 1, avg: 1, stats: 1, hist: 1, lhist: 4 };
const REG_PROBES = new Set(["kprobe", "kretprobe", "uprobe", "uretprobe", "usdt", "profile", "interval", "software", "hardware"]);

/** The type of a tracepoint field: integers as their size says, char arrays as strings, pointers as u64. */
export function fieldType(f: TracepointField, strlen: number): Ty | undefined {
  if (f.type.startsWith("__data_loc char")) return { k: "str", size: strlen };
  const array = /^(?:const\s+)?(?:unsigned\s+|signed\s+)?char\s*\[(\d+)\]$/.exec(f.type);
  if (array) return { k: "str", size: Number(array[1]) };
  if (f.type.includes("[")) return undefined;
  if (f.size === 1 || f.size === 2 || f.size === 4 || f.size === 8) return { k: "int", size: f.size, signed: f.signed };
  return undefined;
}

/** Storage, diagnostics and calls of the analyser; analyse.ts's Analyser adds statements and expressions. */
export abstract class CallAnalyser {
  protected readonly maps = new Map<string, MapInfo>();
  protected readonly types = new WeakMap<Expr, Ty>();
  protected readonly values = new WeakMap<Expr, bigint>();
  protected readonly offsets = new WeakMap<Expr, number>();
  protected errors: Diagnostic[] = [];
  protected warnings: Diagnostic[] = [];
  protected reporting = false;
  protected vars = new Map<string, Ty>();
  protected loopDepth = 0;
  /** The attach points of the probe being checked. */
  protected points: AttachPoint[] = [];

  constructor(protected readonly opts: AnalyseOptions) {}

  /** The type of an expression, recorded for codegen; `statement` allows calls that return nothing. */
  abstract typeOf(e: Expr, statement?: boolean): Ty;

  /** `(struct NAME *)x`: a pointer to a kernel struct, by the running kernel's BTF. */
  protected structCast(e: Expr & { kind: "cast" }): Ty {
    const t = this.typeOf(e.operand);
    if (!isNumeric(t) && t.k !== "none") this.error(`Casts are not supported for type: "${typeName(t)}"`, e.range);
    const name = e.struct as string;
    const btf = this.opts.resolver?.kernelBtf?.();
    const id = btf ? structNamed(btf, name) : undefined;
    if (id === undefined) {
      this.error(`Unknown struct/union: 'struct ${name}'`, e.range);
      return NONE;
    }
    if (e.pointer !== 1) {
      this.error(`Cannot cast to "struct ${name}${" *".repeat(e.pointer)}": only struct pointers are supported`, e.range);
      return NONE;
    }
    return { k: "sptr", btf: id, name };
  }

  /** A member of a kernel struct: its offset is recorded for codegen, its type from BTF. */
  protected kernelMember(e: Expr & { kind: "field" }, struct: Ty & { k: "sptr" | "sref" }): Ty {
    const btf = this.opts.resolver?.kernelBtf?.();
    const m = btf ? memberOf(btf, struct.btf, e.field) : undefined;
    if (!btf || !m) {
      this.error(`Struct/union of type 'struct ${struct.name}' does not contain a field named '${e.field}'`, e.range);
      return NONE;
    }
    const t = m.bitfield ? undefined : scriptType(btf, m.type);
    if (!t) {
      this.error(`the field ${e.field} of struct ${struct.name} is of a type tsbpf's scripts cannot read yet`, e.range);
      return NONE;
    }
    this.offsets.set(e, m.offset);
    return t;
  }

  /** Whether every point of the probe is of one of these kinds (true for a probe without points). */
  protected probeIs(kinds: readonly string[]): boolean {
    return this.points.every((p) => kinds.includes(p.type));
  }

  protected kindsText(): string {
    return [...new Set(this.points.map((p) => p.type))].join(", ");
  }

  protected tracepointField(e: Expr & { kind: "field" }): Ty {
    if (!this.probeIs(["tracepoint"])) {
      // bpftrace's text, its missing space included; BEGIN and END are its "special" probes
      const kind = this.kindsText().replace(/\b(BEGIN|END)\b/g, "special");
      this.error(`The args builtin can only be used with tracepoint/kfunc/uprobeprobes (${kind} used here)`, e.base.range);
      return NONE;
    }
    let t: Ty | undefined;
    for (const p of this.points) {
      if (p.type !== "tracepoint" || !p.fields) continue;
      const fields = p.fields;
      const f = fields.find((x) => x.name === e.field);
      if (!f) {
        this.error(
          `Struct/union of type 'struct _tracepoint_${p.category}_${p.event}' does not contain a field named '${e.field}'`,
          e.range,
        );
        return NONE;
      }
      const ft = fieldType(f, this.opts.strlen ?? 64);
      if (!ft) {
        this.error(`the field ${e.field} (${f.type}) of ${p.category}:${p.event} is not supported by tsbpf yet`, e.range);
        return NONE;
      }
      t = t ? widen(t, ft) : ft;
    }
    return t ?? UINT64;
  }

  protected error(message: string, range: SourceRange, how: { bare?: boolean } = {}): void {
    if (this.reporting) this.errors.push({ message, range, ...how });
  }

  protected warn(message: string, range: SourceRange): void {
    if (this.reporting) this.warnings.push({ message, range });
  }

  /** A warning bpftrace gives once and without a place. */
  protected warnOnce(message: string): void {
    if (this.reporting && !this.warnings.some((w) => w.message === message))
      this.warnings.push({ message, range: { line: 1, col: 1, endLine: 1, endCol: 1 }, bare: true });
  }

  protected aggregation(call: Expr & { kind: "call" }): Ty {
    const fn = call.name as AggFn;
    const want = AGG_ARGS[fn];
    if (call.args.length !== want) {
      const what = want === 0 ? "no arguments" : want === 1 ? "one argument" : `${want} arguments`;
      this.error(`${fn}() requires ${what} (${call.args.length} provided)`, call.range);
      return { k: "agg", fn };
    }
    for (const arg of call.args) this.expectInt(arg, `${fn}()`);
    this.types.set(call, { k: "agg", fn });
    if (fn !== "lhist") return { k: "agg", fn };
    const [, lo, hi, step] = call.args as [Expr, Expr, Expr, Expr];
    const lit = (e: Expr, what: string): bigint | undefined => {
      const v = constInt(e);
      if (v === undefined) this.error(`lhist() ${what} must be a constant integer`, e.range);
      return v;
    };
    const min = lit(lo, "min");
    const max = lit(hi, "max");
    const st = lit(step, "step");
    if (min === undefined || max === undefined || st === undefined) return { k: "agg", fn };
    if (min < 0n) this.error(`lhist() min must be non-negative (provided min ${min})`, call.range);
    else if (min > max) this.error(`lhist() min must be less than max (provided min ${min} and max ${max})`, call.range);
    else if (st <= 0n) this.error(`lhist() step must be >= 1 (${st} provided)`, call.range);
    else if ((max - min) / st > 1000n) this.error("lhist() too many buckets, must be <= 1000", call.range);
    return { k: "agg", fn, lhist: { min, max, step: st } };
  }

  protected expectInt(e: Expr, what: string): Ty {
    const t = this.typeOf(e);
    if (!isNumeric(t) && t.k !== "none") this.error(`${what} expects an integer (${typeName(t)} provided)`, e.range);
    return t;
  }

  protected call(e: Expr & { kind: "call" }, statement: boolean): Ty {
    const n = e.args.length;
    const arity = (min: number, max: number): boolean => {
      if (n >= min && n <= max) return true;
      const what =
        min === max
          ? `${e.name}() requires ${min === 0 ? "no arguments" : min === 1 ? "one argument" : `${min} arguments`} (${n} provided)`
          : n < min
            ? `${e.name}() requires at least ${min} argument${min === 1 ? "" : "s"} (${n} provided)`
            : `${e.name}() takes up to ${max} arguments (${n} provided)`;
      this.error(what, e.range);
      return false;
    };
    const needStatement = (): void => {
      if (!statement) this.error(`${e.name}() should not be used in an expression`, e.range);
    };
    switch (e.name) {
      case "count":
      case "sum":
      case "min":
      case "max":
      case "avg":
      case "stats":
      case "hist":
      case "lhist":
        this.aggregation(e);
        this.error(`${e.name}() should be directly assigned to a map`, e.range);
        return NONE;
      case "printf":
        needStatement();
        this.printfCall(e);
        return NONE;
      case "exit":
        needStatement();
        arity(0, 0);
        return NONE;
      case "time":
        needStatement();
        if (arity(0, 1) && n === 1 && e.args[0]?.kind !== "str") this.error("time() expects a string literal", e.range);
        return NONE;
      case "print": {
        needStatement();
        if (!arity(1, 3)) return NONE;
        const target = e.args[0] as Expr;
        if (target.kind === "map" && !target.keys) {
          const info = this.maps.get(target.name);
          if (!info) this.error(`Undefined map: ${target.name}`, target.range);
          else if (n > 1 && info.value.k === "agg" && info.value.fn === "stats")
            this.warn("print()'s top and div arguments are ignored when used on stats() maps.", e.range);
          for (const extra of e.args.slice(1))
            if (constInt(extra) === undefined) this.error("print() arguments must be integer literals", extra.range);
          return NONE;
        }
        if (n > 1) this.error(`Non-map print() only takes 1 argument, ${n} found`, e.range);
        const t = this.typeOf(target);
        if (t.k === "agg") this.error("Map print() with keys is not supported", e.range);
        else if (t.k === "ptr") this.error(`${typeName(t)} type passed to print() is not printable`, e.range);
        return NONE;
      }
      case "clear":
      case "zero": {
        needStatement();
        if (!arity(1, 1)) return NONE;
        const target = e.args[0] as Expr;
        if (target.kind !== "map" || target.keys) this.error(`${e.name}() expects a map to be provided`, e.range);
        else if (!this.maps.has(target.name)) this.error(`Undefined map: ${target.name}`, target.range);
        return NONE;
      }
      case "delete": {
        needStatement();
        if (!arity(1, 1)) return NONE;
        const target = e.args[0] as Expr;
        if (target.kind !== "map") this.error("delete() expects a map to be provided", e.range);
        // bpftrace reports an undefined map at the whole call here
        else if (!this.maps.has(target.name)) this.error(`Undefined map: ${target.name}`, e.range);
        else this.typeOf(target);
        return NONE;
      }
      case "strncmp": {
        if (!arity(3, 3)) return INT64;
        const [a, b, len] = e.args as [Expr, Expr, Expr];
        for (const x of [a, b]) if (this.typeOf(x).k !== "str") this.error("strncmp() expects a string", x.range);
        if (constInt(len) === undefined) this.error("strncmp() expects an integer literal as the third argument", len.range);
        return INT64;
      }
      case "strcontains": {
        if (!arity(2, 2)) return INT64;
        for (const x of e.args) if (this.typeOf(x).k !== "str") this.error("strcontains() expects a string", x.range);
        return INT64;
      }
      case "bswap": {
        if (!arity(1, 1)) return INT64;
        const t = this.typeOf(e.args[0] as Expr);
        if (t.k !== "int") {
          this.error(`bswap() only supports integer arguments (${typeName(t)} provided)`, e.range);
          return INT64;
        }
        return t;
      }
      case "str": {
        if (!arity(1, 2)) return { k: "str", size: this.opts.strlen ?? 64 };
        const src = e.args[0] as Expr;
        if (src.kind !== "positional") {
          const t = this.typeOf(src);
          // a char array of a tracepoint record is a string bpftrace takes; a string value is not
          const array = src.kind === "field" && src.base.kind === "builtin" && src.base.name === "args";
          if (!isNumeric(t) && !(t.k === "str" && array) && t.k !== "none")
            this.error(`str() expects an integer or a pointer type as first argument (${typeName(t)} provided)`, e.range);
        }
        if (n === 2) this.expectInt(e.args[1] as Expr, "str()");
        const point = this.points[0];
        const fromUser = src.kind !== "positional" && isNumeric(this.typeOf(src)) && point !== undefined && userSpace(point);
        return { k: "str", size: this.opts.strlen ?? 64, ...(fromUser ? { user: true } : {}) };
      }
      case "strftime": {
        if (!arity(2, 2)) return NONE;
        const fmt = e.args[0] as Expr;
        if (fmt.kind !== "str") {
          this.error("strftime() expects a string literal as the first argument", fmt.range);
          return NONE;
        }
        this.expectInt(e.args[1] as Expr, "strftime()");
        return { k: "ts", format: new TextDecoder().decode(fmt.bytes) };
      }
      case "reg": {
        if (!arity(1, 1)) return UINT64;
        const name = e.args[0] as Expr;
        if (name.kind !== "str") this.error("reg() expects a string literal", name.range);
        else if (!PT_REGS.includes(new TextDecoder().decode(name.bytes)))
          this.error(`'${new TextDecoder().decode(name.bytes)}' is not a valid register on this architecture`, e.range);
        if (!this.probeIs([...REG_PROBES])) this.error(`reg can not be used with "${this.kindsText()}" probes`, e.range);
        return UINT64;
      }
      case "kaddr": {
        if (!arity(1, 1)) return UINT64;
        const name = e.args[0] as Expr;
        if (name.kind !== "str") {
          this.error("kaddr() expects a string literal", name.range);
          return UINT64;
        }
        const text = new TextDecoder().decode(name.bytes);
        const address = this.opts.resolver?.kernelSymbol?.(text);
        if (address === undefined) this.error(`Failed to compile: Failed to resolve kernel symbol: ${text}`, e.range, { bare: true });
        else this.values.set(e, address);
        return UINT64;
      }
      case "uaddr": {
        if (!arity(1, 1)) return UINT64;
        const name = e.args[0] as Expr;
        const point = this.points[0];
        if (name.kind !== "str") {
          this.error("uaddr() expects a string literal", name.range);
          return UINT64;
        }
        if (!point || (point.type !== "uprobe" && point.type !== "uretprobe" && point.type !== "usdt")) {
          this.error(`uaddr can not be used with "${this.kindsText()}" probes`, e.range);
          return UINT64;
        }
        const text = new TextDecoder().decode(name.bytes);
        const sym = this.opts.resolver?.userObject?.(point.binary, text);
        if (!sym) {
          this.error(`Could not resolve symbol: ${point.binary}:${text}`, e.range);
          return UINT64;
        }
        this.values.set(e, sym.address);
        const size = sym.size === 1 || sym.size === 2 || sym.size === 4 ? sym.size : 8;
        return { k: "ptr", size, signed: true, depth: 1 };
      }
      case "ksym":
      case "usym":
        if (arity(1, 1)) this.expectInt(e.args[0] as Expr, `${e.name}()`);
        return { k: "sym", kind: e.name };
      case "ntop": {
        if (!arity(1, 2)) return { k: "inet" };
        const [first, second] = e.args as [Expr, Expr | undefined];
        if (second) this.expectInt(first, "ntop()");
        const addr = this.typeOf(second ?? first);
        if (addr.k !== "int" && !(addr.k === "str" && (addr.size === 4 || addr.size === 16)) && addr.k !== "none")
          this.error(`ntop() expects an integer or array argument, got ${typeName(addr)}`, e.range);
        return { k: "inet" };
      }
      case "buf": {
        const max = this.opts.strlen ?? 64;
        if (!arity(1, 2)) return { k: "buf", size: max };
        const src = this.typeOf(e.args[0] as Expr);
        if (src.k !== "int" && src.k !== "str" && src.k !== "none")
          this.error(`buf() expects an integer or array argument, got ${typeName(src)}`, e.range);
        if (e.args[1] === undefined) {
          if (src.k === "int") this.error("buf() expects a length argument for non-array type integer", e.range);
          return { k: "buf", size: src.k === "str" ? src.size : max };
        }
        this.expectInt(e.args[1], "buf()");
        const n = constInt(e.args[1]);
        return { k: "buf", size: n !== undefined && n >= 0n && n < BigInt(max) ? Number(n) : max };
      }
      case "join": {
        needStatement();
        if (!arity(1, 2)) return NONE;
        this.expectInt(e.args[0] as Expr, "join()");
        const delim = e.args[1];
        if (delim && delim.kind !== "str") this.error("join() expects a string literal as the second argument", delim.range);
        return NONE;
      }
      case "kstack":
      case "ustack": {
        let depth = MAX_STACK_DEPTH;
        if (arity(1, 1)) {
          const n = constInt(e.args[0] as Expr);
          if (n === undefined || n < 1n || n > BigInt(MAX_STACK_DEPTH))
            this.error(`${e.name}() expects an integer literal from 1 to ${MAX_STACK_DEPTH} (the stack's depth)`, e.range);
          else depth = Number(n);
        }
        return { k: "sym", kind: e.name, depth };
      }
      case "system":
      case "cat":
        if (e.name === "system" && !this.opts.unsafe) {
          this.error("system() is an unsafe function being used in safe mode", e.range);
          return NONE;
        }
        needStatement();
        this.printfCall(e);
        return NONE;
      default:
        this.error(`Unknown function: ${e.name}`, { ...e.range, endLine: e.range.line, endCol: e.range.col + e.name.length });
        for (const arg of e.args) this.typeOf(arg);
        return NONE;
    }
  }

  protected printfCall(e: Expr & { kind: "call" }): void {
    const [fmt, ...args] = e.args;
    if (fmt === undefined) {
      this.error(`${e.name}() requires at least one argument (0 provided)`, e.range);
      return;
    }
    if (fmt.kind !== "str") {
      const t = this.typeOf(fmt);
      this.error(`${e.name}() expects a string literal (${t.k === "int" ? "integer" : typeName(t)} provided)`, e.range);
      return;
    }
    const specs = specifiers(new TextDecoder("latin1").decode(fmt.bytes));
    const types = args.map((a) => this.typeOf(a));
    if (types.length > specs.length) {
      this.error(`${e.name}: Too many arguments for format string (${types.length} supplied, ${specs.length} expected)`, e.range);
      return;
    }
    if (types.length < specs.length) {
      this.error(`${e.name}: Not enough arguments for format string (${types.length} supplied, ${specs.length} expected)`, e.range);
      return;
    }
    specs.forEach((s, i) => {
      const t = types[i] as Ty;
      const want = specifierKind(s);
      const have = t.k === "int" ? "integer" : t.k === "str" ? "string" : t.k === "agg" ? t.fn : t.k === "ts" ? "timestamp" : typeName(t);
      const ok =
        want === "integer"
          ? isNumeric(t)
          : want === "string"
            ? t.k === "str" || t.k === "ts" || t.k === "sym" || t.k === "inet"
            : t.k === "buf";
      if (!ok && t.k !== "none")
        this.error(`${e.name}: %${s.conversion} specifier expects a value of type ${want} (${have} supplied)`, e.range);
    });
  }
}

/** The value of an integer literal, possibly negated. */
export function constInt(e: Expr): bigint | undefined {
  if (e.kind === "int") return e.value;
  if (e.kind === "unop" && e.op === "-" && e.operand.kind === "int") return -e.operand.value;
  return undefined;
}
