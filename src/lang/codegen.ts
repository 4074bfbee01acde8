/**
 * Code generation: one eBPF program per attach point. Integers are computed in r0 (spilled to stack slots
 * around subexpressions and helper calls); strings and tuples live in a per-CPU scratch array value whose
 * address stays in r9, so keys, values and events are built there and handed to helpers as they are. Output
 * (printf, print, exit…) goes to user space as ring buffer records: a u64 event id, then the arguments.
 */
import { NotSupportedError } from "../errors.js";
import {
  ALU_ADD,
  ALU_NEG,
  ALU_XOR,
  JMP_JEQ,
  JMP_JGE,
  JMP_JGT,
  JMP_JLE,
  JMP_JLT,
  JMP_JNE,
  JMP_JSGE,
  JMP_JSGT,
  JMP_JSLE,
  JMP_JSLT,
} from "../isa/opcodes.js";
import type { Analysis } from "./analyse.js";
import { constInt } from "./analyse.js";
import { Asm, type Label } from "./asm.js";
import type { Expr, Stmt } from "./ast.js";
import { argument, probeReadStr, register, returnValue, tracepointInt, tracepointString } from "./emit-context.js";
import { arith, bool, builtin, extend, flag, linearBucket, log2Bucket, stringConstant } from "./emit-ops.js";
import {
  type CodegenOptions,
  type CompiledMap,
  EVENTS_MAP,
  type EventDesc,
  SCRATCH_MAP,
  type ScriptLayout,
  stackMapName,
} from "./layout.js";
import type { AttachPoint, TracepointField } from "./probes.js";
import { isWord, MAX_STACK_DEPTH, storageSize, type Ty, tupleOffsets } from "./types.js";

// helper ids (include/uapi/linux/bpf.h)
const MAP_LOOKUP = 1;
const MAP_UPDATE = 2;
const MAP_DELETE = 3;
//DEL GET_PRANDOM_U32 = 7;
const GET_CURRENT_COMM = 16;
const GET_STACKID = 27;
const RINGBUF_OUTPUT = 130;
const BPF_F_USER_STACK = 1 << 8;
const BPF_ANY = 0;

const R_CTX = 6;
const R_SCRATCH = 9;
const FP = 10;
/** Stack bytes kept for the scratch lookup key. */
const KEY_SLOT = -8;
const STACK_LIMIT = 512;

/** args->FIELD: a tracepoint record's field. */
const isArgs = (e: Expr): boolean => e.kind === "builtin" && e.name === "args";

interface Loop {
  readonly cont: Label;
  readonly brk: Label;
}

/** Generates one attach point's program. */
export class ProgramGen {
  private readonly a = new Asm();
  private scratchTop = 0;
  private readonly slotOf = new Map<string, number>();
  private readonly regionOf = new Map<string, number>();
  private stackTop: number;
  private readonly loops: Loop[] = [];
  private readonly exitLabel: Label;
  private readonly S: number;

  constructor(
    private readonly layout: ScriptLayout,
    private readonly analysis: Analysis,
    private readonly vars: ReadonlyMap<string, Ty>,
    private readonly point: AttachPoint,
    private readonly opts: CodegenOptions,
  ) {
    this.S = storageSize({ k: "str", size: 0 }, layout.strlen);
    this.stackTop = KEY_SLOT;
    for (const [name, t] of vars) {
      if (isWord(t)) this.slotOf.set(name, this.pushSlot());
      else this.regionOf.set(name, this.alloc(storageSize(t, layout.strlen)));
    }
    this.exitLabel = this.a.label();
  }

  /** The whole program: prologue (ctx, scratch), predicate, body, `return 0`. */
  generate(predicate: Expr | undefined, body: readonly Stmt[]) {
    const a = this.a;
    a.movr(R_CTX, 1);
    a.st(4, FP, KEY_SLOT, 0);
    a.mapRef(1, SCRATCH_MAP);
    a.movr(2, FP);
    a.alu(ALU_ADD, 2, KEY_SLOT);
    a.call(MAP_LOOKUP);
    a.jmp(JMP_JEQ, 0, 0, this.exitLabel);
    a.movr(R_SCRATCH, 0);
    // vars start zeroed so that a branch that skips an assignment reads 0 or "" as in bpftrace
    for (const slot of this.slotOf.values()) a.st(8, FP, slot, 0);
    for (const [name, region] of this.regionOf) this.zero(region, storageSize(this.vars.get(name) as Ty, this.layout.strlen));
    if (predicate) {
      this.int(predicate);
      a.jmp(JMP_JEQ, 0, 0, this.exitLabel);
    }
    this.stmts(body);
    a.place(this.exitLabel);
    a.mov(0, 0);
    a.exit();
    this.layout.scratchSize = Math.max(this.layout.scratchSize, this.scratchTop);
    return a.finish();
  }

  // ---- storage ----

  private pushSlot(): number {
    this.stackTop -= 8;
    if (-this.stackTop > STACK_LIMIT) throw new NotSupportedError("this script", "its expressions need more than 512 bytes of stack");
    return this.stackTop;
  }

  private popSlot(): void {
    this.stackTop += 8;
  }

  private alloc(size: number): number {
    const at = this.scratchTop;
    this.scratchTop += (size + 7) & ~7;
    if (this.scratchTop > 32768)
      throw new NotSupportedError("this script", "its strings and tuples need more than 32 KiB of scratch space");
    return at;
  }

  private type(e: Expr): Ty {
    const t = this.analysis.types.get(e);
    if (!t) throw new Error(`internal: no type for ${e.kind} at ${e.range.line}:${e.range.col}`);
    return t;
  }

  private size(t: Ty): number {
    return storageSize(t, this.layout.strlen);
  }

  private zero(off: number, size: number): void {
    for (let i = 0; i < size; i += 8) this.a.st(8, R_SCRATCH, off + i, 0);
  }

  /** Copies `size` bytes from [src+srcOff] to scratch at `off` (r1 as the carrier). */
  private copy(src: number, srcOff: number, off: number, size: number): void {
    for (let i = 0; i < size; i += 8) {
      this.a.ldx(8, 1, src, srcOff + i);
      this.a.stx(8, R_SCRATCH, off + i, 1);
    }
  }

  private scratchPtr(reg: number, off: number): void {
    this.a.movr(reg, R_SCRATCH);
    if (off !== 0) this.a.alu(ALU_ADD, reg, off);
  }

  // ---- statements ----

  private stmts(list: readonly Stmt[]): void {
    for (const s of list) this.stmt(s);
  }

  private stmt(s: Stmt): void {
    const a = this.a;
    switch (s.kind) {
      case "expr":
        this.effect(s.expr);
        return;
      case "assign":
        this.assign(s);
        return;
      case "if":
        this.branch(
          s.cond,
          () => this.stmts(s.body),
          () => this.stmts(s.orElse ?? []),
        );
        return;
      case "unroll": {
        const n = Number(constInt(s.count) ?? 1n);
        for (let i = 0; i < n; i++) this.stmts(s.body);
        return;
      }
      case "while": {
        const top = a.label();
        const done = a.label();
        a.place(top);
        this.int(s.cond);
        a.jmp(JMP_JEQ, 0, 0, done);
        this.loops.push({ cont: top, brk: done });
        this.stmts(s.body);
        this.loops.pop();
        a.ja(top);
        a.place(done);
        return;
      }
      case "jump": {
        if (s.what === "return") a.ja(this.exitLabel);
        else {
          const loop = this.loops[this.loops.length - 1] as Loop;
          a.ja(s.what === "break" ? loop.brk : loop.cont);
        }
        return;
      }
    }
  }

  /** if (cond) yes() else no(). */
  private branch(cond: Expr, yes: () => void, no: () => void): void {
    const otherwise = this.a.label();
    const done = this.a.label();
    this.int(cond);
    this.a.jmp(JMP_JEQ, 0, 0, otherwise);
    yes();
    this.a.ja(done);
    this.a.place(otherwise);
    no();
    this.a.place(done);
  }

  private assign(s: Stmt & { kind: "assign" }): void {
    const target = s.target;
    const t = this.type(target);
    if (target.kind === "var") {
      if (isWord(t)) {
        if (s.op) this.compound(s.op, () => this.a.ldx(8, 0, FP, this.varSlot(target.name)), s.value);
        else this.int(s.value);
        this.a.stx(8, FP, this.varSlot(target.name), 0);
      } else {
        const from = this.locate(s.value);
        const to = this.regionOf.get(target.name) as number;
        if (from !== to) this.copy(R_SCRATCH, from, to, this.size(t));
      }
      return;
    }
    if (target.kind !== "map") return;
    const info = this.mapOf(target.name);
    if (info.value.k === "agg") {
      this.aggregate(target, s.value as Expr & { kind: "call" }, info);
      return;
    }
    if (s.op) {
      this.compound(s.op, () => this.readMapInt(target), s.value);
      this.storeMapInt(target);
      return;
    }
    if (isWord(info.value)) {
      this.int(s.value);
      this.storeMapInt(target);
      return;
    }
    const value = this.alloc(info.valueSize);
    this.to(s.value, value);
    const key = this.key(target);
    this.update(info, key, value);
  }

  /** r0 = load() op value. */
  private compound(op: string, load: () => void, value: Expr): void {
    this.int(value);
    const slot = this.pushSlot();
    this.a.stx(8, FP, slot, 0);
    load();
    this.a.ldx(8, 1, FP, slot);
    this.popSlot();
    arith(this.a, op);
  }

  private varSlot(name: string): number {
    const slot = this.slotOf.get(name);
    if (slot === undefined) throw new Error(`internal: no slot for ${name}`);
    return slot;
  }

  private mapOf(name: string): CompiledMap {
    return this.layout.maps.get(name) as CompiledMap;
  }

  /** An expression evaluated for its effect (calls, ++, --). */
  private effect(e: Expr): void {
    if (e.kind === "call") {
      this.statementCall(e);
      return;
    }
    if (this.type(e).k === "int") this.int(e);
    else this.locate(e);
  }

  // ---- maps ----

  /** Builds the key of a map access in scratch; returns its offset. */
  private key(m: Expr & { kind: "map" }, extra = 0): number {
    const info = this.mapOf(m.name);
    const at = this.alloc(info.keySize + extra);
    if (!m.keys) {
      this.a.st(8, R_SCRATCH, at, 0);
      return at;
    }
    let off = at;
    m.keys.forEach((k, i) => {
      const kt = (info.key as Ty[])[i] as Ty;
      this.to(k, off, kt);
      off += this.size(kt);
    });
    return at;
  }

  private lookup(info: CompiledMap, key: number): void {
    this.a.mapRef(1, info.bpfName);
    this.scratchPtr(2, key);
    this.a.call(MAP_LOOKUP);
  }

  private update(info: CompiledMap, key: number, value: number): void {
    this.a.mapRef(1, info.bpfName);
    this.scratchPtr(2, key);
    this.scratchPtr(3, value);
    this.a.mov(4, BPF_ANY);
    this.a.call(MAP_UPDATE);
  }

  private readMapInt(m: Expr & { kind: "map" }): void {
    const info = this.mapOf(m.name);
    const key = this.key(m);
    this.lookup(info, key);
    const done = this.a.label();
    this.a.jmp(JMP_JEQ, 0, 0, done);
    this.a.ldx(8, 0, 0, 0);
    this.a.place(done);
  }

  /** Stores r0 as the map element's value. */
  private storeMapInt(m: Expr & { kind: "map" }): void {
    const info = this.mapOf(m.name);
    const value = this.alloc(8);
    this.a.stx(8, R_SCRATCH, value, 0);
    const key = this.key(m);
    this.update(info, key, value);
  }

  /** count/sum/min/max/avg/stats/hist/lhist into a per-CPU hash element. */
  private aggregate(m: Expr & { kind: "map" }, call: Expr & { kind: "call" }, info: CompiledMap): void {
    const a = this.a;
    const agg = info.value as Ty & { k: "agg" };
    const slot = this.pushSlot();
    if (call.args.length > 0) {
      this.int(call.args[0] as Expr);
      a.stx(8, FP, slot, 0);
    }
    const bucketed = agg.fn === "hist" || agg.fn === "lhist";
    const key = this.key(m, bucketed ? 8 : 0);
    if (bucketed) {
      a.ldx(8, 0, FP, slot);
      if (agg.fn === "hist") log2Bucket(this.a);
      else linearBucket(this.a, agg.lhist as { min: bigint; max: bigint; step: bigint });
      a.stx(8, R_SCRATCH, key + info.keySize, 0);
    }
    const fresh = a.label();
    const done = a.label();
    this.lookup(info, key);
    a.jmp(JMP_JEQ, 0, 0, fresh);
    // the element exists: update this CPU's value in place
    a.ldx(8, 2, FP, slot);
    switch (agg.fn) {
      case "count":
      case "hist":
      case "lhist":
        a.ldx(8, 1, 0, 0);
        a.alu(ALU_ADD, 1, 1);
        a.stx(8, 0, 0, 1);
        break;
      case "sum":
        a.ldx(8, 1, 0, 0);
        a.alur(ALU_ADD, 1, 2);
        a.stx(8, 0, 0, 1);
        break;
      case "avg":
      case "stats":
        a.ldx(8, 1, 0, 0);
        a.alu(ALU_ADD, 1, 1);
        a.stx(8, 0, 0, 1);
        a.ldx(8, 1, 0, 8);
        a.alur(ALU_ADD, 1, 2);
        a.stx(8, 0, 8, 1);
        break;
      default: {
        // min/max: {value, set}; a CPU that never stored has set = 0
        const store = a.label();
        a.ldx(8, 1, 0, 8);
        a.jmp(JMP_JEQ, 1, 0, store);
        a.ldx(8, 1, 0, 0);
        a.jmpr(agg.fn === "min" ? JMP_JSGE : JMP_JSLE, 2, 1, done);
        a.place(store);
        a.stx(8, 0, 0, 2);
        a.st(8, 0, 8, 1);
      }
    }
    a.ja(done);
    a.place(fresh);
    const value = this.alloc(16);
    a.ldx(8, 2, FP, slot);
    switch (agg.fn) {
      case "count":
      case "hist":
      case "lhist":
        a.st(8, R_SCRATCH, value, 1);
        break;
      case "sum":
        a.stx(8, R_SCRATCH, value, 2);
        break;
      case "avg":
      case "stats":
        a.st(8, R_SCRATCH, value, 1);
        a.stx(8, R_SCRATCH, value + 8, 2);
        break;
      default:
        // bpftrace 0.17 compares a new max() element's value against 0: negatives never create it
        if (agg.fn === "max") a.jmp(JMP_JSLT, 2, 0, done);
        a.stx(8, R_SCRATCH, value, 2);
        a.st(8, R_SCRATCH, value + 8, 1);
    }
    this.update(info, key, value);
    a.place(done);
    this.popSlot();
  }

  // ---- calls as statements ----

  private statementCall(e: Expr & { kind: "call" }): void {
    const a = this.a;
    switch (e.name) {
      case "printf":
      case "system":
      case "cat": {
        const [fmt, ...args] = e.args as [Expr & { kind: "str" }, ...Expr[]];
        if (e.name !== "printf") throw new NotSupportedError(`${e.name}()`, "it is not built yet");
        this.emit({ kind: "printf", format: fmt.bytes, args: args.map((x) => this.type(x)) }, args);
        return;
      }
      case "exit":
        this.emit({ kind: "exit" }, []);
        a.ja(this.exitLabel);
        return;
      case "time": {
        const fmt = e.args[0] as (Expr & { kind: "str" }) | undefined;
        this.emit({ kind: "time", format: fmt ? new TextDecoder().decode(fmt.bytes) : undefined }, []);
        return;
      }
      case "print": {
        const target = e.args[0] as Expr;
        if (target.kind === "map" && !target.keys) {
          const top = Number(constInt(e.args[1] ?? { kind: "int", value: 0n, range: e.range }) ?? 0n);
          const div = Number(constInt(e.args[2] ?? { kind: "int", value: 0n, range: e.range }) ?? 0n);
          this.emit({ kind: "print", map: target.name, top, div }, []);
        } else this.emit({ kind: "value", type: this.type(target) }, [target]);
        return;
      }
      case "clear":
      case "zero":
        this.emit({ kind: e.name, map: (e.args[0] as Expr & { kind: "map" }).name }, []);
        return;
      case "delete": {
        const m = e.args[0] as Expr & { kind: "map" };
        const info = this.mapOf(m.name);
        const key = this.key(m);
        a.mapRef(1, info.bpfName);
        this.scratchPtr(2, key);
        a.call(MAP_DELETE);
        return;
      }
      default:
        this.int(e);
    }
  }

  /** A ring buffer record: the event id, then each argument at its storage size. */
  private emit(desc: EventDesc, args: readonly Expr[]): void {
    const id = this.layout.event(desc);
    const sizes = args.map((x) => this.size(this.type(x)));
    const total = 8 + sizes.reduce((s, n) => s + n, 0);
    const at = this.alloc(total);
    let off = at + 8;
    args.forEach((x, i) => {
      this.to(x, off);
      off += sizes[i] as number;
    });
    const a = this.a;
    a.const64(1, BigInt(id));
    a.stx(8, R_SCRATCH, at, 1);
    a.mapRef(1, EVENTS_MAP);
    this.scratchPtr(2, at);
    a.mov(3, total);
    a.mov(4, 0);
    a.call(RINGBUF_OUTPUT);
  }

  // ---- values in memory ----

  /** Writes the value of `e` (as type `as`, default its own) into scratch at `off`. */
  private to(e: Expr, off: number, as: Ty = this.type(e)): void {
    if (isWord(as)) {
      this.int(e);
      this.a.stx(8, R_SCRATCH, off, 0);
      return;
    }
    const t = this.type(e);
    if (e.kind === "tuple" && t.k === "tuple") {
      const offsets = tupleOffsets(as as Ty & { k: "tuple" }, this.layout.strlen);
      e.elems.forEach((x, i) => {
        this.to(x, off + (offsets[i] as number), (as as Ty & { k: "tuple" }).elems[i]);
      });
      return;
    }
    if (e.kind === "str" || (e.kind === "builtin" && (e.name === "comm" || e.name === "probe")) || e.kind === "ternary") {
      this.materialize(e, off, this.size(as));
      return;
    }
    const from = this.locate(e);
    if (from !== off) this.copy(R_SCRATCH, from, off, Math.min(this.size(as), this.size(t)));
  }

  /** Scratch offset holding the (string or tuple) value of `e`, materializing it if needed. */
  private locate(e: Expr): number {
    const t = this.type(e);
    if (e.kind === "var") return this.regionOf.get(e.name) as number;
    if (e.kind === "field" && t.k !== "int" && !isArgs(e.base)) {
      const base = this.type(e.base) as Ty & { k: "tuple" };
      return this.locate(e.base) + (tupleOffsets(base, this.layout.strlen)[Number(e.field)] as number);
    }
    const at = this.alloc(this.size(t));
    this.materialize(e, at, this.size(t));
    return at;
  }

  private materialize(e: Expr, at: number, size: number): void {
    const a = this.a;
    const t = this.type(e);
    switch (e.kind) {
      case "str":
        stringConstant(this.a, e.bytes, at, size);
        return;
      case "builtin":
        if (e.name === "comm") {
          this.zero(at, size);
          this.scratchPtr(1, at);
          a.mov(2, 16);
          a.call(GET_CURRENT_COMM);
          return;
        }
        if (e.name === "probe" || e.name === "func") {
          const text = e.name === "func" && "func" in this.point ? this.point.func : this.point.name;
          stringConstant(this.a, new TextEncoder().encode(text), at, size);
          return;
        }
        break;
      case "field":
        if (isArgs(e.base)) {
          this.tracepointString(this.field(e.field), at, size);
          return;
        }
        break;
      case "tuple":
        this.to(e, at, t);
        return;
      case "ternary":
        this.branch(
          e.cond,
          () => this.to(e.whenTrue, at, t),
          () => this.to(e.whenFalse, at, t),
        );
        return;
      case "map": {
        const info = this.mapOf(e.name);
        const key = this.key(e);
        this.lookup(info, key);
        const missing = a.label();
        const done = a.label();
        a.jmp(JMP_JEQ, 0, 0, missing);
        this.copy(0, 0, at, size);
        a.ja(done);
        a.place(missing);
        this.zero(at, size);
        a.place(done);
        return;
      }
      case "positional":
        stringConstant(this.a, new TextEncoder().encode(this.opts.params[e.index - 1] ?? ""), at, size);
        return;
      case "call":
        if (e.name === "str" && e.args[0]?.kind === "positional") {
          const p = e.args[0];
          let bytes = new TextEncoder().encode(this.opts.params[p.index - 1] ?? "");
          const n = e.args[1] ? constInt(e.args[1]) : undefined;
          bytes = bytes.subarray(0, Math.min(bytes.length, this.layout.strlen - 1, n === undefined ? Infinity : Number(n)));
          stringConstant(this.a, bytes, at, size);
          return;
        }
        if (e.name === "str") {
          this.readString(e, at, size);
          return;
        }
        break;
      default:
        break;
    }
    throw new NotSupportedError(
      `${e.kind === "call" ? `${e.name}()` : e.kind === "builtin" ? e.name : e.kind} as a value`,
      "tsbpf's tracing language does not build it yet",
    );
  }

  /** r0 = the id of the current kernel or user stack in the stack map of that depth. */
  private stackId(kind: "kstack" | "ustack", depth: number): void {
    const name = stackMapName(kind, depth);
    this.layout.stacks.set(name, { kind, depth });
    this.a.movr(1, R_CTX);
    this.a.mapRef(2, name);
    this.a.mov(3, kind === "ustack" ? BPF_F_USER_STACK : 0);
    this.a.call(GET_STACKID);
  }

  /** This point's tracepoint field (analysis made sure it exists). */
  private field(name: string): TracepointField {
    const f = this.point.type === "tracepoint" ? this.point.fields?.find((x) => x.name === name) : undefined;
    if (!f) throw new NotSupportedError(`args->${name} on ${this.point.name}`, "the probe's record has no such field");
    return f;
  }

  /** A char array or __data_loc string of the tracepoint record into scratch at `at`. */
  private tracepointString(f: TracepointField, at: number, size: number): void {
    this.zero(at, size);
    this.scratchPtr(1, at);
    tracepointString(this.a, f, size);
  }

  /**
   * str(p) and str(p, n) into scratch at `at`: at most min(n + 1, strlen) bytes with the NUL (bpftrace's
   * count is of characters), read from the probe's address space; a string argument is copied.
   */
  private readString(e: Expr & { kind: "call" }, at: number, size: number): void {
    const a = this.a;
    const [src, len] = e.args as [Expr, Expr | undefined];
    const st = this.type(src);
    if (st.k === "str") {
      const from = this.locate(src);
      this.zero(at, size);
      this.copy(R_SCRATCH, from, at, Math.min(size, this.size(st)));
      if (len === undefined) return;
    }
    const limit = Math.min(this.layout.strlen, size);
    const slot = this.pushSlot();
    if (len) {
      // n + 1 bytes, in [1, limit] whatever n is (also for the verifier)
      this.int(len);
      const small = a.label();
      a.jmp(JMP_JLT, 0, limit, small);
      a.mov(0, limit - 1);
      a.place(small);
      a.alu(ALU_ADD, 0, 1);
    } else a.mov(0, limit);
    a.stx(8, FP, slot, 0);
    if (st.k === "str") {
      // a string cut to n characters: a NUL at n
      a.ldx(8, 1, FP, slot);
      this.scratchPtr(2, at - 1);
      a.alur(ALU_ADD, 2, 1);
      a.st(1, 2, 0, 0);
      this.popSlot();
      return;
    }
    this.zero(at, size);
    this.int(src);
    a.movr(3, 0);
    this.scratchPtr(1, at);
    a.ldx(8, 2, FP, slot);
    a.call(probeReadStr(this.point));
    this.popSlot();
  }

  // ---- integers ----

  /** Evaluates an integer expression into r0 (canonical: sign- or zero-extended per its type). */
  int(e: Expr): void {
    const a = this.a;
    switch (e.kind) {
      case "int":
        a.const64(0, e.value);
        return;
      case "var":
        a.ldx(8, 0, FP, this.varSlot(e.name));
        return;
      case "positional": {
        if (e.index === -1) {
          a.mov(0, this.opts.params.length);
          return;
        }
        const p = this.opts.params[e.index - 1];
        a.const64(0, p === undefined ? 0n : BigInt(p));
        return;
      }
      case "builtin":
        if (/^arg[0-9]$/.test(e.name)) {
          const slot = this.pushSlot();
          argument(a, this.point, Number(e.name.slice(3)), slot);
          this.popSlot();
        } else if (e.name === "retval") returnValue(a);
        else if (e.name === "kstack" || e.name === "ustack") this.stackId(e.name, MAX_STACK_DEPTH);
        else builtin(this.a, e.name, this.opts, this.point.type);
        return;
      case "map":
        this.readMapInt(e);
        return;
      case "binop":
        this.binop(e);
        return;
      case "unop":
        this.int(e.operand);
        if (e.op === "!") bool(this.a, JMP_JEQ);
        else if (e.op === "~") a.alu(ALU_XOR, 0, -1);
        else if (e.op === "-") a.alu(ALU_NEG, 0, 0);
        return;
      case "incdec":
        this.incdec(e);
        return;
      case "ternary":
        this.branch(
          e.cond,
          () => this.int(e.whenTrue),
          () => this.int(e.whenFalse),
        );
        return;
      case "cast":
        this.int(e.operand);
        extend(this.a, e.type.size, e.type.signed);
        return;
      case "sizeof": {
        const t = e.type ? { k: "int" as const, ...e.type } : this.type(e.operand as Expr);
        a.mov(0, t.k === "int" ? t.size : this.size(t));
        return;
      }
      case "field": {
        if (isArgs(e.base)) {
          tracepointInt(a, this.field(e.field));
          return;
        }
        const base = this.type(e.base) as Ty & { k: "tuple" };
        const at = this.locate(e.base) + (tupleOffsets(base, this.layout.strlen)[Number(e.field)] as number);
        a.ldx(8, 0, R_SCRATCH, at);
        return;
      }
      case "call":
        this.intCall(e);
        return;
      default:
        throw new NotSupportedError(`${e.kind} as an integer`, "tsbpf's tracing language does not build it yet");
    }
  }

  private incdec(e: Expr & { kind: "incdec" }): void {
    const a = this.a;
    const delta = e.op === "++" ? 1 : -1;
    const t = e.target;
    const slot = this.pushSlot();
    if (t.kind === "var") {
      a.ldx(8, 0, FP, this.varSlot(t.name));
      a.stx(8, FP, slot, 0);
      a.alu(ALU_ADD, 0, delta);
      a.stx(8, FP, this.varSlot(t.name), 0);
    } else if (t.kind === "map") {
      this.readMapInt(t);
      a.stx(8, FP, slot, 0);
      a.alu(ALU_ADD, 0, delta);
      this.storeMapInt(t);
    }
    a.ldx(8, 0, FP, slot);
    if (e.prefix) a.alu(ALU_ADD, 0, delta);
    this.popSlot();
  }

  private binop(e: Expr & { kind: "binop" }): void {
    const a = this.a;
    if (e.op === "&&" || e.op === "||") {
      const short = a.label();
      const done = a.label();
      this.int(e.left);
      a.jmp(e.op === "&&" ? JMP_JEQ : JMP_JNE, 0, 0, short);
      this.int(e.right);
      bool(this.a, JMP_JNE);
      a.ja(done);
      a.place(short);
      a.mov(0, e.op === "&&" ? 0 : 1);
      a.place(done);
      return;
    }
    const lt = this.type(e.left);
    const rt = this.type(e.right);
    if (lt.k === "str" && rt.k === "str") {
      this.stringEquals(e.left, e.right, Math.min(lt.size, rt.size, this.S));
      if (e.op === "!=") a.alu(ALU_XOR, 0, 1);
      return;
    }
    this.int(e.left);
    const slot = this.pushSlot();
    a.stx(8, FP, slot, 0);
    this.int(e.right);
    a.movr(1, 0);
    a.ldx(8, 0, FP, slot);
    this.popSlot();
    const signed = lt.k === "int" && rt.k === "int" && lt.signed && rt.signed;
    const compare: Record<string, [number, number]> = {
      "==": [JMP_JEQ, JMP_JEQ],
      "!=": [JMP_JNE, JMP_JNE],
      "<": [JMP_JLT, JMP_JSLT],
      "<=": [JMP_JLE, JMP_JSLE],
      ">": [JMP_JGT, JMP_JSGT],
      ">=": [JMP_JGE, JMP_JSGE],
    };
    const c = compare[e.op];
    if (c) bool(this.a, signed ? c[1] : c[0], 1);
    else arith(this.a, e.op);
  }

  /** r0 = 1 when the strings are equal up to their NUL (at most `n` bytes compared). */
  private stringEquals(left: Expr, right: Expr, n: number): void {
    const a = this.a;
    const l = this.locate(left);
    const r = this.locate(right);
    const differ = a.label();
    const same = a.label();
    for (let i = 0; i < n; i++) {
      a.ldx(1, 1, R_SCRATCH, l + i);
      a.ldx(1, 2, R_SCRATCH, r + i);
      a.jmpr(JMP_JNE, 1, 2, differ);
      a.jmp(JMP_JEQ, 1, 0, same);
    }
    a.ja(same);
    a.place(differ);
    flag(a, same);
  }

  private intCall(e: Expr & { kind: "call" }): void {
    const a = this.a;
    switch (e.name) {
      case "bswap": {
        const t = this.type(e) as Ty & { k: "int" };
        this.int(e.args[0] as Expr);
        if (t.size === 1) return;
        a.swap(0, (t.size * 8) as 16 | 32 | 64);
        return;
      }
      case "strncmp": {
        const [x, y, len] = e.args as [Expr, Expr, Expr];
        const n = Math.min(Number(constInt(len) ?? 0n), this.S);
        this.stringEquals(x, y, n);
        a.alu(ALU_XOR, 0, 1);
        return;
      }
      case "strftime":
        // the timestamp itself; user space formats it
        this.int(e.args[1] as Expr);
        return;
      case "ksym":
      case "usym":
        // the address; user space names it
        this.int(e.args[0] as Expr);
        return;
      case "reg":
        register(a, new TextDecoder().decode((e.args[0] as Expr & { kind: "str" }).bytes));
        return;
      case "kstack":
      case "ustack":
        this.stackId(e.name, (this.type(e) as Ty & { k: "sym" }).depth ?? MAX_STACK_DEPTH);
        return;
      case "strcontains": {
        const [hay, needle] = e.args as [Expr, Expr];
        this.strcontains(hay, needle);
        return;
      }
      default:
        throw new NotSupportedError(`${e.name}() as a value`, "tsbpf's tracing language does not build it yet");
    }
  }

  /** r0 = 1 when `needle` occurs in `hay` (both NUL-terminated). */
  private strcontains(hay: Expr, needle: Expr): void {
    const a = this.a;
    const ht = this.type(hay) as Ty & { k: "str" };
    const nt = this.type(needle) as Ty & { k: "str" };
    const h = this.locate(hay);
    const nd = this.locate(needle);
    const hayLen = Math.min(ht.size, this.S);
    const needleLen = Math.min(nt.size, this.S);
    const found = a.label();
    for (let i = 0; i < hayLen; i++) {
      const next = a.label();
      for (let j = 0; j < needleLen && i + j < hayLen; j++) {
        a.ldx(1, 2, R_SCRATCH, nd + j);
        a.jmp(JMP_JEQ, 2, 0, found);
        a.ldx(1, 1, R_SCRATCH, h + i + j);
        a.jmpr(JMP_JNE, 1, 2, next);
      }
      a.place(next);
    }
    flag(a, found);
  }
}
