/**
 * What the C dump needs to know of a type's layout (libbpf's btf__resolve_size and btf__align_of, and
 * btf_dump's packed-struct test), read from the records in place; and the buffer the dump is written into.
 */
import {
  type BtfRecords,
  KIND_ARRAY,
  KIND_CONST,
  KIND_DATASEC,
  KIND_ENUM,
  KIND_ENUM64,
  KIND_FLOAT,
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

export const isMod = (kind: number): boolean =>
  kind === KIND_VOLATILE || kind === KIND_CONST || kind === KIND_RESTRICT || kind === KIND_TYPE_TAG;
const isModOrTypedef = (kind: number): boolean => isMod(kind) || kind === KIND_TYPEDEF;
const MAX_HOPS = 64;

export class BtfLayout {
  /** alignOf per id, plus one (0: not computed yet): structs are asked for again at every use. */
  private readonly aligns: Uint8Array;
  private depthLimited = false;

  constructor(
    private readonly r: BtfRecords,
    private readonly ptrSize: number,
  ) {
    this.aligns = new Uint8Array(r.count);
  }

  /** The id under typedefs and qualifiers, or -1 past MAX_HOPS of them. */
  skipMods(id: number): number {
    let cur = id;
    for (let hops = 0; hops < MAX_HOPS; hops++) {
      if (cur === 0 || !isModOrTypedef(this.r.kind(cur))) return cur;
      cur = this.r.type(cur);
    }
    return -1;
  }

  /** Size in bytes (0 for what has none: prototypes, forward declarations, void). */
  resolveSize(id: number, depth = 0): number {
    if (depth > MAX_HOPS) return 0;
    const t = this.skipMods(id);
    if (t <= 0) return 0;
    const r = this.r;
    switch (r.kind(t)) {
      case KIND_INT:
      case KIND_STRUCT:
      case KIND_UNION:
      case KIND_ENUM:
      case KIND_ENUM64:
      case KIND_FLOAT:
      case KIND_DATASEC:
        return r.size(t);
      case KIND_PTR:
        return this.ptrSize;
      case KIND_ARRAY:
        return r.arrayNelems(t) * this.resolveSize(r.arrayType(t), depth + 1);
      case KIND_VAR:
        return this.resolveSize(r.type(t), depth + 1);
      default:
        return 0;
    }
  }

  alignOf(id: number, depth = 0): number {
    const known = this.aligns[id] as number;
    if (known !== 0) return known - 1;
    const outer = this.depthLimited;
    this.depthLimited = false;
    const a = this.computeAlign(id, depth);
    // a result cut short by the depth limit holds only at this depth: not kept
    if (!this.depthLimited && a < 255) this.aligns[id] = a + 1;
    this.depthLimited ||= outer;
    return a;
  }

  private computeAlign(id: number, depth: number): number {
    if (depth > 64) {
      this.depthLimited = true;
      return 0;
    }
    const r = this.r;
    switch (r.kind(id)) {
      case KIND_INT:
      case KIND_ENUM:
      case KIND_ENUM64:
      case KIND_FLOAT:
        return Math.min(this.ptrSize, r.size(id));
      case KIND_PTR:
        return this.ptrSize;
      case KIND_TYPEDEF:
      case KIND_VOLATILE:
      case KIND_CONST:
      case KIND_RESTRICT:
      case KIND_TYPE_TAG:
        return this.alignOf(r.type(id), depth + 1);
      case KIND_ARRAY:
        return this.alignOf(r.arrayType(id), depth + 1);
      case KIND_STRUCT:
      case KIND_UNION: {
        let maxAlign = 1;
        for (let i = 0, v = r.vlen(id); i < v; i++) {
          const align = this.alignOf(r.memberType(id, i), depth + 1);
          if (align <= 0) return 0;
          maxAlign = Math.max(maxAlign, align);
          if (r.memberBitfieldSize(id, i) === 0 && r.memberBitOffset(id, i) % (8 * align) !== 0) return 1;
        }
        return r.size(id) % maxAlign !== 0 ? 1 : maxAlign;
      }
      default:
        return 0;
    }
  }

  isPacked(id: number): boolean {
    const r = this.r;
    let maxAlign = 1;
    for (let i = 0, v = r.vlen(id); i < v; i++) {
      const align = this.alignOf(r.memberType(id, i));
      if (align && r.memberBitfieldSize(id, i) === 0 && r.memberBitOffset(id, i) % (8 * align) !== 0) return true;
      maxAlign = Math.max(align, maxAlign);
    }
    return r.size(id) % maxAlign !== 0;
  }

  /**
   * The unnamed bitfields (`long: 64;`, `int: 3;`...) that pad from bit curOff to nextOff, as libbpf's
   * btf_dump_emit_bit_padding chooses them: (type, bits) pairs, bits 0 for a plain alignment to the type.
   */
  bitPadding(curOff: number, nextOff: number, nextAlign: number, inBitfield: boolean): Array<[string, number]> {
    const out: Array<[string, number]> = [];
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
        out.push([padType, inBitfield ? newOff - curOff : 0]);
      }
      curOff = newOff;
    }
    while (curOff !== nextOff) {
      const bits = Math.min(nextOff - curOff, padBits);
      if (bits === padBits) {
        out.push([padType, padBits]);
        curOff += bits;
        continue;
      }
      for (let i = pads.length - 1; i >= 0; i--) {
        const [name, size] = pads[i] as [string, number];
        if (size < bits) continue;
        out.push([name, bits]);
        curOff += bits;
        break;
      }
    }
    return out;
  }
}

/**
 * Output as UTF-8 bytes in one growing buffer: vmlinux.h is a million small pieces, and holding them as strings
 * until the end keeps them all alive through every garbage collection.
 */
export class TextSink {
  private buf = new Uint8Array(1 << 16);
  private len = 0;
  private static readonly utf8 = new TextEncoder();

  write(s: string): void {
    const n = s.length;
    if (this.len + 3 * n > this.buf.length) {
      const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.len + 3 * n));
      bigger.set(this.buf.subarray(0, this.len));
      this.buf = bigger;
    }
    const buf = this.buf;
    let at = this.len;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        at += TextSink.utf8.encodeInto(s.slice(i), buf.subarray(at)).written;
        break;
      }
      buf[at++] = c;
    }
    this.len = at;
  }

  text(): string {
    return new TextDecoder().decode(this.buf.subarray(0, this.len));
  }
}
