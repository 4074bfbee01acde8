/**
 * Code generation: one eBPF program per attach point. Integers are computed in r0 (spilled to stack slots
 * around subexpressions and helper calls); strings and tuples live in a per-CPU scratch array value whose
 * address stays in r9, so keys, values and events are built there and handed to helpers as they are. Output
 * (printf, print, exit…) goes to user space as ring buffer records: a u64 event id, then the arguments. This
 * file has the program's frame, statements, aggregations and output; codegen-expr.ts the expressions.
 */
import { helperId } from "../helpers/names.js";
import { ALU_ADD, JMP_JEQ, JMP_JSGE, JMP_JSLE, JMP_JSLT } from "../isa/opcodes.js";
import type { Analysis } from "./analyse.js";
import { constInt } from "./analyse.js";
import type { Label } from "./asm.js";
import type { Expr, Stmt } from "./ast.js";
import { ExprGen, FP, KEY_SLOT, MAP_LOOKUP, R_CTX, R_SCRATCH } from "./codegen-expr.js";
import { probeRead, probeReadStr } from "./emit-context.js";
import { arith, linearBucket, log2Bucket } from "./emit-ops.js";
import { type CodegenOptions, type CompiledMap, EVENTS_MAP, type EventDesc, SCRATCH_MAP, type ScriptLayout } from "./layout.js";
import type { AttachPoint } from "./probes.js";
import { isWord, storageSize, type Ty } from "./types.js";

const MAP_DELETE = helperId("map_delete_elem");
const RINGBUF_OUTPUT = helperId("ringbuf_output");

interface Loop {
  readonly cont: Label;
  readonly brk: Label;
}

/** Generates one attach point's program. */
export class ProgramGen extends ExprGen {
  private readonly loops: Loop[] = [];
  private readonly exitLabel: Label;

  constructor(layout: ScriptLayout, analysis: Analysis, vars: ReadonlyMap<string, Ty>, point: AttachPoint, opts: CodegenOptions) {
    super(layout, analysis, vars, point, opts);
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
        if (from !== to) this.copyPadded(from, to, this.size(this.type(s.value)), this.size(t));
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

  /** An expression evaluated for its effect (calls, ++, --). */
  private effect(e: Expr): void {
    if (e.kind === "call") {
      this.statementCall(e);
      return;
    }
    if (this.type(e).k === "int") this.int(e);
    else this.locate(e);
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
        this.emit({ kind: e.name, format: fmt.bytes, args: args.map((x) => this.type(x)) }, args);
        return;
      }
      case "join":
        this.join(e);
        return;
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

  /**
   * join(argv[, delim]): the strings of a NULL-ended array of string pointers (16 at most, as bpftrace's),
   * each read up to strlen into its slot of the record, after the id and their count.
   */
  private join(e: Expr & { kind: "call" }): void {
    const a = this.a;
    const slots = 16;
    const slotSize = this.S;
    const delim = e.args[1]?.kind === "str" ? new TextDecoder().decode(e.args[1].bytes) : " ";
    const id = this.layout.event({ kind: "join", delim, slots, slotSize });
    const total = 16 + slots * slotSize;
    const at = this.alloc(total);
    a.const64(1, BigInt(id));
    a.stx(8, R_SCRATCH, at, 1);
    this.zero(at + 8, total - 8);
    const base = this.pushSlot();
    const word = this.pushSlot();
    this.int(e.args[0] as Expr);
    a.stx(8, FP, base, 0);
    const done = a.label();
    for (let i = 0; i < slots; i++) {
      a.ldx(8, 3, FP, base);
      if (i > 0) a.alu(ALU_ADD, 3, 8 * i);
      a.st(8, FP, word, 0);
      a.movr(1, FP);
      a.alu(ALU_ADD, 1, word);
      a.mov(2, 8);
      a.call(probeRead(this.point));
      a.ldx(8, 3, FP, word);
      a.jmp(JMP_JEQ, 3, 0, done);
      this.scratchPtr(1, at + 16 + i * slotSize);
      a.mov(2, slotSize);
      a.call(probeReadStr(this.point));
      a.st(8, R_SCRATCH, at + 8, i + 1);
    }
    a.place(done);
    this.popSlot();
    this.popSlot();
    a.mapRef(1, EVENTS_MAP);
    this.scratchPtr(2, at);
    a.mov(3, total);
    a.mov(4, 0);
    a.call(RINGBUF_OUTPUT);
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
}
