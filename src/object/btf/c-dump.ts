/**
 * BTF as compilable C (`bpftool btf dump ... format c`, the vmlinux.h generator), following libbpf's
 * btf_dump: types are ordered topologically with "strong" links (embedded types must be defined first) and
 * "weak" ones (pointers can use a forward declaration); duplicate names get `___N` suffixes; declarations
 * are built from BTF chains (pointers, arrays, function prototypes, qualifiers) into C syntax; struct layout
 * is reproduced with explicit bitfield padding and `__attribute__((packed))` where the offsets demand it.
 * It reads the records in place (records.ts): vmlinux's 125k types are walked without building one object each.
 */
import { ObjectError } from "../errors.js";
import { BtfLayout, isMod, TextSink } from "./layout.js";
import type { Btf } from "./parse.js";
import {
  type BtfRecords,
  KIND_ARRAY,
  KIND_CONST,
  KIND_DATASEC,
  KIND_DECL_TAG,
  KIND_ENUM,
  KIND_ENUM64,
  KIND_FLOAT,
  KIND_FUNC,
  KIND_FUNC_PROTO,
  KIND_FWD,
  KIND_INT,
  KIND_PTR,
  KIND_RESTRICT,
  KIND_STRUCT,
  KIND_TYPE_TAG,
  KIND_TYPEDEF,
  KIND_UNION,
  KIND_VAR,
  KIND_VOLATILE,
} from "./records.js";

enum Order {
  NotOrdered = 0,
  Ordering = 1,
  Ordered = 2,
}
enum Emit {
  NotEmitted = 0,
  Emitting = 1,
  Emitted = 2,
}

const LONG_ALIASES = new Set([
  "long",
  "long int",
  "int long",
  "unsigned long",
  "long unsigned",
  "unsigned long int",
  "unsigned int long",
  "long unsigned int",
  "long int unsigned",
  "int unsigned long",
  "int long unsigned",
]);

const isComposite = (kind: number): boolean => kind === KIND_STRUCT || kind === KIND_UNION;
const MAX_PADDING_BITS = 1 << 20;
const MAX_NESTING = 1000;
const tabs = (lvl: number): string => "\t".repeat(Math.min(lvl, 13));

class CDumper {
  private readonly out = new TextSink();
  private readonly order: Uint8Array;
  private readonly emit: Uint8Array;
  private readonly fwdEmitted: Uint8Array;
  private readonly referenced: Uint8Array;
  private readonly resolvedNames: Array<string | undefined>;
  private nesting = 0;
  private readonly typeNames = new Map<string, number>();
  private readonly identNames = new Map<string, number>();
  private queue: number[] = [];
  private readonly ptrSize: number;
  private readonly r: BtfRecords;
  private readonly layout: BtfLayout;

  constructor(btf: Btf) {
    const r = btf.records();
    this.r = r;
    const n = r.count;
    this.order = new Uint8Array(n);
    this.emit = new Uint8Array(n);
    this.fwdEmitted = new Uint8Array(n);
    this.referenced = new Uint8Array(n);
    this.resolvedNames = new Array(n);
    this.order[0] = Order.Ordered;
    this.emit[0] = Emit.Emitted;
    const ref = (id: number): void => {
      this.referenced[id] = 1;
    };
    let ptrSize = 0;
    for (let id = 1; id < n; id++) {
      switch (r.kind(id)) {
        case KIND_INT:
          if (ptrSize === 0 && (r.size(id) === 4 || r.size(id) === 8) && LONG_ALIASES.has(r.name(id))) ptrSize = r.size(id);
          break;
        case KIND_VOLATILE:
        case KIND_CONST:
        case KIND_RESTRICT:
        case KIND_PTR:
        case KIND_TYPEDEF:
        case KIND_FUNC:
        case KIND_VAR:
        case KIND_DECL_TAG:
        case KIND_TYPE_TAG:
          ref(r.type(id));
          break;
        case KIND_ARRAY:
          ref(r.ref(r.arrayIndexType(id), id));
          ref(r.arrayType(id));
          break;
        case KIND_STRUCT:
        case KIND_UNION:
          for (let i = 0, v = r.vlen(id); i < v; i++) ref(r.memberType(id, i));
          break;
        case KIND_FUNC_PROTO:
          for (let i = 0, v = r.vlen(id); i < v; i++) ref(r.paramType(id, i));
          break;
        case KIND_DATASEC:
          for (let i = 0, v = r.vlen(id); i < v; i++) ref(r.varType(id, i));
          break;
        default:
          break;
      }
    }
    this.ptrSize = ptrSize || 8;
    this.layout = new BtfLayout(r, this.ptrSize);
  }

  private print(s: string): void {
    this.out.write(s);
  }

  result(): string {
    return this.out.text();
  }

  // ---- names ----

  private nameDups(map: Map<string, number>, name: string): number {
    const n = (map.get(name) ?? 0) + 1;
    map.set(name, n);
    return n;
  }

  private resolveName(id: number, map: Map<string, number>): string {
    // resolved once per type (a struct's name is printed at every use of it), then read from the array
    const known = this.resolvedNames[id];
    if (known !== undefined) return known;
    const r = this.r;
    let name = r.nameOff(id) === 0 ? "" : r.name(id);
    const kind = r.kind(id);
    if (name !== "" && kind !== KIND_FWD && !(kind === KIND_ENUM && r.vlen(id) === 0)) {
      const dups = this.nameDups(map, name);
      if (dups > 1) name = `${name}___${dups}`;
    }
    this.resolvedNames[id] = name;
    return name;
  }

  private typeName(id: number): string {
    return this.resolveName(id, this.typeNames);
  }

  private identName(id: number): string {
    return this.resolveName(id, this.identNames);
  }

  // ---- ordering ----

  /**
   * Counts nesting for the recursive walks: valid BTF nests a few dozen deep, a cycle (a pointer to itself, a
   * prototype taking a pointer to itself...) for ever — an ObjectError, not the JS stack's RangeError.
   */
  private enter(id: number): void {
    if (++this.nesting > MAX_NESTING) throw new ObjectError("EBTF", `BTF type ${id}: types nest more than ${MAX_NESTING} deep (a cycle)`);
  }

  /** 1 for a strong link, 0 for a weak one (see the module comment). */
  private orderType(id: number, throughPtr: boolean): number {
    this.enter(id);
    try {
      return this.orderTypeIn(id, throughPtr);
    } finally {
      this.nesting--;
    }
  }

  private orderTypeIn(id: number, throughPtr: boolean): number {
    if (this.order[id] === Order.Ordered) return 1;
    const r = this.r;
    const kind = r.kind(id);
    const named = r.nameOff(id) !== 0;
    if (this.order[id] === Order.Ordering) {
      if (isComposite(kind) && throughPtr && named) return 0;
      throw new ObjectError("EBTF", `BTF type ${id}: unsatisfiable type cycle`);
    }
    switch (kind) {
      case KIND_INT:
      case KIND_FLOAT:
        this.order[id] = Order.Ordered;
        return 0;
      case KIND_PTR: {
        const strong = this.orderType(r.type(id), true);
        this.order[id] = Order.Ordered;
        return strong;
      }
      case KIND_ARRAY:
        return this.orderType(r.arrayType(id), false);
      case KIND_STRUCT:
      case KIND_UNION: {
        if (throughPtr && named) return 0;
        this.order[id] = Order.Ordering;
        for (let i = 0, v = r.vlen(id); i < v; i++) this.orderType(r.memberType(id, i), false);
        if (named) this.queue.push(id);
        this.order[id] = Order.Ordered;
        return 1;
      }
      case KIND_ENUM:
      case KIND_ENUM64:
      case KIND_FWD:
        if (named || !this.referenced[id]) this.queue.push(id);
        this.order[id] = Order.Ordered;
        return 1;
      case KIND_TYPEDEF: {
        const strong = this.orderType(r.type(id), throughPtr);
        if (throughPtr && !strong) return 0;
        this.queue.push(id);
        this.order[id] = Order.Ordered;
        return 1;
      }
      case KIND_VOLATILE:
      case KIND_CONST:
      case KIND_RESTRICT:
      case KIND_TYPE_TAG:
        return this.orderType(r.type(id), throughPtr);
      case KIND_FUNC_PROTO: {
        let strong = this.orderType(r.type(id), throughPtr) > 0;
        for (let i = 0, v = r.vlen(id); i < v; i++) if (this.orderType(r.paramType(id, i), throughPtr) > 0) strong = true;
        return strong ? 1 : 0;
      }
      default:
        this.order[id] = Order.Ordered;
        return 0;
    }
  }

  // ---- emitting ----

  dumpType(id: number): void {
    this.queue = [];
    this.orderType(id, false);
    for (const q of this.queue) this.emitType(q, 0);
  }

  private isBlacklisted(id: number): boolean {
    return this.r.nameOff(id) !== 0 && this.r.name(id) === "__builtin_va_list";
  }

  private emitType(id: number, contId: number): void {
    if (this.emit[id] === Emit.Emitted) return;
    this.enter(id);
    try {
      this.emitTypeIn(id, contId);
    } finally {
      this.nesting--;
    }
  }

  private emitTypeIn(id: number, contId: number): void {
    const r = this.r;
    const kind = r.kind(id);
    const named = r.nameOff(id) !== 0;
    const topLevel = contId === 0;
    if (this.emit[id] === Emit.Emitting) {
      if (this.fwdEmitted[id]) return;
      if (isComposite(kind)) {
        if (id === contId) return;
        if (!named) return; // anonymous struct/union loop
        this.emitStructFwd(id);
        this.print(";\n\n");
        this.fwdEmitted[id] = 1;
      } else if (kind === KIND_TYPEDEF) {
        if (!this.isBlacklisted(id)) {
          this.emitTypedefDef(id, r.type(id), 0);
          this.print(";\n\n");
        }
        this.fwdEmitted[id] = 1;
      }
      return;
    }
    switch (kind) {
      case KIND_INT:
        this.emit[id] = Emit.Emitted;
        break;
      case KIND_ENUM:
      case KIND_ENUM64:
        if (topLevel) {
          this.emitEnumDef(id, 0);
          this.print(";\n\n");
        }
        this.emit[id] = Emit.Emitted;
        break;
      case KIND_PTR:
      case KIND_VOLATILE:
      case KIND_CONST:
      case KIND_RESTRICT:
      case KIND_TYPE_TAG:
        this.emitType(r.type(id), contId);
        break;
      case KIND_ARRAY:
        this.emitType(r.arrayType(id), contId);
        break;
      case KIND_FWD:
        this.print(`${r.kflag(id) ? "union" : "struct"} ${this.typeName(id)}`);
        this.print(";\n\n");
        this.emit[id] = Emit.Emitted;
        break;
      case KIND_TYPEDEF:
        this.emit[id] = Emit.Emitting;
        this.emitType(r.type(id), id);
        if (!this.fwdEmitted[id] && !this.isBlacklisted(id)) {
          this.emitTypedefDef(id, r.type(id), 0);
          this.print(";\n\n");
        }
        this.emit[id] = Emit.Emitted;
        break;
      case KIND_STRUCT:
      case KIND_UNION:
        this.emit[id] = Emit.Emitting;
        if (topLevel || !named) {
          const newCont = named ? id : contId;
          for (let i = 0, v = r.vlen(id); i < v; i++) this.emitType(r.memberType(id, i), newCont);
        } else if (!this.fwdEmitted[id] && id !== contId) {
          this.emitStructFwd(id);
          this.print(";\n\n");
          this.fwdEmitted[id] = 1;
        }
        if (topLevel) {
          this.emitStructDef(id, 0);
          this.print(";\n\n");
          this.emit[id] = Emit.Emitted;
        } else {
          this.emit[id] = Emit.NotEmitted;
        }
        break;
      case KIND_FUNC_PROTO:
        this.emitType(r.type(id), contId);
        for (let i = 0, v = r.vlen(id); i < v; i++) this.emitType(r.paramType(id, i), contId);
        break;
      default:
        break;
    }
  }

  private emitStructFwd(id: number): void {
    this.print(`${this.r.kind(id) === KIND_STRUCT ? "struct" : "union"}${this.r.nameOff(id) ? " " : ""}${this.typeName(id)}`);
  }

  /** `member` names where an error is: the member index, or -1 for the struct's end. */
  private emitBitPadding(
    curOff: number,
    nextOff: number,
    nextAlign: number,
    inBitfield: boolean,
    lvl: number,
    id: number,
    member: number,
  ): void {
    if (curOff >= nextOff) return;
    // Real layouts pad a few bytes; a gap of megabits comes from a corrupt offset and would print millions of lines.
    if (nextOff - curOff > MAX_PADDING_BITS) {
      const where = member < 0 ? `type ${id}'s end` : `type ${id} member ${this.r.memberName(id, member) || "(anon)"}`;
      throw new ObjectError("EBTF", `${where}: a gap of ${nextOff - curOff} bits before it is more than any layout pads`);
    }
    for (const [type, bits] of this.layout.bitPadding(curOff, nextOff, nextAlign, inBitfield))
      this.print(`\n${tabs(lvl)}${type}: ${bits};`);
  }

  private emitStructDef(id: number, lvl: number): void {
    const r = this.r;
    const isStruct = r.kind(id) === KIND_STRUCT;
    const align = this.layout.alignOf(id);
    const packed = isStruct ? this.layout.isPacked(id) : false;
    const vlen = r.vlen(id);
    this.print(`${isStruct ? "struct" : "union"}${r.nameOff(id) ? " " : ""}${this.typeName(id)} {`);
    // Offsets are C ints here, as in libbpf's btf_dump (so bpftool's output is matched where a u32 offset wraps).
    let off = 0;
    let prevBitfield = false;
    for (let i = 0; i < vlen; i++) {
      let size = r.memberBitfieldSize(id, i);
      const mOff = r.memberBitOffset(id, i) | 0;
      const mType = r.memberType(id, i);
      const mAlign = packed ? 1 : this.layout.alignOf(mType);
      const inBitfield = prevBitfield && size !== 0;
      this.emitBitPadding(off, mOff, mAlign, inBitfield, lvl + 1, id, i);
      this.print(`\n${tabs(lvl + 1)}`);
      this.emitTypeDecl(mType, r.memberName(id, i), lvl + 1);
      if (size) {
        this.print(`: ${size}`);
        off = (mOff + size) | 0;
        prevBitfield = true;
      } else {
        size = Math.max(0, this.layout.resolveSize(mType));
        off = (mOff + size * 8) | 0;
        prevBitfield = false;
      }
      this.print(";");
    }
    if (isStruct) this.emitBitPadding(off, (r.size(id) * 8) | 0, align, false, lvl + 1, id, -1);
    if (vlen || r.size(id)) this.print(`\n${tabs(lvl)}}`);
    else this.print("}");
    if (packed) this.print(" __attribute__((packed))");
  }

  private emitEnumDef(id: number, lvl: number): void {
    const r = this.r;
    this.print(`enum${r.nameOff(id) ? " " : ""}${this.typeName(id)}`);
    const vlen = r.vlen(id);
    if (vlen === 0) return;
    this.print(" {");
    const suffix = r.kind(id) === KIND_ENUM64 ? (r.kflag(id) ? "LL" : "ULL") : "";
    for (let i = 0; i < vlen; i++) {
      const name = r.enumName(id, i);
      const dups = this.nameDups(this.identNames, name);
      const value = `${r.enumValue(id, i)}${suffix}`;
      this.print(dups > 1 ? `\n${tabs(lvl + 1)}${name}___${dups} = ${value},` : `\n${tabs(lvl + 1)}${name} = ${value},`);
    }
    // (libbpf >= 1.2 adds mode(byte)/mode(word) for odd-sized enums; bpftool 7.1's libbpf 1.1 does not.)
    this.print(`\n${tabs(lvl)}}`);
  }

  private emitTypedefDef(id: number, target: number, lvl: number): void {
    const name = this.identName(id);
    if (target === 0 && name === "__gnuc_va_list") {
      this.print("typedef __builtin_va_list __gnuc_va_list");
      return;
    }
    this.print("typedef ");
    this.emitTypeDecl(target, name, lvl);
  }

  // ---- declarations ----

  private emitTypeDecl(id: number, fname: string, lvl: number): void {
    this.enter(id);
    try {
      this.emitTypeDeclIn(id, fname, lvl);
    } finally {
      this.nesting--;
    }
  }

  private emitTypeDeclIn(id: number, fname: string, lvl: number): void {
    const r = this.r;
    const stack: number[] = [];
    let cur = id;
    for (let guard = 0; guard < 1024; guard++) {
      stack.push(cur);
      if (cur === 0) break;
      const kind = r.kind(cur);
      if (kind === KIND_PTR || isMod(kind) || kind === KIND_FUNC_PROTO) cur = r.type(cur);
      else if (kind === KIND_ARRAY) cur = r.arrayType(cur);
      else break;
    }
    this.emitTypeChain(stack, fname, lvl);
  }

  private emitMods(stack: number[]): void {
    while (stack.length) {
      const kind = this.r.kind(stack[stack.length - 1] as number);
      if (kind === KIND_VOLATILE) this.print("volatile ");
      else if (kind === KIND_CONST) this.print("const ");
      else if (kind === KIND_RESTRICT) this.print("restrict ");
      else return;
      stack.pop();
    }
  }

  private dropMods(stack: number[]): void {
    while (stack.length && isMod(this.r.kind(stack[stack.length - 1] as number))) stack.pop();
  }

  private emitName(name: string, lastWasPtr: boolean): void {
    this.print(`${name !== "" && !lastWasPtr ? " " : ""}${name}`);
  }

  /** Pops the declaration stack from the terminal type outwards, printing C declarator syntax. */
  private emitTypeChain(stack: number[], fname: string, lvl: number): void {
    const r = this.r;
    let lastWasPtr = true;
    while (stack.length) {
      const id = stack.pop() as number;
      if (id === 0) {
        this.emitMods(stack);
        this.print("void");
        lastWasPtr = false;
        continue;
      }
      const kind = r.kind(id);
      switch (kind) {
        case KIND_INT:
        case KIND_FLOAT:
          this.emitMods(stack);
          this.print(r.name(id));
          break;
        case KIND_STRUCT:
        case KIND_UNION:
          this.emitMods(stack);
          if (r.nameOff(id) === 0) this.emitStructDef(id, lvl);
          else this.emitStructFwd(id);
          break;
        case KIND_ENUM:
        case KIND_ENUM64:
          this.emitMods(stack);
          if (r.nameOff(id) === 0) this.emitEnumDef(id, lvl);
          else this.print(`enum ${this.typeName(id)}`);
          break;
        case KIND_FWD:
          this.emitMods(stack);
          this.print(`${r.kflag(id) ? "union" : "struct"} ${this.typeName(id)}`);
          break;
        case KIND_TYPEDEF:
          this.emitMods(stack);
          this.print(this.identName(id));
          break;
        case KIND_PTR:
          this.print(lastWasPtr ? "*" : " *");
          break;
        case KIND_VOLATILE:
          this.print(" volatile");
          break;
        case KIND_CONST:
          this.print(" const");
          break;
        case KIND_RESTRICT:
          this.print(" restrict");
          break;
        case KIND_TYPE_TAG:
          this.emitMods(stack);
          this.print(` __attribute__((btf_type_tag("${r.name(id)}")))`);
          break;
        case KIND_ARRAY: {
          this.dropMods(stack);
          if (stack.length === 0) {
            this.emitName(fname, lastWasPtr);
            this.print(`[${r.arrayNelems(id)}]`);
            return;
          }
          const multidim = r.kind(stack[stack.length - 1] as number) === KIND_ARRAY;
          if (fname !== "" && !lastWasPtr) this.print(" ");
          if (!multidim) this.print("(");
          this.emitTypeChain(stack, fname, lvl);
          if (!multidim) this.print(")");
          this.print(`[${r.arrayNelems(id)}]`);
          return;
        }
        case KIND_FUNC_PROTO: {
          this.dropMods(stack);
          if (stack.length) {
            this.print(" (");
            this.emitTypeChain(stack, fname, lvl);
            this.print(")");
          } else {
            this.emitName(fname, lastWasPtr);
          }
          this.print("(");
          const vlen = r.vlen(id);
          if (vlen === 0 || (vlen === 1 && r.paramType(id, 0) === 0)) {
            this.print("void)");
            return;
          }
          for (let i = 0; i < vlen; i++) {
            if (i > 0) this.print(", ");
            const type = r.paramType(id, i);
            if (i === vlen - 1 && type === 0) {
              this.print("...");
              break;
            }
            this.emitTypeDecl(type, r.paramName(id, i), lvl);
          }
          this.print(")");
          return;
        }
        default:
          return;
      }
      lastWasPtr = kind === KIND_PTR;
    }
    this.emitName(fname, lastWasPtr);
  }
}

/**
 * The whole BTF as a C header, exactly as `bpftool btf dump file X format c` prints it; with `roots`, only
 * those types and what they need (bpftool's `btf dump map MAP key|value|kv format c`).
 */
export function dumpBtfC(btf: Btf, roots?: readonly number[]): string {
  const d = new CDumper(btf);
  if (roots) for (const id of roots) d.dumpType(id);
  else for (let id = 1; id < btf.count; id++) d.dumpType(id);
  return (
    "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n" +
    "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n" +
    d.result() +
    "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n"
  );
}
