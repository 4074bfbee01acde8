/**
 * Expressions for the code generator: integers computed in r0 (spilled to stack slots around subexpressions
 * and helper calls), strings and tuples built in the per-CPU scratch value whose address stays in r9, map
 * reads and writes, and what the probe's context holds. The statements around them are codegen.ts's.
 */

import { NotSupportedError } from "../errors.js";
import { helperId } from "../helpers/names.js";
import {
  ALU_ADD,
  ALU_MUL,
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
import { Asm } from "./asm.js";
import type { Expr } from "./ast.js";
import {
  argument,
  PROBE_READ_KERNEL,
  probeRead,
  probeReadStr,
  register,
  returnValue,
  tracepointInt,
  tracepointString,
} from "./emit-context.js";
import { arith, bool, builtin, extend, flag, stringConstant } from "./emit-ops.js";
import { type CodegenOptions, type CompiledMap, type ScriptLayout, stackMapName } from "./layout.js";
import type { AttachPoint, TracepointField } from "./probes.js";
import { isWord, MAX_STACK_DEPTH, pointeeSize, roundUp8, storageSize, type Ty, tupleOffsets } from "./types.js";

export const MAP_LOOKUP = helperId("map_lookup_elem");
const MAP_UPDATE = helperId("map_update_elem");
const GET_CURRENT_COMM = helperId("get_current_comm");
const GET_STACKID = helperId("get_stackid");
const BPF_F_USER_STACK = 1 << 8;
const BPF_ANY = 0;

export const R_CTX = 6;
export const R_SCRATCH = 9;
export const FP = 10;
/** Stack bytes kept for the scratch lookup key. */
export const KEY_SLOT = -8;
const STACK_LIMIT = 512;
const AF_INET = 2;
const AF_INET6 = 10;

/** args->FIELD: a tracepoint record's field. */
const isArgs = (e: Expr): boolean => e.kind === "builtin" && e.name === "args";

/** Storage, maps and expressions of one attach point's program. */
export abstract class ExprGen {
  protected readonly a = new Asm();
  protected scratchTop = 0;
  protected readonly slotOf = new Map<string, number>();
  protected readonly regionOf = new Map<string, number>();
  protected stackTop: number;
  protected readonly S: number;

  constructor(
    protected readonly layout: ScriptLayout,
    protected readonly analysis: Analysis,
    protected readonly vars: ReadonlyMap<string, Ty>,
    protected readonly point: AttachPoint,
    protected readonly opts: CodegenOptions,
  ) {
    this.S = roundUp8(layout.strlen);
    this.stackTop = KEY_SLOT;
    for (const [name, t] of vars) {
      if (isWord(t)) this.slotOf.set(name, this.pushSlot());
      else this.regionOf.set(name, this.alloc(storageSize(t, layout.strlen)));
    }
  }

  // ---- storage ----

  protected pushSlot(): number {
    this.stackTop -= 8;
    if (-this.stackTop > STACK_LIMIT) throw new NotSupportedError("this script", "its expressions need more than 512 bytes of stack");
    return this.stackTop;
  }

  protected popSlot(): void {
    this.stackTop += 8;
  }

  protected alloc(size: number): number {
    const at = this.scratchTop;
    this.scratchTop += (size + 7) & ~7;
    if (this.scratchTop > 32768)
      throw new NotSupportedError("this script", "its strings and tuples need more than 32 KiB of scratch space");
    return at;
  }

  protected type(e: Expr): Ty {
    const t = this.analysis.types.get(e);
    if (!t) throw new Error(`internal: no type for ${e.kind} at ${e.range.line}:${e.range.col}`);
    return t;
  }

  protected size(t: Ty): number {
    return storageSize(t, this.layout.strlen);
  }

  protected zero(off: number, size: number): void {
    for (let i = 0; i < size; i += 8) this.a.st(8, R_SCRATCH, off + i, 0);
  }

  /** Copies `size` bytes from [src+srcOff] to scratch at `off` (r1 as the carrier). */
  protected copy(src: number, srcOff: number, off: number, size: number): void {
    for (let i = 0; i < size; i += 8) {
      this.a.ldx(8, 1, src, srcOff + i);
      this.a.stx(8, R_SCRATCH, off + i, 1);
    }
  }

  protected scratchPtr(reg: number, off: number): void {
    this.a.movr(reg, R_SCRATCH);
    if (off !== 0) this.a.alu(ALU_ADD, reg, off);
  }

  /** if (cond) yes() else no(). */
  protected branch(cond: Expr, yes: () => void, no: () => void): void {
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

  protected varSlot(name: string): number {
    const slot = this.slotOf.get(name);
    if (slot === undefined) throw new Error(`internal: no slot for ${name}`);
    return slot;
  }

  protected mapOf(name: string): CompiledMap {
    return this.layout.maps.get(name) as CompiledMap;
  }

  // ---- maps ----

  /** Builds the key of a map access in scratch; returns its offset. */
  protected key(m: Expr & { kind: "map" }, extra = 0): number {
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

  protected lookup(info: CompiledMap, key: number): void {
    this.a.mapRef(1, info.bpfName);
    this.scratchPtr(2, key);
    this.a.call(MAP_LOOKUP);
  }

  protected update(info: CompiledMap, key: number, value: number): void {
    this.a.mapRef(1, info.bpfName);
    this.scratchPtr(2, key);
    this.scratchPtr(3, value);
    this.a.mov(4, BPF_ANY);
    this.a.call(MAP_UPDATE);
  }

  protected readMapInt(m: Expr & { kind: "map" }): void {
    const info = this.mapOf(m.name);
    const key = this.key(m);
    this.lookup(info, key);
    const done = this.a.label();
    this.a.jmp(JMP_JEQ, 0, 0, done);
    this.a.ldx(8, 0, 0, 0);
    this.a.place(done);
  }

  /** Stores r0 as the map element's value. */
  protected storeMapInt(m: Expr & { kind: "map" }): void {
    const info = this.mapOf(m.name);
    const value = this.alloc(8);
    this.a.stx(8, R_SCRATCH, value, 0);
    const key = this.key(m);
    this.update(info, key, value);
  }

  // ---- values in memory ----

  /** Writes the value of `e` (as type `as`, default its own) into scratch at `off`. */
  protected to(e: Expr, off: number, as: Ty = this.type(e)): void {
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
    if (from !== off) this.copyPadded(from, off, this.size(t), this.size(as));
  }

  /** Copies a value of `have` bytes into a place of `want` bytes, zeroing what it does not fill. */
  protected copyPadded(from: number, to: number, have: number, want: number): void {
    this.copy(R_SCRATCH, from, to, Math.min(have, want));
    if (want > have) this.zero(to + have, want - have);
  }

  /** Scratch offset holding the (string or tuple) value of `e`, materializing it if needed. */
  protected locate(e: Expr): number {
    const t = this.type(e);
    if (e.kind === "var") return this.regionOf.get(e.name) as number;
    if (e.kind === "field" && t.k !== "int" && !isArgs(e.base) && !this.isKernelMember(e)) {
      const base = this.type(e.base) as Ty & { k: "tuple" };
      return this.locate(e.base) + (tupleOffsets(base, this.layout.strlen)[Number(e.field)] as number);
    }
    const at = this.alloc(this.size(t));
    this.materialize(e, at, this.size(t));
    return at;
  }

  protected materialize(e: Expr, at: number, size: number): void {
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
        if (e.name === "probe") {
          stringConstant(this.a, new TextEncoder().encode(this.point.name), at, size);
          return;
        }
        break;
      case "field":
        if (isArgs(e.base)) {
          this.tracepointString(this.field(e.field), at, size);
          return;
        }
        if (this.isKernelMember(e) && t.k === "str") {
          // a char array of a kernel struct, copied whole (it need not end in NUL)
          this.zero(at, size);
          this.memberAddress(e);
          a.movr(3, 0);
          this.scratchPtr(1, at);
          a.mov(2, Math.min(t.size, size - 1));
          a.call(PROBE_READ_KERNEL);
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
        this.copy(0, 0, at, Math.min(size, info.valueSize));
        if (size > info.valueSize) this.zero(at + info.valueSize, size - info.valueSize);
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
        if (e.name === "ntop") {
          this.ntop(e, at);
          return;
        }
        if (e.name === "buf") {
          this.readBuffer(e, at, t as Ty & { k: "buf" });
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
  protected stackId(kind: "kstack" | "ustack", depth: number): void {
    const name = stackMapName(kind, depth);
    this.layout.stacks.set(name, { kind, depth });
    this.a.movr(1, R_CTX);
    this.a.mapRef(2, name);
    this.a.mov(3, kind === "ustack" ? BPF_F_USER_STACK : 0);
    this.a.call(GET_STACKID);
  }

  /** Whether `e` is `p->field` or `s.field` on a kernel struct. */
  protected isKernelMember(e: Expr & { kind: "field" }): boolean {
    const b = this.type(e.base);
    return b.k === "sptr" || b.k === "sref";
  }

  /** r0 = the address of a kernel struct member: the base pointer (or embedded struct's address) plus its offset. */
  protected memberAddress(e: Expr & { kind: "field" }): void {
    const base = e.base;
    if (base.kind === "field" && this.isKernelMember(base) && this.type(base).k === "sref") this.memberAddress(base);
    else if (base.kind === "unop" && base.op === "*") this.int(base.operand);
    else this.int(base);
    const off = this.analysis.offsets.get(e) ?? 0;
    if (off !== 0) this.a.alu(ALU_ADD, 0, off);
  }

  /** r0 = the value (of type `t`) at the address in r0, read from the probe's address space; 0 if unreadable. */
  protected deref(t: Ty, helper = probeRead(this.point)): void {
    const a = this.a;
    const size = t.k === "int" ? t.size : 8;
    const slot = this.pushSlot();
    a.movr(3, 0);
    a.st(8, FP, slot, 0);
    a.movr(1, FP);
    a.alu(ALU_ADD, 1, slot);
    a.mov(2, size);
    a.call(helper);
    a.ldx(size as 1 | 2 | 4 | 8, 0, FP, slot);
    if (t.k === "int") extend(a, size, t.signed);
    this.popSlot();
  }

  /** ntop([af,] addr): the family word (AF_INET unless given; 16-byte arrays AF_INET6) and the address bytes. */
  protected ntop(e: Expr & { kind: "call" }, at: number): void {
    const a = this.a;
    const addr = e.args[e.args.length - 1] as Expr;
    const at_ = this.type(addr);
    this.zero(at, 24);
    if (e.args.length === 2) this.int(e.args[0] as Expr);
    else a.mov(0, at_.k === "str" && at_.size === 16 ? AF_INET6 : AF_INET);
    a.stx(8, R_SCRATCH, at, 0);
    if (at_.k === "str") {
      this.copy(R_SCRATCH, this.locate(addr), at + 8, at_.size);
      return;
    }
    this.int(addr);
    a.stx(4, R_SCRATCH, at + 8, 0);
  }

  /** buf(p[, n]): the length word, then n (at most the type's size) bytes read from the probe's memory. */
  protected readBuffer(e: Expr & { kind: "call" }, at: number, t: Ty & { k: "buf" }): void {
    const a = this.a;
    const [src, len] = e.args as [Expr, Expr | undefined];
    const st = this.type(src);
    this.zero(at, this.size(t));
    if (st.k === "str") {
      this.copy(R_SCRATCH, this.locate(src), at + 8, Math.min(this.size(st), roundUp8(t.size)));
      a.st(8, R_SCRATCH, at, Math.min(st.size, t.size));
      return;
    }
    const slot = this.pushSlot();
    if (len) {
      // n bytes, in [0, size] whatever n is (also for the verifier)
      this.int(len);
      const small = a.label();
      a.jmp(JMP_JLE, 0, t.size, small);
      a.mov(0, t.size);
      a.place(small);
    } else a.mov(0, t.size);
    a.stx(8, FP, slot, 0);
    a.stx(8, R_SCRATCH, at, 0);
    this.int(src);
    a.movr(3, 0);
    this.scratchPtr(1, at + 8);
    a.ldx(8, 2, FP, slot);
    a.call(probeRead(this.point));
    this.popSlot();
  }

  /** This point's tracepoint field (analysis made sure it exists). */
  protected field(name: string): TracepointField {
    const f = this.point.type === "tracepoint" ? this.point.fields?.find((x) => x.name === name) : undefined;
    if (!f) throw new NotSupportedError(`args->${name} on ${this.point.name}`, "the probe's record has no such field");
    return f;
  }

  /** A char array or __data_loc string of the tracepoint record into scratch at `at`. */
  protected tracepointString(f: TracepointField, at: number, size: number): void {
    this.zero(at, size);
    this.scratchPtr(1, at);
    tracepointString(this.a, f, size);
  }

  /**
   * str(p) and str(p, n) into scratch at `at`: at most min(n + 1, strlen) bytes with the NUL (bpftrace's
   * count is of characters), read from the probe's address space; a string argument is copied.
   */
  protected readString(e: Expr & { kind: "call" }, at: number, size: number): void {
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
        else if (e.name === "func") register(a, "ip");
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
        if (e.op === "*") this.deref(this.type(e));
        else if (e.op === "!") bool(this.a, JMP_JEQ);
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
        if (e.pointer === 0) extend(this.a, e.type.size, e.type.signed);
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
        if (this.isKernelMember(e)) {
          this.memberAddress(e);
          this.deref(this.type(e), PROBE_READ_KERNEL);
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

  protected incdec(e: Expr & { kind: "incdec" }): void {
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

  protected binop(e: Expr & { kind: "binop" }): void {
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
    // pointer arithmetic steps by the pointee's size
    if (e.op === "+" || e.op === "-") {
      if (lt.k === "ptr" && rt.k === "int" && pointeeSize(lt) > 1) a.alu(ALU_MUL, 1, pointeeSize(lt));
      if (lt.k === "int" && rt.k === "ptr" && pointeeSize(rt) > 1) a.alu(ALU_MUL, 0, pointeeSize(rt));
    }
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
  protected stringEquals(left: Expr, right: Expr, n: number): void {
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

  protected intCall(e: Expr & { kind: "call" }): void {
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
      case "kaddr":
      case "uaddr":
        a.const64(0, this.analysis.values.get(e) ?? 0n);
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
  protected strcontains(hay: Expr, needle: Expr): void {
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
