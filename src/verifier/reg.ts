/**
 * A register's abstract value, as the kernel's bpf_reg_state keeps it: a kind (scalar, one of the pointer
 * kinds, or not initialised); for scalars, and for pointers' variable offsets, a tnum with signed and
 * unsigned 64- and 32-bit bounds; for pointers a fixed offset, an id shared by copies (null checks and
 * packet ranges apply to all copies), a reference id for acquired objects, and what it points into.
 */
import {
  S64_MAX,
  S64_MIN,
  s64,
  TNUM_UNKNOWN,
  type Tnum,
  tnumClearSubreg,
  tnumConst,
  tnumIntersect,
  tnumIsConst,
  tnumOr,
  tnumRange,
  tnumStep,
  tnumSubreg,
  U64_MAX,
  u64,
} from "./tnum.js";

export type RegKind =
  | "not_init"
  | "scalar"
  | "ctx"
  | "map_ptr"
  | "map_value"
  | "map_key"
  | "fp"
  | "pkt"
  | "pkt_meta"
  | "pkt_end"
  | "mem"
  | "sock"
  | "sock_common"
  | "tcp_sock"
  | "xdp_sock"
  | "btf_id"
  | "flow_keys"
  | "func"
  | "tp_buffer"
  | "buf";

/** What a map pointer or map value pointer refers to. */
export interface VerifierMap {
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  /** Frozen contents the program reads as constants (.rodata). */
  readonly frozen?: Uint8Array;
  /** Index in the program's map table. */
  readonly index: number;
  /** Maps of maps: what the inner maps look like. */
  readonly inner?: VerifierMap;
  /** The map was created with BTF for its value (special fields need it). */
  readonly btf?: boolean;
  /** Offset of the value's struct bpf_spin_lock, when it has one. */
  readonly spinLock?: number;
  /** Offset of the value's struct bpf_timer, when it has one. */
  readonly timer?: number;
}

/** An argument of a global function, from its BTF prototype. */
export type GlobalArg = { kind: "scalar" } | { kind: "ctx" } | { kind: "mem"; size: number } | { kind: "unknown" };

export interface GlobalFunction {
  readonly name: string;
  readonly args: readonly GlobalArg[];
}

export const S32_MIN = -0x80000000;
export const S32_MAX = 0x7fffffff;
export const U32_MAX = 0xffffffff;

export class Reg {
  kind: RegKind = "not_init";
  maybeNull = false;
  readOnly = false;
  varOff: Tnum = TNUM_UNKNOWN;
  smin: bigint = S64_MIN;
  smax: bigint = S64_MAX;
  umin = 0n;
  umax: bigint = U64_MAX;
  s32min = S32_MIN;
  s32max = S32_MAX;
  u32min = 0;
  u32max = U32_MAX;
  /** Fixed offset of a pointer. */
  off = 0;
  id = 0;
  refObjId = 0;
  /** Packet pointers: bytes proven readable from the pointer. */
  range = 0;
  map: VerifierMap | undefined = undefined;
  /** mem: the region's size; its flavour for printing (ringbuf_mem, rdonly_mem...). */
  memSize = 0;
  memName = "mem";
  /** fp: the frame it points into. */
  frameno = 0;
  /** func: the subprogram's first slot. */
  subprog = 0;
  /** btf_id: the type's name, for printing. */
  btfName = "";
  /** btf_id: the kernel type's id in the kernel's BTF (0 where only the name is known). */
  btfId = 0;
  /** btf_id: how far the pointer is trusted, as the kernel prefixes the kind ("trusted_", "rcu_", ""). */
  btfFlavour = "";
  /** The scalar's exact value matters for safety (precision tracking). */
  precise = false;

  clone(): Reg {
    const r = new Reg();
    r.assign(this);
    return r;
  }

  /** Copies every field of `o` (field by field: objects keep one shape, which keeps them fast). */
  assign(o: Reg): void {
    this.kind = o.kind;
    this.maybeNull = o.maybeNull;
    this.readOnly = o.readOnly;
    this.varOff = o.varOff;
    this.smin = o.smin;
    this.smax = o.smax;
    this.umin = o.umin;
    this.umax = o.umax;
    this.s32min = o.s32min;
    this.s32max = o.s32max;
    this.u32min = o.u32min;
    this.u32max = o.u32max;
    this.off = o.off;
    this.id = o.id;
    this.refObjId = o.refObjId;
    this.range = o.range;
    this.map = o.map;
    this.memSize = o.memSize;
    this.memName = o.memName;
    this.frameno = o.frameno;
    this.subprog = o.subprog;
    this.btfName = o.btfName;
    this.btfId = o.btfId;
    this.btfFlavour = o.btfFlavour;
    this.precise = o.precise;
  }

  isScalar(): boolean {
    return this.kind === "scalar";
  }

  isPointer(): boolean {
    return this.kind !== "scalar" && this.kind !== "not_init";
  }

  isConst(): boolean {
    return this.kind === "scalar" && tnumIsConst(this.varOff);
  }

  /** The known scalar 0 (register_is_null): what an argument that may be NULL may be. */
  isNull(): boolean {
    return this.isConst() && this.varOff.value === 0n;
  }

  isPacket(): boolean {
    return this.kind === "pkt" || this.kind === "pkt_meta";
  }
}

export function markUnbounded(r: Reg): void {
  r.smin = S64_MIN;
  r.smax = S64_MAX;
  r.umin = 0n;
  r.umax = U64_MAX;
  r.s32min = S32_MIN;
  r.s32max = S32_MAX;
  r.u32min = 0;
  r.u32max = U32_MAX;
}

export function mark64Unbounded(r: Reg): void {
  r.smin = S64_MIN;
  r.smax = S64_MAX;
  r.umin = 0n;
  r.umax = U64_MAX;
}

export function mark32Unbounded(r: Reg): void {
  r.s32min = S32_MIN;
  r.s32max = S32_MAX;
  r.u32min = 0;
  r.u32max = U32_MAX;
}

function clearPointer(r: Reg): void {
  r.maybeNull = false;
  r.readOnly = false;
  r.off = 0;
  r.id = 0;
  r.refObjId = 0;
  r.range = 0;
  r.map = undefined;
  r.memSize = 0;
  r.memName = "mem";
  r.frameno = 0;
  r.subprog = 0;
  r.btfName = "";
  r.btfId = 0;
  r.btfFlavour = "";
}

/** An unknown scalar. */
export function markUnknown(r: Reg): void {
  r.kind = "scalar";
  clearPointer(r);
  r.varOff = TNUM_UNKNOWN;
  r.precise = false;
  markUnbounded(r);
}

export function markNotInit(r: Reg): void {
  markUnknown(r);
  r.kind = "not_init";
}

/** Sets every bound from a known 64-bit value. */
export function markKnown(r: Reg, value: bigint): void {
  const v = u64(value);
  r.varOff = tnumConst(v);
  r.umin = r.umax = v;
  r.smin = r.smax = s64(v);
  const lo = Number(v & 0xffffffffn);
  r.u32min = r.u32max = lo;
  r.s32min = r.s32max = lo | 0;
}

export function markConstScalar(r: Reg, value: bigint): void {
  markUnknown(r);
  markKnown(r, value);
}

/** Pointer kinds start with zero offset, known zero variable part. */
export function markPointer(r: Reg, kind: RegKind): void {
  markUnknown(r);
  r.kind = kind;
  markKnown(r, 0n);
}

export function mark32Known(r: Reg, value: number): void {
  const lo = value >>> 0;
  r.varOff = { value: (r.varOff.value & ~0xffffffffn) | BigInt(lo), mask: r.varOff.mask & ~0xffffffffn };
  r.u32min = r.u32max = lo;
  r.s32min = r.s32max = lo | 0;
}

const bmax = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const bmin = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const s32 = (x: bigint): number => Number(BigInt.asIntN(32, x));
const lo32 = (x: bigint): number => Number(x & 0xffffffffn);

function update32(r: Reg): void {
  const t = tnumSubreg(r.varOff);
  const v = Number(t.value);
  const m = Number(t.mask);
  r.s32min = Math.max(r.s32min, v | (m & 0x80000000) | 0);
  r.s32max = Math.min(r.s32max, v | (m & 0x7fffffff) | 0);
  r.u32min = Math.max(r.u32min, v);
  r.u32max = Math.min(r.u32max, (v | m) >>> 0);
}

function update64(r: Reg): void {
  const { value, mask } = r.varOff;
  r.smin = bmax(r.smin, s64(value | (mask & (1n << 63n))));
  r.smax = bmin(r.smax, s64(value | (mask & S64_MAX)));
  r.umin = bmax(r.umin, value);
  r.umax = bmin(r.umax, value | mask);
  // When the unsigned range and the known bits have a single value in common, that is the value (even on
  // a path the two contradict, as the kernel has it).
  const next = tnumStep(r.varOff, r.umin);
  const uminIn = (r.umin & ~mask) === value;
  const max = value | mask;
  if (uminIn && next > r.umax) markKnown(r, r.umin);
  else if (!uminIn && next === max) markKnown(r, max);
  else if (!uminIn && next <= r.umax && tnumStep(r.varOff, next) > r.umax) markKnown(r, next);
}

export function updateBounds(r: Reg): void {
  update32(r);
  update64(r);
}

function deduce32(r: Reg): void {
  if (r.umin >> 32n === r.umax >> 32n) {
    r.u32min = Math.max(r.u32min, lo32(r.umin));
    r.u32max = Math.min(r.u32max, lo32(r.umax));
    if (s32(r.umin) <= s32(r.umax)) {
      r.s32min = Math.max(r.s32min, s32(r.umin));
      r.s32max = Math.min(r.s32max, s32(r.umax));
    }
  }
  if (r.smin >> 32n === r.smax >> 32n) {
    if (lo32(r.smin) <= lo32(r.smax)) {
      r.u32min = Math.max(r.u32min, lo32(r.smin));
      r.u32max = Math.min(r.u32max, lo32(r.smax));
    }
    if (s32(r.smin) <= s32(r.smax)) {
      r.s32min = Math.max(r.s32min, s32(r.smin));
      r.s32max = Math.min(r.s32max, s32(r.smax));
    }
  }
  const hi = (x: bigint): number => Number((x >> 32n) & 0xffffffffn);
  if ((hi(r.umin) + 1) >>> 0 === hi(r.umax) && s32(r.umin) < 0 && s32(r.umax) >= 0) {
    r.s32min = Math.max(r.s32min, s32(r.umin));
    r.s32max = Math.min(r.s32max, s32(r.umax));
  }
  if ((hi(r.smin) + 1) >>> 0 === hi(r.smax) && s32(r.smin) < 0 && s32(r.smax) >= 0) {
    r.s32min = Math.max(r.s32min, s32(r.smin));
    r.s32max = Math.min(r.s32max, s32(r.smax));
  }
  if ((r.u32min | 0) <= (r.u32max | 0)) {
    r.s32min = Math.max(r.s32min, r.u32min | 0);
    r.s32max = Math.min(r.s32max, r.u32max | 0);
  }
  if (r.s32min >>> 0 <= r.s32max >>> 0) {
    r.u32min = Math.max(r.u32min, r.s32min >>> 0);
    r.u32max = Math.min(r.u32max, r.s32max >>> 0);
  } else if (r.u32max < r.s32min >>> 0) {
    // The signed range wraps around 0 and the unsigned one meets only its non-negative part.
    r.s32min = r.u32min | 0;
    r.u32max = Math.min(r.u32max, r.s32max >>> 0);
  } else if (r.s32max >>> 0 < r.u32min) {
    // ... or only its negative part.
    r.s32max = r.u32max | 0;
    r.u32min = Math.max(r.u32min, r.s32min >>> 0);
  }
}

function deduce64(r: Reg): void {
  if (s64(r.umin) <= s64(r.umax)) {
    r.smin = bmax(r.smin, s64(r.umin));
    r.smax = bmin(r.smax, s64(r.umax));
  }
  if (u64(r.smin) <= u64(r.smax)) {
    r.umin = bmax(r.umin, u64(r.smin));
    r.umax = bmin(r.umax, u64(r.smax));
  } else if (r.umax < u64(r.smin)) {
    // The signed range wraps around 0 and the unsigned one meets only its non-negative part.
    r.smin = s64(r.umin);
    r.umax = bmin(r.umax, u64(r.smax));
  } else if (u64(r.smax) < r.umin) {
    // ... or only its negative part.
    r.smax = s64(r.umax);
    r.umin = bmax(r.umin, u64(r.smin));
  }
}

const HIGH = ~0xffffffffn;

function deduceMixed(r: Reg): void {
  const u32min = BigInt(r.u32min);
  const u32max = BigInt(r.u32max);
  r.umin = bmax(r.umin, u64((r.umin & HIGH) | u32min));
  r.umax = bmin(r.umax, u64((r.umax & HIGH) | u32max));
  r.smin = bmax(r.smin, s64((u64(r.smin) & HIGH) | u32min));
  r.smax = bmin(r.smax, s64((u64(r.smax) & HIGH) | u32max));
  if (r.s32min >>> 0 <= r.s32max >>> 0) {
    const a = BigInt(r.s32min >>> 0);
    const b = BigInt(r.s32max >>> 0);
    r.umin = bmax(r.umin, u64((r.umin & HIGH) | a));
    r.umax = bmin(r.umax, u64((r.umax & HIGH) | b));
    r.smin = bmax(r.smin, s64((u64(r.smin) & HIGH) | a));
    r.smax = bmin(r.smax, s64((u64(r.smax) & HIGH) | b));
  }
  if (r.s32min >= 0 && r.smin >= -0x80000000n && r.smax <= 0x7fffffffn) {
    r.smin = BigInt(r.s32min);
    r.smax = BigInt(r.s32max);
    r.umin = BigInt(r.s32min);
    r.umax = BigInt(r.s32max);
    r.varOff = tnumIntersect(r.varOff, tnumRange(u64(r.smin), u64(r.smax)));
  }
}

function deduce(r: Reg): void {
  deduce32(r);
  deduce64(r);
  deduceMixed(r);
}

function boundOffset(r: Reg): void {
  const v64 = tnumIntersect(r.varOff, tnumRange(r.umin, r.umax));
  const v32 = tnumIntersect(tnumSubreg(v64), tnumRange(BigInt(r.u32min), BigInt(r.u32max)));
  r.varOff = tnumOr(tnumClearSubreg(v64), v32);
}

/** The kernel's reg_bounds_sync: every representation learns from the others. */
export function syncBounds(r: Reg): void {
  updateBounds(r);
  deduce(r);
  deduce(r);
  deduce(r);
  boundOffset(r);
  updateBounds(r);
}

/** Whether the bounds describe no value at all (a branch that cannot be taken). */
export function boundsInvalid(r: Reg): boolean {
  return r.umin > r.umax || r.smin > r.smax || r.u32min > r.u32max || r.s32min > r.s32max;
}

/** After a 32-bit operation: the upper half is zero. */
export function zext32(r: Reg): void {
  r.varOff = tnumSubreg(r.varOff);
  r.umin = BigInt(r.u32min);
  r.umax = BigInt(r.u32max);
  if (r.s32min >= 0 && r.s32max >= 0) {
    r.smin = BigInt(r.s32min);
    r.smax = BigInt(r.s32max);
  } else {
    r.smin = 0n;
    r.smax = 0xffffffffn;
  }
}
