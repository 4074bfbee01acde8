/**
 * BTF as compilable C (`bpftool btf dump ... format c`, the vmlinux.h generator), following libbpf's
 * btf_dump: types are ordered topologically with "strong" links (embedded types must be defined first) and
 * "weak" ones (pointers can use a forward declaration); duplicate names get `___N` suffixes; declarations
 * are built from BTF chains (pointers, arrays, function prototypes, qualifiers) into C syntax; struct layout
 * is reproduced with explicit bitfield padding and `__attribute__((packed))` where the offsets demand it.
 */
import { ObjectError } from "../errors.js";
import type { Btf } from "./parse.js";
import { typeSize } from "./resolve.js";
import type { BtfType } from "./types.js";

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

const isComposite = (t: BtfType): t is Extract<BtfType, { kind: "STRUCT" | "UNION" }> => t.kind === "STRUCT" || t.kind === "UNION";
const isMod = (t: BtfType): boolean => t.kind === "VOLATILE" || t.kind === "CONST" || t.kind === "RESTRICT" || t.kind === "TYPE_TAG";
const MAX_PADDING_BITS = 1 << 20;
const tabs = (lvl: number): string => "\t".repeat(Math.min(lvl, 13));

class CDumper {
  private out: string[] = [];
  private readonly order: Uint8Array;
  private readonly emit: Uint8Array;
  private readonly fwdEmitted: Uint8Array;
  private readonly referenced: Uint8Array;
  private readonly nameResolved: Uint8Array;
  private readonly cachedNames = new Map<number, string>();
  private readonly typeNames = new Map<string, number>();
  private readonly identNames = new Map<string, number>();
  private queue: number[] = [];
  private readonly ptrSize: number;

  constructor(private readonly btf: Btf) {
    const n = btf.types.length;
    this.order = new Uint8Array(n);
    this.emit = new Uint8Array(n);
    this.fwdEmitted = new Uint8Array(n);
    this.referenced = new Uint8Array(n);
    this.nameResolved = new Uint8Array(n);
    this.order[0] = Order.Ordered;
    this.emit[0] = Emit.Emitted;
    const ref = (id: number): void => {
      if (id < n) this.referenced[id] = 1;
    };
    for (const t of btf.types) {
      if (t.id === 0) continue;
      switch (t.kind) {
        case "VOLATILE":
        case "CONST":
        case "RESTRICT":
        case "PTR":
        case "TYPEDEF":
        case "FUNC":
        case "VAR":
        case "DECL_TAG":
        case "TYPE_TAG":
          ref(t.type);
          break;
        case "ARRAY":
          ref(t.indexType);
          ref(t.type);
          break;
        case "STRUCT":
        case "UNION":
          for (const m of t.members) ref(m.type);
          break;
        case "FUNC_PROTO":
          for (const p of t.params) ref(p.type);
          break;
        case "DATASEC":
          for (const v of t.vars) ref(v.type);
          break;
        default:
          break;
      }
    }
    this.ptrSize = this.determinePtrSize();
  }

  private determinePtrSize(): number {
    for (const t of this.btf.types) {
      if (t.kind === "INT" && (t.size === 4 || t.size === 8) && LONG_ALIASES.has(t.name)) return t.size;
    }
    return 8;
  }

  private t(id: number): BtfType {
    const t = this.btf.type(id);
    if (!t) throw new RangeError(`BTF type ${id} does not exist`);
    return t;
  }

  private print(s: string): void {
    this.out.push(s);
  }

  result(): string {
    return this.out.join("");
  }

  // ---- sizes and alignment (libbpf's btf__resolve_size / btf__align_of) ----

  private resolveSize(id: number): number {
    try {
      return typeSize(this.btf, id, "C dump", this.ptrSize);
    } catch (e) {
      if (e instanceof ObjectError) return 0; // a sizeless type (function prototype, forward declaration)
      throw e;
    }
  }

  private alignOf(id: number, depth = 0): number {
    if (depth > 64) return 0;
    const t = this.t(id);
    switch (t.kind) {
      case "INT":
      case "ENUM":
      case "ENUM64":
      case "FLOAT":
        return Math.min(this.ptrSize, t.size);
      case "PTR":
        return this.ptrSize;
      case "TYPEDEF":
      case "VOLATILE":
      case "CONST":
      case "RESTRICT":
      case "TYPE_TAG":
        return this.alignOf(t.type, depth + 1);
      case "ARRAY":
        return this.alignOf(t.type, depth + 1);
      case "STRUCT":
      case "UNION": {
        let maxAlign = 1;
        for (const m of t.members) {
          const align = this.alignOf(m.type, depth + 1);
          if (align <= 0) return 0;
          maxAlign = Math.max(maxAlign, align);
          if (m.bitfieldSize === 0 && m.bitOffset % (8 * align) !== 0) return 1;
        }
        return t.size % maxAlign !== 0 ? 1 : maxAlign;
      }
      default:
        return 0;
    }
  }

  private isPacked(t: Extract<BtfType, { kind: "STRUCT" | "UNION" }>): boolean {
    let maxAlign = 1;
    for (const m of t.members) {
      const align = this.alignOf(m.type);
      if (align && m.bitfieldSize === 0 && m.bitOffset % (8 * align) !== 0) return true;
      maxAlign = Math.max(align, maxAlign);
    }
    return t.size % maxAlign !== 0;
  }

  // ---- names ----

  private nameDups(map: Map<string, number>, name: string): number {
    const n = (map.get(name) ?? 0) + 1;
    map.set(name, n);
    return n;
  }

  private resolveName(id: number, map: Map<string, number>): string {
    const t = this.t(id);
    if (t.nameOff === 0) return "";
    if (this.nameResolved[id]) return this.cachedNames.get(id) ?? t.name;
    if (t.kind === "FWD" || (t.kind === "ENUM" && t.values.length === 0)) {
      this.nameResolved[id] = 1;
      return t.name;
    }
    const dups = this.nameDups(map, t.name);
    if (dups > 1) this.cachedNames.set(id, `${t.name}___${dups}`);
    this.nameResolved[id] = 1;
    return this.cachedNames.get(id) ?? t.name;
  }

  private typeName(id: number): string {
    return this.resolveName(id, this.typeNames);
  }

  private identName(id: number): string {
    return this.resolveName(id, this.identNames);
  }

  // ---- ordering ----

  /** 1 for a strong link, 0 for a weak one (see the module comment). */
  private orderType(id: number, throughPtr: boolean): number {
    if (this.order[id] === Order.Ordered) return 1;
    const t = this.t(id);
    if (this.order[id] === Order.Ordering) {
      if (isComposite(t) && throughPtr && t.nameOff !== 0) return 0;
      throw new RangeError(`unsatisfiable type cycle at [${id}]`);
    }
    switch (t.kind) {
      case "INT":
      case "FLOAT":
        this.order[id] = Order.Ordered;
        return 0;
      case "PTR": {
        const r = this.orderType(t.type, true);
        this.order[id] = Order.Ordered;
        return r;
      }
      case "ARRAY":
        return this.orderType(t.type, false);
      case "STRUCT":
      case "UNION": {
        if (throughPtr && t.nameOff !== 0) return 0;
        this.order[id] = Order.Ordering;
        for (const m of t.members) this.orderType(m.type, false);
        if (t.nameOff !== 0) this.queue.push(id);
        this.order[id] = Order.Ordered;
        return 1;
      }
      case "ENUM":
      case "ENUM64":
      case "FWD":
        if (t.nameOff !== 0 || !this.referenced[id]) this.queue.push(id);
        this.order[id] = Order.Ordered;
        return 1;
      case "TYPEDEF": {
        const strong = this.orderType(t.type, throughPtr);
        if (throughPtr && !strong) return 0;
        this.queue.push(id);
        this.order[id] = Order.Ordered;
        return 1;
      }
      case "VOLATILE":
      case "CONST":
      case "RESTRICT":
      case "TYPE_TAG":
        return this.orderType(t.type, throughPtr);
      case "FUNC_PROTO": {
        let strong = this.orderType(t.returnType, throughPtr) > 0;
        for (const p of t.params) if (this.orderType(p.type, throughPtr) > 0) strong = true;
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
    const t = this.t(id);
    return t.nameOff !== 0 && t.name === "__builtin_va_list";
  }

  private emitType(id: number, contId: number): void {
    if (this.emit[id] === Emit.Emitted) return;
    const t = this.t(id);
    const topLevel = contId === 0;
    if (this.emit[id] === Emit.Emitting) {
      if (this.fwdEmitted[id]) return;
      if (isComposite(t)) {
        if (id === contId) return;
        if (t.nameOff === 0) return; // anonymous struct/union loop
        this.emitStructFwd(id, t);
        this.print(";\n\n");
        this.fwdEmitted[id] = 1;
      } else if (t.kind === "TYPEDEF") {
        if (!this.isBlacklisted(id)) {
          this.emitTypedefDef(id, t.type, 0);
          this.print(";\n\n");
        }
        this.fwdEmitted[id] = 1;
      }
      return;
    }
    switch (t.kind) {
      case "INT":
        this.emit[id] = Emit.Emitted;
        break;
      case "ENUM":
      case "ENUM64":
        if (topLevel) {
          this.emitEnumDef(id, t, 0);
          this.print(";\n\n");
        }
        this.emit[id] = Emit.Emitted;
        break;
      case "PTR":
      case "VOLATILE":
      case "CONST":
      case "RESTRICT":
      case "TYPE_TAG":
        this.emitType(t.type, contId);
        break;
      case "ARRAY":
        this.emitType(t.type, contId);
        break;
      case "FWD":
        this.print(`${t.kflag ? "union" : "struct"} ${this.typeName(id)}`);
        this.print(";\n\n");
        this.emit[id] = Emit.Emitted;
        break;
      case "TYPEDEF":
        this.emit[id] = Emit.Emitting;
        this.emitType(t.type, id);
        if (!this.fwdEmitted[id] && !this.isBlacklisted(id)) {
          this.emitTypedefDef(id, t.type, 0);
          this.print(";\n\n");
        }
        this.emit[id] = Emit.Emitted;
        break;
      case "STRUCT":
      case "UNION":
        this.emit[id] = Emit.Emitting;
        if (topLevel || t.nameOff === 0) {
          const newCont = t.nameOff === 0 ? contId : id;
          for (const m of t.members) this.emitType(m.type, newCont);
        } else if (!this.fwdEmitted[id] && id !== contId) {
          this.emitStructFwd(id, t);
          this.print(";\n\n");
          this.fwdEmitted[id] = 1;
        }
        if (topLevel) {
          this.emitStructDef(id, t, 0);
          this.print(";\n\n");
          this.emit[id] = Emit.Emitted;
        } else {
          this.emit[id] = Emit.NotEmitted;
        }
        break;
      case "FUNC_PROTO":
        this.emitType(t.returnType, contId);
        for (const p of t.params) this.emitType(p.type, contId);
        break;
      default:
        break;
    }
  }

  private emitStructFwd(id: number, t: Extract<BtfType, { kind: "STRUCT" | "UNION" }>): void {
    this.print(`${t.kind === "STRUCT" ? "struct" : "union"}${t.nameOff ? " " : ""}${this.typeName(id)}`);
  }

  private emitBitPadding(curOff: number, nextOff: number, nextAlign: number, inBitfield: boolean, lvl: number, where: string): void {
    if (curOff >= nextOff) return;
    // Real layouts pad a few bytes; a gap of megabits comes from a corrupt offset and would print millions of lines.
    if (nextOff - curOff > MAX_PADDING_BITS)
      throw new ObjectError("EBTF", `${where}: a gap of ${nextOff - curOff} bits before it is more than any layout pads`);
    const pads: Array<[string, number]> = [
      ["long", this.ptrSize * 8],
      ["int", 32],
      ["short", 16],
      ["char", 8],
    ];
    const roundup = (x: number, y: number): number => Math.ceil(x / y) * y;
    let newOff = 0;
    let padBits = 0;
    let padType = "";
    for (const [name, bits] of pads) {
      padBits = bits;
      padType = name;
      newOff = roundup(curOff, padBits);
      if (newOff <= nextOff) break;
    }
    if (newOff > curOff && newOff <= nextOff) {
      if (
        inBitfield ||
        (newOff === nextOff && roundup(curOff, nextAlign * 8) !== newOff) ||
        (newOff !== nextOff && nextOff - newOff <= newOff - curOff)
      ) {
        this.print(`\n${tabs(lvl)}${padType}: ${inBitfield ? newOff - curOff : 0};`);
      }
      curOff = newOff;
    }
    while (curOff !== nextOff) {
      const bits = Math.min(nextOff - curOff, padBits);
      if (bits === padBits) {
        this.print(`\n${tabs(lvl)}${padType}: ${padBits};`);
        curOff += bits;
        continue;
      }
      for (let i = pads.length - 1; i >= 0; i--) {
        const [name, size] = pads[i] as [string, number];
        if (size < bits) continue;
        this.print(`\n${tabs(lvl)}${name}: ${bits};`);
        curOff += bits;
        break;
      }
    }
  }

  private emitStructDef(id: number, t: Extract<BtfType, { kind: "STRUCT" | "UNION" }>, lvl: number): void {
    const isStruct = t.kind === "STRUCT";
    const align = this.alignOf(id);
    const packed = isStruct ? this.isPacked(t) : false;
    this.print(`${isStruct ? "struct" : "union"}${t.nameOff ? " " : ""}${this.typeName(id)} {`);
    // Offsets are C ints here, as in libbpf's btf_dump (so bpftool's output is matched where a u32 offset wraps).
    let off = 0;
    let prevBitfield = false;
    for (const m of t.members) {
      let size = m.bitfieldSize;
      const mOff = m.bitOffset | 0;
      const mAlign = packed ? 1 : this.alignOf(m.type);
      const inBitfield = prevBitfield && size !== 0;
      this.emitBitPadding(off, mOff, mAlign, inBitfield, lvl + 1, `type ${id} member ${m.name || "(anon)"}`);
      this.print(`\n${tabs(lvl + 1)}`);
      this.emitTypeDecl(m.type, m.name, lvl + 1);
      if (size) {
        this.print(`: ${size}`);
        off = (mOff + size) | 0;
        prevBitfield = true;
      } else {
        size = Math.max(0, this.resolveSize(m.type));
        off = (mOff + size * 8) | 0;
        prevBitfield = false;
      }
      this.print(";");
    }
    if (isStruct) this.emitBitPadding(off, (t.size * 8) | 0, align, false, lvl + 1, `type ${id}'s end`);
    if (t.members.length || t.size) this.print(`\n${tabs(lvl)}}`);
    else this.print("}");
    if (packed) this.print(" __attribute__((packed))");
  }

  private emitEnumDef(id: number, t: Extract<BtfType, { kind: "ENUM" | "ENUM64" }>, lvl: number): void {
    this.print(`enum${t.nameOff ? " " : ""}${this.typeName(id)}`);
    if (t.values.length === 0) return;
    this.print(" {");
    for (const v of t.values) {
      const dups = this.nameDups(this.identNames, v.name);
      const value = t.kind === "ENUM64" ? `${v.value}${t.kflag ? "LL" : "ULL"}` : `${v.value}`;
      this.print(dups > 1 ? `\n${tabs(lvl + 1)}${v.name}___${dups} = ${value},` : `\n${tabs(lvl + 1)}${v.name} = ${value},`);
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
    const stack: number[] = [];
    let cur = id;
    for (let guard = 0; guard < 1024; guard++) {
      stack.push(cur);
      if (cur === 0) break;
      const t = this.t(cur);
      if (t.kind === "PTR" || t.kind === "VOLATILE" || t.kind === "CONST" || t.kind === "RESTRICT" || t.kind === "TYPE_TAG") cur = t.type;
      else if (t.kind === "FUNC_PROTO") cur = t.returnType;
      else if (t.kind === "ARRAY") cur = t.type;
      else break;
    }
    this.emitTypeChain(stack, fname, lvl);
  }

  private emitMods(stack: number[]): void {
    while (stack.length) {
      const t = this.t(stack[stack.length - 1] as number);
      if (t.kind === "VOLATILE") this.print("volatile ");
      else if (t.kind === "CONST") this.print("const ");
      else if (t.kind === "RESTRICT") this.print("restrict ");
      else return;
      stack.pop();
    }
  }

  private dropMods(stack: number[]): void {
    while (stack.length && isMod(this.t(stack[stack.length - 1] as number))) stack.pop();
  }

  private emitName(name: string, lastWasPtr: boolean): void {
    this.print(`${name !== "" && !lastWasPtr ? " " : ""}${name}`);
  }

  /** Pops the declaration stack from the terminal type outwards, printing C declarator syntax. */
  private emitTypeChain(stack: number[], fname: string, lvl: number): void {
    let lastWasPtr = true;
    while (stack.length) {
      const id = stack.pop() as number;
      if (id === 0) {
        this.emitMods(stack);
        this.print("void");
        lastWasPtr = false;
        continue;
      }
      const t = this.t(id);
      switch (t.kind) {
        case "INT":
        case "FLOAT":
          this.emitMods(stack);
          this.print(t.name);
          break;
        case "STRUCT":
        case "UNION":
          this.emitMods(stack);
          if (t.nameOff === 0) this.emitStructDef(id, t, lvl);
          else this.emitStructFwd(id, t);
          break;
        case "ENUM":
        case "ENUM64":
          this.emitMods(stack);
          if (t.nameOff === 0) this.emitEnumDef(id, t, lvl);
          else this.print(`enum ${this.typeName(id)}`);
          break;
        case "FWD":
          this.emitMods(stack);
          this.print(`${t.kflag ? "union" : "struct"} ${this.typeName(id)}`);
          break;
        case "TYPEDEF":
          this.emitMods(stack);
          this.print(this.identName(id));
          break;
        case "PTR":
          this.print(lastWasPtr ? "*" : " *");
          break;
        case "VOLATILE":
          this.print(" volatile");
          break;
        case "CONST":
          this.print(" const");
          break;
        case "RESTRICT":
          this.print(" restrict");
          break;
        case "TYPE_TAG":
          this.emitMods(stack);
          this.print(` __attribute__((btf_type_tag("${t.name}")))`);
          break;
        case "ARRAY": {
          this.dropMods(stack);
          if (stack.length === 0) {
            this.emitName(fname, lastWasPtr);
            this.print(`[${t.nelems}]`);
            return;
          }
          const next = this.t(stack[stack.length - 1] as number);
          const multidim = next.kind === "ARRAY";
          if (fname !== "" && !lastWasPtr) this.print(" ");
          if (!multidim) this.print("(");
          this.emitTypeChain(stack, fname, lvl);
          if (!multidim) this.print(")");
          this.print(`[${t.nelems}]`);
          return;
        }
        case "FUNC_PROTO": {
          this.dropMods(stack);
          if (stack.length) {
            this.print(" (");
            this.emitTypeChain(stack, fname, lvl);
            this.print(")");
          } else {
            this.emitName(fname, lastWasPtr);
          }
          this.print("(");
          const params = t.params;
          if (params.length === 0 || (params.length === 1 && (params[0] as { type: number }).type === 0)) {
            this.print("void)");
            return;
          }
          params.forEach((p, i) => {
            if (i > 0) this.print(", ");
            if (i === params.length - 1 && p.type === 0) {
              this.print("...");
              return;
            }
            this.emitTypeDecl(p.type, p.name, lvl);
          });
          this.print(")");
          return;
        }
        default:
          return;
      }
      lastWasPtr = t.kind === "PTR";
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
  else for (let id = 1; id < btf.types.length; id++) d.dumpType(id);
  return (
    "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n" +
    "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n#endif\n\n" +
    d.result() +
    "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n#endif /* __VMLINUX_H__ */\n"
  );
}
