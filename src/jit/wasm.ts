/**
 * A small WebAssembly binary writer: LEB128 numbers, the sections a JIT module needs (types, imports,
 * functions, exports, code) and a code buffer with the instructions the compiler emits. No toolchain at run
 * time: the bytes go straight to `new WebAssembly.Module`.
 */

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F64 = 0x7c;
export type ValType = typeof I32 | typeof I64 | typeof F64;

export class Bytes {
  private buf = new Uint8Array(1024);
  length = 0;

  byte(b: number): this {
    if (this.length === this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = b & 0xff;
    return this;
  }

  bytes(bs: ArrayLike<number>): this {
    for (let i = 0; i < bs.length; i++) this.byte(bs[i] as number);
    return this;
  }

  u32(n: number): this {
    let v = n >>> 0;
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v !== 0) b |= 0x80;
      this.byte(b);
    } while (v !== 0);
    return this;
  }

  s32(n: number): this {
    let v = n | 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
        this.byte(b);
        return this;
      }
      this.byte(b | 0x80);
    }
  }

  s64(n: bigint): this {
    let v = BigInt.asIntN(64, n);
    for (;;) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
        this.byte(b);
        return this;
      }
      this.byte(b | 0x80);
    }
  }

  name(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.u32(b.length).bytes(b);
  }

  /** A length-prefixed copy of another buffer (a section or a function body). */
  sized(inner: Bytes): this {
    return this.u32(inner.length).bytes(inner.view());
  }

  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** A function body: Bytes with the instructions the JIT writes most, by name. */
export class Code extends Bytes {
  get(local: number): this {
    return this.byte(OP.localGet).u32(local);
  }

  set(local: number): this {
    return this.byte(OP.localSet).u32(local);
  }

  i32(v: number): this {
    return this.byte(OP.i32Const).s32(v);
  }

  i64(v: bigint): this {
    return this.byte(OP.i64Const).s64(v);
  }

  op(o: number): this {
    return this.byte(o);
  }

  /** A load or store with its memarg: alignment (log2) and a constant offset. */
  mem(o: number, align: number, offset = 0): this {
    return this.byte(o).u32(align).u32(offset);
  }
}

export interface FuncType {
  params: ValType[];
  results: ValType[];
}

export type Import =
  | { module: string; name: string; kind: "func"; type: number }
  | { module: string; name: string; kind: "memory" }
  | { module: string; name: string; kind: "global"; type: ValType; mutable: boolean };

/** Assembles a module from its parts: every function is given as its type index and its body. */
export function wasmModule(parts: {
  types: FuncType[];
  imports: Import[];
  functions: Array<{ type: number; locals: Array<[number, ValType]>; code: Bytes }>;
  exports: Array<{ name: string; func: number }>;
}): Uint8Array {
  const out = new Bytes().bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const section = (id: number, body: Bytes): void => {
    out.byte(id).sized(body);
  };
  const types = new Bytes().u32(parts.types.length);
  for (const t of parts.types) types.byte(0x60).u32(t.params.length).bytes(t.params).u32(t.results.length).bytes(t.results);
  section(1, types);
  const imports = new Bytes().u32(parts.imports.length);
  for (const i of parts.imports) {
    imports.name(i.module).name(i.name);
    if (i.kind === "func") imports.byte(0).u32(i.type);
    else if (i.kind === "memory") imports.byte(2).byte(0).u32(1);
    else
      imports
        .byte(3)
        .byte(i.type)
        .byte(i.mutable ? 1 : 0);
  }
  section(2, imports);
  const funcs = new Bytes().u32(parts.functions.length);
  for (const f of parts.functions) funcs.u32(f.type);
  section(3, funcs);
  const exports = new Bytes().u32(parts.exports.length);
  for (const e of parts.exports) exports.name(e.name).byte(0).u32(e.func);
  section(7, exports);
  const code = new Bytes().u32(parts.functions.length);
  for (const f of parts.functions) {
    const body = new Bytes().u32(f.locals.length);
    for (const [n, t] of f.locals) body.u32(n).byte(t);
    body.bytes(f.code.view()).byte(0x0b);
    code.sized(body);
  }
  section(10, code);
  return out.view().slice();
}

/** Opcodes used by the compiler. */
export const OP = {
  unreachable: 0x00,
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  brTable: 0x0e,
  return: 0x0f,
  call: 0x10,
  drop: 0x1a,
  select: 0x1b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  globalGet: 0x23,
  globalSet: 0x24,
  i32Load: 0x28,
  i64Load: 0x29,
  i32Load8u: 0x2d,
  i32Load16u: 0x2f,
  i64Load8s: 0x30,
  i64Load8u: 0x31,
  i64Load16s: 0x32,
  i64Load16u: 0x33,
  i64Load32s: 0x34,
  i64Load32u: 0x35,
  i32Store: 0x36,
  i64Store: 0x37,
  i64Store8: 0x3c,
  i64Store16: 0x3d,
  i64Store32: 0x3e,
  i32Const: 0x41,
  i64Const: 0x42,
  i32Eqz: 0x45,
  i32Eq: 0x46,
  i32Ne: 0x47,
  i32LtS: 0x48,
  i32LtU: 0x49,
  i32GtS: 0x4a,
  i32GtU: 0x4b,
  i32LeS: 0x4c,
  i32LeU: 0x4d,
  i32GeS: 0x4e,
  i32GeU: 0x4f,
  i64Eqz: 0x50,
  i64Eq: 0x51,
  i64Ne: 0x52,
  i64LtS: 0x53,
  i64LtU: 0x54,
  i64GtS: 0x55,
  i64GtU: 0x56,
  i64LeS: 0x57,
  i64LeU: 0x58,
  i64GeS: 0x59,
  i64GeU: 0x5a,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32DivS: 0x6d,
  i32DivU: 0x6e,
  i32RemS: 0x6f,
  i32RemU: 0x70,
  i32And: 0x71,
  i32Or: 0x72,
  i32Xor: 0x73,
  i32Shl: 0x74,
  i32ShrS: 0x75,
  i32ShrU: 0x76,
  i32Rotl: 0x77,
  i32Rotr: 0x78,
  i64Add: 0x7c,
  i64Sub: 0x7d,
  i64Mul: 0x7e,
  i64DivS: 0x7f,
  i64DivU: 0x80,
  i64RemS: 0x81,
  i64RemU: 0x82,
  i64And: 0x83,
  i64Or: 0x84,
  i64Xor: 0x85,
  i64Shl: 0x86,
  i64ShrS: 0x87,
  i64ShrU: 0x88,
  i64Rotl: 0x89,
  i64Rotr: 0x8a,
  i32WrapI64: 0xa7,
  i64TruncF64S: 0xb0,
  i64ExtendI32s: 0xac,
  i64ExtendI32u: 0xad,
  i32Extend8s: 0xc0,
  i32Extend16s: 0xc1,
  i64Extend8s: 0xc2,
  i64Extend16s: 0xc3,
  i64Extend32s: 0xc4,
} as const;

export const BLOCK_VOID = 0x40;
