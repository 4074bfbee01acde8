/**
 * Semantic checks and type inference, as bpftrace's semantic analyser does them: map types are global and
 * fixed by their assignments anywhere in the script (so a pass infers them before the checking pass),
 * variables are per probe and must be assigned before use. Every error is collected, not only the first.
 */
import type { AttachPointNode, Expr, Probe, Script, Stmt } from "./ast.js";
import { memberOf, scriptType, structNamed } from "./btf-types.js";
import { type Diagnostic, type SourceRange, TraceScriptError } from "./errors.js";
import { specifierKind, specifiers } from "./format.js";
import {
  type AttachPoint,
  type ProbeResolver,
  PT_REGS,
  parseAttachPoint,
  type Resolution,
  type TracepointField,
  userSpace,
} from "./probes.js";
import { type AggFn, compatible, INT64, isNumeric, MAX_STACK_DEPTH, NONE, type Ty, typeName, UINT64, widen } from "./types.js";

export interface MapInfo {
  readonly name: string;
  /** Key element types; undefined for a key-less map. */
  key: Ty[] | undefined;
  value: Ty;
}

export interface AnalysedProbe {
  readonly probe: Probe;
  readonly points: readonly AttachPoint[];
  readonly vars: ReadonlyMap<string, Ty>;
}

export interface Analysis {
  readonly maps: ReadonlyMap<string, MapInfo>;
  readonly probes: readonly AnalysedProbe[];
  readonly types: WeakMap<Expr, Ty>;
  /** Values known when compiling: kaddr() and uaddr() addresses. */
  readonly values: WeakMap<Expr, bigint>;
  /** Byte offsets of kernel struct members (`p->field`, `s.field`) in their struct. */
  readonly offsets: WeakMap<Expr, number>;
  readonly warnings: readonly Diagnostic[];
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

const AGG_ARGS: Record<AggFn, number> = { count: 0, sum: 1, min: 1, max: 1, avg: 1, stats: 1, hist: 1, lhist: 4 };
const COMPARE = new Set(["==", "!=", "<", "<=", ">", ">="]);
const ARITHMETIC = new Set(["+", "-", "*", "/", "%"]);

export const BUILTIN_TYPES: Record<string, Ty> = {
  pid: UINT64,
  tid: UINT64,
  uid: UINT64,
  gid: UINT64,
  cpu: UINT64,
  nsecs: UINT64,
  elapsed: UINT64,
  cgroup: UINT64,
  rand: { k: "int", size: 4, signed: false },
  cpid: UINT64,
  curtask: UINT64,
  comm: { k: "str", size: 16 },
  username: { k: "sym", kind: "username" },
  kstack: { k: "sym", kind: "kstack", depth: MAX_STACK_DEPTH },
  ustack: { k: "sym", kind: "ustack", depth: MAX_STACK_DEPTH },
  probe: { k: "str", size: 64 },
};

export function analyse(script: Script, opts: AnalyseOptions = {}): Analysis {
  const a = new Analyser(script, opts);
  return a.run();
}

class Analyser {
  private readonly maps = new Map<string, MapInfo>();
  private readonly types = new WeakMap<Expr, Ty>();
  private readonly values = new WeakMap<Expr, bigint>();
  private readonly offsets = new WeakMap<Expr, number>();
  private errors: Diagnostic[] = [];
  private warnings: Diagnostic[] = [];
  private reporting = false;
  private vars = new Map<string, Ty>();
  private loopDepth = 0;
  /** The attach points of the probe being checked. */
  private points: AttachPoint[] = [];
  private readonly resolved = new Map<AttachPointNode, Resolution>();

  constructor(
    private readonly script: Script,
    private readonly opts: AnalyseOptions,
  ) {}

  run(): Analysis {
    const probes: AnalysedProbe[] = [];
    // two silent passes settle map types used before (in text order) their assignment; the third reports
    for (let pass = 0; pass < 3; pass++) {
      this.reporting = pass === 2;
      this.errors = [];
      this.warnings = [];
      probes.length = 0;
      const seen = new Set<string>();
      for (const probe of this.script.probes) {
        const points: AttachPoint[] = [];
        for (const ap of probe.attachPoints) {
          const parsed = parseAttachPoint(ap.text);
          if ("error" in parsed) {
            this.error(parsed.error, ap.range);
            continue;
          }
          if ((parsed.type === "BEGIN" || parsed.type === "END") && seen.has(parsed.type))
            this.error(`More than one ${parsed.type} probe defined`, ap.range);
          seen.add(parsed.type);
          const r = this.resolve(ap, parsed);
          if ("error" in r) this.error(r.error, ap.range);
          else {
            if (r.warning) this.warn(r.warning, ap.range);
            points.push(...r.points);
          }
        }
        this.points = points;
        this.vars = new Map();
        if (probe.predicate) this.expectInt(probe.predicate, "predicate");
        this.stmts(probe.body);
        probes.push({ probe, points, vars: this.vars });
      }
    }
    if (this.errors.length > 0) throw new TraceScriptError(this.errors, this.script.source);
    return { maps: this.maps, probes, types: this.types, values: this.values, offsets: this.offsets, warnings: this.warnings };
  }

  /** What the system has for a point as written, looked up once per run. */
  private resolve(node: AttachPointNode, point: AttachPoint): Resolution {
    let r = this.resolved.get(node);
    if (!r) {
      r = this.opts.resolver ? this.opts.resolver.resolve(point) : { points: [point] };
      this.resolved.set(node, r);
    }
    return r;
  }

  /** `(struct NAME *)x`: a pointer to a kernel struct, by the running kernel's BTF. */
  private structCast(e: Expr & { kind: "cast" }): Ty {
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
  private kernelMember(e: Expr & { kind: "field" }, struct: Ty & { k: "sptr" | "sref" }): Ty {
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
  private probeIs(kinds: readonly string[]): boolean {
    return this.points.every((p) => kinds.includes(p.type));
  }

  private kindsText(): string {
    return [...new Set(this.points.map((p) => p.type))].join(", ");
  }

  private tracepointField(e: Expr & { kind: "field" }): Ty {
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

  private error(message: string, range: SourceRange, how: { bare?: boolean } = {}): void {
    if (this.reporting) this.errors.push({ message, range, ...how });
  }

  private warn(message: string, range: SourceRange): void {
    if (this.reporting) this.warnings.push({ message, range });
  }

  /** A warning bpftrace gives once and without a place. */
  private warnOnce(message: string): void {
    if (this.reporting && !this.warnings.some((w) => w.message === message))
      this.warnings.push({ message, range: { line: 1, col: 1, endLine: 1, endCol: 1 }, bare: true });
  }

  private stmts(list: readonly Stmt[]): void {
    for (const s of list) this.stmt(s);
  }

  private stmt(s: Stmt): void {
    switch (s.kind) {
      case "expr":
        this.statementExpr(s.expr);
        return;
      case "assign":
        this.assign(s);
        return;
      case "if":
        this.expectInt(s.cond, "if");
        this.stmts(s.body);
        if (s.orElse) this.stmts(s.orElse);
        return;
      case "while":
        this.expectInt(s.cond, "while");
        this.loopDepth++;
        this.stmts(s.body);
        this.loopDepth--;
        return;
      case "unroll": {
        if (s.count.kind !== "int") this.error("unroll value must be a literal", s.count.range);
        else if (s.count.value > 100n) this.error("unroll maximum value is 100", unrollHead(s));
        else if (s.count.value < 1n) this.error("unroll minimum value is 1", unrollHead(s));
        this.stmts(s.body);
        return;
      }
      case "jump":
        if (s.what !== "return" && this.loopDepth === 0) this.error(`${s.what} used outside of a loop`, s.range);
        return;
    }
  }

  private statementExpr(e: Expr): void {
    if (e.kind === "incdec") {
      this.incdec(e);
      return;
    }
    this.typeOf(e, true);
  }

  private assign(s: Stmt & { kind: "assign" }): void {
    const v = s.value;
    if (s.op) this.signWarnings(s.op, s.target, v, s.opRange);
    if (s.target.kind === "var") {
      const t = s.op ? this.expectInt(v, s.op) : this.typeOf(v);
      if (s.op && !this.vars.has(s.target.name)) this.error(`Undefined or undeclared variable: ${s.target.name}`, s.target.range);
      if (t.k === "agg") {
        this.error(`${t.fn}() should be directly assigned to a map`, v.range);
        return;
      }
      if (t.k === "none" || t.k === "sref") {
        this.error("Value cannot be assigned to a scratch variable", v.range);
        return;
      }
      const old = this.vars.get(s.target.name);
      if (old && !compatible(old, t))
        this.error(
          `Type mismatch for ${s.target.name}: trying to assign value of type '${typeName(t)}' when variable already contains a value of type '${typeName(old)}'`,
          s.opRange,
        );
      else this.vars.set(s.target.name, old ? widen(old, t) : t);
      this.types.set(s.target, this.vars.get(s.target.name) as Ty);
      return;
    }
    if (s.target.kind !== "map") return;
    let t: Ty;
    if (s.op) t = this.expectInt(v, s.op);
    else if (v.kind === "call" && v.name in AGG_ARGS) t = this.aggregation(v);
    else t = this.typeOf(v);
    if (t.k === "none") {
      this.error("Value cannot be assigned to a map", v.range);
      return;
    }
    this.defineMap(s.target, t, s.target.range);
  }

  private aggregation(call: Expr & { kind: "call" }): Ty {
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

  /** Records (or checks) a map's key and value types at an assignment. */
  private defineMap(target: Expr & { kind: "map" }, value: Ty, range: SourceRange): void {
    const key = target.keys?.map((k) => this.keyType(k, target));
    const old = this.maps.get(target.name);
    if (!old) {
      this.maps.set(target.name, { name: target.name, key, value });
      this.types.set(target, value);
      return;
    }
    this.checkKeys(old, target, key);
    if (!compatible(old.value, value)) {
      this.error(
        // bpftrace 0.17's text lacks the closing quote
        `Type mismatch for ${target.name}: trying to assign value of type '${typeName(value)}' when map already contains a value of type '${typeName(old.value)}`,
        range,
      );
      return;
    }
    old.value = widen(old.value, value);
    this.types.set(target, old.value);
  }

  private keyType(k: Expr, map: Expr & { kind: "map" }): Ty {
    const t = this.typeOf(k);
    if (t.k === "agg" || t.k === "none") this.error(`${typeName(t)} cannot be used as a map key`, k.range);
    if (t.k === "tuple")
      this.error("tuple cannot be used as a map key. Try a multi-key associative array instead (eg `@map[$1, $2] = ...)`.", map.range);
    return t.k === "int" ? { k: "int", size: 8, signed: t.signed } : t;
  }

  private checkKeys(info: MapInfo, target: Expr & { kind: "map" }, key: Ty[] | undefined): void {
    // bpftrace names every integer key "unsigned int64" here, whatever its sign
    const show = (ks: Ty[] | undefined): string =>
      `[${(ks ?? []).map((k) => (k.k === "int" ? "unsigned int64" : typeName(k))).join(", ")}]`;
    const same =
      (key === undefined) === (info.key === undefined) &&
      (key ?? []).length === (info.key ?? []).length &&
      (key ?? []).every((k, i) => compatible(k, (info.key as Ty[])[i] as Ty));
    if (!same)
      this.error(
        `Argument mismatch for ${info.name}: trying to access with ${key ? `arguments: ${show(key)}` : "no arguments"} when map expects ${info.key ? `arguments: ${show(info.key)}` : "no arguments"}`,
        target.range,
      );
    else if (key && info.key) info.key = info.key.map((k, i) => widen(k, key[i] as Ty));
  }

  private incdec(e: Expr & { kind: "incdec" }): Ty {
    const t = e.target;
    if (t.kind === "var") {
      const old = this.vars.get(t.name);
      if (!old) this.error(`Undefined or undeclared variable: ${t.name}`, t.range);
      else if (old.k !== "int") this.error(`The ${e.op} operator can only be used on integers`, e.range);
    } else if (t.kind === "map") {
      if (!this.maps.has(t.name)) this.defineMap(t, INT64, e.range);
      else {
        const info = this.maps.get(t.name) as MapInfo;
        this.checkKeys(
          info,
          t,
          t.keys?.map((k) => this.keyType(k, t)),
        );
        if (info.value.k !== "int") this.error(`The ${e.op} operator can only be used on integers`, e.range);
      }
    } else this.error(`The ${e.op} operator must be applied to a map or variable`, e.range);
    this.types.set(e, INT64);
    return INT64;
  }

  private expectInt(e: Expr, what: string): Ty {
    const t = this.typeOf(e);
    if (!isNumeric(t) && t.k !== "none") this.error(`${what} expects an integer (${typeName(t)} provided)`, e.range);
    return t;
  }

  /**
   * bpftrace's sign warnings: comparisons and arithmetic mixing signed and unsigned integers, and signed
   * operands of / and %. A non-negative literal takes the other side's sign (two literals: unsigned).
   */
  private signWarnings(op: string, left: Expr, right: Expr, range: SourceRange): void {
    const l = this.types.get(left) ?? (left.kind === "var" ? this.vars.get(left.name) : undefined);
    const r = this.types.get(right);
    if (l?.k !== "int" || r?.k !== "int") return;
    const lLit = left.kind === "int";
    const rLit = right.kind === "int";
    if (lLit && rLit) return;
    const ls = lLit ? r.signed : l.signed;
    const rs = rLit ? l.signed : r.signed;
    if (ls !== rs) {
      const name = (signed: boolean, t: Ty & { k: "int" }): string => `${signed ? "" : "unsigned "}int${t.size * 8}`;
      const what = COMPARE.has(op) ? "comparison" : "arithmetic";
      if (what === "comparison" || ARITHMETIC.has(op))
        this.warn(
          `${what === "comparison" ? "comparison of" : "arithmetic on"} integers of different signs: '${name(ls, l)}' and '${name(rs, r)}' can lead to undefined behavior`,
          range,
        );
    }
    if ((op === "/" || op === "%") && (ls || rs))
      this.warn(`signed operands for '${op}' can lead to undefined behavior (cast to unsigned to silence warning)`, range);
  }

  /** The type of an expression, recorded for codegen; `statement` allows calls that return nothing. */
  typeOf(e: Expr, statement = false): Ty {
    const t = this.infer(e, statement);
    this.types.set(e, t);
    return t;
  }

  private infer(e: Expr, statement: boolean): Ty {
    switch (e.kind) {
      case "int":
        return e.value > 0x7fffffffffffffffn ? UINT64 : INT64;
      case "str":
        return { k: "str", size: e.bytes.length + 1 };
      case "builtin": {
        if (/^arg[0-9]$/.test(e.name)) {
          if (!this.probeIs(["kprobe", "uprobe", "usdt", "rawtracepoint"]))
            this.error(`The ${e.name} builtin can only be used with 'kprobes', 'uprobes' and 'usdt' probes`, e.range);
          return UINT64;
        }
        if (e.name === "retval") {
          if (!this.probeIs(["kretprobe", "uretprobe"]))
            this.error("The retval builtin can only be used with 'kretprobe' and 'uretprobe' and 'kfunc' probes", e.range);
          return UINT64;
        }
        if (e.name === "func") {
          if (!this.probeIs(["kprobe", "kretprobe", "uprobe", "uretprobe"]))
            this.error(`The func builtin can not be used with '${this.kindsText()}' probes`, e.range);
          // the probed instruction's address, named when printed (bpftrace: hex once the process is gone)
          return { k: "sym", kind: this.points[0]?.type.startsWith("k") ? "ksym" : "usym" };
        }
        if (e.name === "args") {
          this.error("The args builtin can only be used as args->FIELD", e.range);
          return NONE;
        }
        if (e.name === "cpid" && !this.opts.hasChild) this.error("cpid cannot be used without child command", e.range);
        if (e.name === "curtask") {
          // typed from the kernel's BTF where there is one, as bpftrace types it
          const btf = this.opts.resolver?.kernelBtf?.();
          const task = btf ? structNamed(btf, "task_struct") : undefined;
          if (task !== undefined) return { k: "sptr", btf: task, name: "task_struct" };
        }
        const t = BUILTIN_TYPES[e.name];
        if (t) return t.k === "str" && e.name === "probe" ? { k: "str", size: this.opts.strlen ?? 64 } : t;
        this.error(`Unknown identifier: '${e.name}'`, e.range);
        return NONE;
      }
      case "var": {
        const t = this.vars.get(e.name);
        if (!t) this.error(`Undefined or undeclared variable: ${e.name}`, e.range);
        return t ?? NONE;
      }
      case "positional":
        return this.positional(e);
      case "map": {
        const info = this.maps.get(e.name);
        if (!info) {
          this.error(`Undefined map: ${e.name}`, e.range);
          for (const k of e.keys ?? []) this.typeOf(k);
          return NONE;
        }
        this.checkKeys(
          info,
          e,
          e.keys?.map((k) => this.keyType(k, e)),
        );
        return info.value;
      }
      case "call":
        return this.call(e, statement);
      case "binop":
        return this.binop(e);
      case "unop": {
        const t = this.typeOf(e.operand);
        if (e.op === "*") {
          // probes without an address space of their own read kernel memory (bpftrace warns, without a place)
          // (kernel types from BTF have theirs)
          if (t.k !== "sptr" && !this.probeIs(["kprobe", "kretprobe", "uprobe", "uretprobe", "usdt", "tracepoint", "rawtracepoint"]))
            this.warnOnce("Addrspace is not set");
          if (t.k === "ptr") return t.depth > 1 ? { ...t, depth: t.depth - 1 } : { k: "int", size: t.size, signed: t.signed };
          if (t.k === "sptr") return { k: "sref", btf: t.btf, name: t.name };
          // an integer is read as an int64 from wherever it points
          if (t.k !== "int" && t.k !== "none") this.error(`Can not dereference type: ${typeName(t)}`, e.range);
          return INT64;
        }
        if (e.op === "&") {
          this.error("the '&' operator is not supported by tsbpf yet", e.range);
          return NONE;
        }
        if (t.k !== "int" && t.k !== "none") this.error(`Invalid operand to unary operator '${e.op}': ${typeName(t)}`, e.range);
        return e.op === "!" ? UINT64 : t.k === "int" ? { k: "int", size: 8, signed: t.signed } : INT64;
      }
      case "incdec":
        return this.incdec(e);
      case "ternary": {
        this.expectInt(e.cond, "?:");
        const a = this.typeOf(e.whenTrue);
        const b = this.typeOf(e.whenFalse);
        if (a.k !== "none" && b.k !== "none" && !compatible(a, b)) {
          this.error(`Ternary operator must return the same type: have '${typeName(a)}' and '${typeName(b)}'`, e.range);
          return a;
        }
        return a.k === "int" && b.k === "int" ? { k: "int", size: 8, signed: a.signed && b.signed } : widen(a, b);
      }
      case "tuple": {
        const elems = e.elems.map((x) => {
          const t = this.typeOf(x);
          if (t.k === "agg") this.error(`${typeName(t)} cannot be used in a tuple`, x.range);
          return t.k === "int" ? { k: "int" as const, size: 8 as const, signed: t.signed } : t;
        });
        return { k: "tuple", elems };
      }
      case "field": {
        if (e.base.kind === "builtin" && e.base.name === "args") return this.tracepointField(e);
        const base = this.typeOf(e.base);
        if ((base.k === "sptr" && e.arrow) || (base.k === "sref" && !e.arrow)) return this.kernelMember(e, base);
        if (base.k === "sptr" || base.k === "sref") {
          this.error(`Can not access field '${e.field}' on type '${typeName(base)}'. Try dereferencing it first, or using '->'`, e.range);
          return NONE;
        }
        if (base.k === "tuple" && !e.arrow) {
          const i = Number(e.field);
          if (!/^[0-9]+$/.test(e.field) || i >= base.elems.length) {
            this.error(`Invalid tuple index: ${e.field}. Found ${base.elems.length} elements in tuple.`, e.range);
            return NONE;
          }
          return base.elems[i] as Ty;
        }
        if (base.k !== "none") this.error(`Can not access field '${e.field}' on type '${typeName(base)}'`, e.range);
        return NONE;
      }
      case "cast": {
        if (e.struct !== undefined) return this.structCast(e);
        const t = this.typeOf(e.operand);
        if (!isNumeric(t) && t.k !== "none") this.error(`Casts are not supported for type: "${typeName(t)}"`, castHead(e));
        return e.pointer > 0 ? { k: "ptr", ...e.type, depth: e.pointer } : { k: "int", ...e.type };
      }
      case "sizeof":
        if (e.operand) this.typeOf(e.operand);
        return UINT64;
    }
  }

  private positional(e: Expr & { kind: "positional" }): Ty {
    const params = this.opts.params ?? [];
    if (e.index === -1) return INT64;
    const value = params[e.index - 1];
    if (value !== undefined && !/^-?(0x[0-9a-fA-F]+|[0-9]+)$/.test(value))
      this.error(`$${e.index} used numerically but given "${value}". Try using str($${e.index}).`, e.range);
    return INT64;
  }

  private binop(e: Expr & { kind: "binop" }): Ty {
    const l = this.typeOf(e.left);
    const r = this.typeOf(e.right);
    if (l.k === "none" || r.k === "none") return INT64;
    if (COMPARE.has(e.op) || e.op === "&&" || e.op === "||") {
      const stringsOk = (e.op === "==" || e.op === "!=") && l.k === "str" && r.k === "str";
      if (!stringsOk && (!isNumeric(l) || !isNumeric(r))) {
        this.error(`Type mismatch for '${e.op}': comparing '${typeName(l)}' with '${typeName(r)}'`, e.range);
      } else if (COMPARE.has(e.op)) this.signWarnings(e.op, e.left, e.right, e.opRange);
      if (stringsOk && l.k === "str" && r.k === "str" && (l.user ?? false) !== (r.user ?? false))
        this.warn("Addrspace mismatch", e.opRange);
      return INT64;
    }
    // pointer arithmetic: ptr ± int and int + ptr step by the pointee's size
    if (l.k === "ptr" && r.k === "int" && (e.op === "+" || e.op === "-")) return l;
    if (l.k === "int" && r.k === "ptr" && e.op === "+") return r;
    if (l.k !== "int" || r.k !== "int") {
      this.error(`Type mismatch for '${e.op}': comparing '${typeName(l)}' with '${typeName(r)}'`, e.range);
      return INT64;
    }
    this.signWarnings(e.op, e.left, e.right, e.opRange);
    return { k: "int", size: 8, signed: l.signed && r.signed };
  }

  private call(e: Expr & { kind: "call" }, statement: boolean): Ty {
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

  private printfCall(e: Expr & { kind: "call" }): void {
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

/** Where bpftrace reports unroll errors: `unroll(N)` without its body. */
function unrollHead(s: Stmt & { kind: "unroll" }): SourceRange {
  return { line: s.range.line, col: s.range.col, endLine: s.count.range.endLine, endCol: s.count.range.endCol + 1 };
}

/** Where bpftrace reports cast errors: the `(type)` part. */
function castHead(e: Expr & { kind: "cast" }): SourceRange {
  const name = `${e.type.signed ? "" : "u"}int${e.type.size * 8}`;
  return { line: e.range.line, col: e.range.col, endLine: e.range.line, endCol: e.range.col + name.length + 2 };
}

/** The value of an integer literal, possibly negated. */
export function constInt(e: Expr): bigint | undefined {
  if (e.kind === "int") return e.value;
  if (e.kind === "unop" && e.op === "-" && e.operand.kind === "int") return -e.operand.value;
  return undefined;
}
