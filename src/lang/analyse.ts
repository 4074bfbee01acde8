/**
 * Semantic checks and type inference, as bpftrace's semantic analyser does them: map types are global and
 * fixed by their assignments anywhere in the script (so a pass infers them before the checking pass),
 * variables are per probe and must be assigned before use. Every error is collected, not only the first.
 * Statements and expressions are here; calls and the probe's context are analyse-calls.ts's.
 */
import { AGG_ARGS, type AnalyseOptions, CallAnalyser, type MapInfo } from "./analyse-calls.js";
import type { AttachPointNode, Expr, Probe, Script, Stmt } from "./ast.js";
import { structNamed } from "./btf-types.js";
import { type Diagnostic, type SourceRange, TraceScriptError } from "./errors.js";
import { type AttachPoint, parseAttachPoint, type Resolution } from "./probes.js";
import { compatible, INT64, isNumeric, MAX_STACK_DEPTH, NONE, type Ty, typeName, UINT64, widen } from "./types.js";

export { type AnalyseOptions, constInt, fieldType, type MapInfo } from "./analyse-calls.js";

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

class Analyser extends CallAnalyser {
  private readonly resolved = new Map<AttachPointNode, Resolution>();

  constructor(
    private readonly script: Script,
    opts: AnalyseOptions,
  ) {
    super(opts);
  }

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
