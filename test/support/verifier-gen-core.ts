/**
 * The generator's building material (see verifier-gen.ts): the maps every program may use, the random
 * source with its helpers, and the pieces blocks share: unknown scalars, the ALU chains that shape them into
 * ranges, and map keys on the stack.
 */
import type { MapSpec } from "../../src/object/maps.js";
import type { ProgramType } from "../../src/object/section-types.js";
import type { VerifierMap } from "../../src/verifier/index.js";
import { rng } from "./rng.js";

/** The maps every generated program may use, by index (`lddw %rN, map_idx(K)`), named as in the kernel. */
export const GEN_MAPS: readonly VerifierMap[] = [
  { name: "tsbpf_hash", type: 1, keySize: 4, valueSize: 16, maxEntries: 64, flags: 0, index: 0 },
  { name: "tsbpf_array", type: 2, keySize: 4, valueSize: 64, maxEntries: 8, flags: 0, index: 1 },
  { name: "tsbpf_ringbuf", type: 27, keySize: 0, valueSize: 0, maxEntries: 4096, flags: 0, index: 2 },
  { name: "tsbpf_percpu", type: 6, keySize: 4, valueSize: 8, maxEntries: 4, flags: 0, index: 3 },
  { name: "tsbpf_progs", type: 3, keySize: 4, valueSize: 4, maxEntries: 4, flags: 0, index: 4 },
  { name: "tsbpf_lru", type: 9, keySize: 8, valueSize: 8, maxEntries: 16, flags: 0, index: 5 },
  {
    name: "tsbpf_outer",
    type: 12,
    keySize: 4,
    valueSize: 4,
    maxEntries: 4,
    flags: 0,
    index: 6,
    inner: { name: "tsbpf_inner", type: 2, keySize: 4, valueSize: 16, maxEntries: 2, flags: 0, index: -1 },
  },
  { name: "tsbpf_events", type: 4, keySize: 4, valueSize: 4, maxEntries: 2, flags: 0, index: 7 },
  // struct val { int cnt; struct bpf_spin_lock l; }, with BTF (see func-info.ts)
  { name: "tsbpf_locked", type: 2, keySize: 4, valueSize: 8, maxEntries: 1, flags: 0, index: 8, btf: true, spinLock: 4 },
  // struct tval { struct bpf_timer t; __u64 n; }
  { name: "tsbpf_timers", type: 2, keySize: 4, valueSize: 24, maxEntries: 1, flags: 0, index: 9, btf: true, timer: 0 },
  { name: "tsbpf_sockmap", type: 15, keySize: 4, valueSize: 4, maxEntries: 1, flags: 0, index: 10 },
  // BPF_F_WRONLY_PROG: the program may write its values but not read them.
  { name: "tsbpf_wronly", type: 2, keySize: 4, valueSize: 48, maxEntries: 1, flags: 0x100, index: 11 },
];
export const GEN_MAP_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: "hash",
  2: "array",
  3: "prog_array",
  6: "percpu_array",
  9: "lru_hash",
  27: "ringbuf",
  12: "array_of_maps",
  4: "perf_event_array",
  15: "sockmap",
};

/** A generator map as an object's map spec, its inner map's too (for both backends' loaders). */
export function genMapSpec(m: VerifierMap): MapSpec {
  return {
    name: m.name,
    type: m.type,
    typeName: GEN_MAP_TYPE_NAMES[m.type] ?? String(m.type),
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    flags: m.flags,
    pinning: 0,
    section: "gen",
    ...(m.inner ? { inner: genMapSpec(m.inner) } : {}),
  };
}

export const SKB_TYPES = new Set<ProgramType>(["socket_filter", "sched_cls", "sched_act", "cgroup_skb", "lwt_in", "lwt_xmit", "sk_skb"]);
/** Types whose context is a tracing record: their helpers read kernel memory. */
export const TRACING_TYPES = new Set<ProgramType>(["kprobe", "tracepoint", "perf_event", "raw_tracepoint"]);

/** What a type's context offers: fields it may read (offset, size), and where its packet pointers are. */
export interface CtxShape {
  readonly fields: ReadonlyArray<[number, number]>;
  readonly packet?: { readonly data: number; readonly end: number; readonly size: 4 | 8 };
}

const words = (from: number, count: number, step = 4, size = 4): Array<[number, number]> =>
  Array.from({ length: count }, (_, k) => [from + k * step, size] as [number, number]);
const SKB_CTX: CtxShape = {
  fields: [
    [0, 4],
    [8, 4],
    [16, 4],
    [44, 4],
    [48, 4],
    [4, 4],
    [36, 4],
    [40, 4],
  ],
  packet: { data: 76, end: 80, size: 4 },
};

export const CTX: Readonly<Record<string, CtxShape>> = {
  socket_filter: { fields: SKB_CTX.fields },
  sched_cls: SKB_CTX,
  sched_act: SKB_CTX,
  cgroup_skb: SKB_CTX,
  lwt_in: SKB_CTX,
  lwt_xmit: SKB_CTX,
  sk_skb: SKB_CTX,
  xdp: {
    fields: [
      [12, 4],
      [16, 4],
      [20, 4],
    ],
    packet: { data: 0, end: 4, size: 4 },
  },
  kprobe: { fields: words(0, 21, 8, 8) },
  perf_event: { fields: words(0, 22, 8, 8) },
  tracepoint: { fields: words(8, 12, 8, 8) },
  raw_tracepoint: { fields: words(0, 12, 8, 8) },
  sock_ops: { fields: words(0, 20) },
  sk_msg: { fields: words(16, 14), packet: { data: 0, end: 8, size: 8 } },
  cgroup_sock: {
    fields: [
      [0, 4],
      [4, 4],
      [8, 4],
      [12, 4],
      [16, 4],
      [20, 4],
      [24, 4],
      [44, 4],
      [48, 4],
      [52, 4],
    ],
  },
};

/** A read of a field the program's type offers into `r`, through the context pointer in `ctx`. */
export function ctxField(g: Gen, r: number, ctx = 6): string {
  const [off, size] = g.pick(CTX[g.type]?.fields ?? [[0, 4]]);
  return `ldx${size === 8 ? "dw" : "w"} %r${r}, [%r${ctx}+${off}]`;
}
export const ALU = ["add", "sub", "mul", "div", "or", "and", "lsh", "rsh", "mod", "xor", "arsh"] as const;
export const SIZES = ["b", "h", "w", "dw"] as const;
export const BYTES: Record<(typeof SIZES)[number], number> = { b: 1, h: 2, w: 4, dw: 8 };
/** Readable __sk_buff fields (offset, size) and a few that are not. */
export const SKB_FIELDS: ReadonlyArray<[number, number]> = [
  [0, 4],
  [4, 4],
  [8, 4],
  [12, 4],
  [16, 4],
  [20, 4],
  [24, 4],
  [28, 4],
  [32, 4],
  [36, 4],
  [40, 4],
  [44, 4],
  [48, 4],
  [52, 4],
  [68, 4],
  [72, 4],
  [84, 4],
  [88, 4],
  [92, 4],
  [132, 4],
  [136, 4],
  [152, 8],
  [160, 4],
  [164, 4],
  [176, 4],
  [0, 2],
  [0, 1],
  [2, 2],
  [8, 1],
  [16, 2],
  [3, 1],
  [6, 2],
  [152, 4],
  [168, 8],
  [190, 4],
];
export const XDP_FIELDS: ReadonlyArray<[number, number]> = [
  [12, 4],
  [16, 4],
  [20, 4],
  [12, 2],
  [13, 1],
  [24, 4],
  [0, 4],
];

/** A memory operand. */
export function at(r: number, off: number): string {
  return `[%r${r}${off < 0 ? "-" : "+"}${Math.abs(off)}]`;
}

/** A 32-bit hash (murmur3's finalizer), so that neighbouring seeds start the generator far apart. */
export function mix(seed: number): number {
  let h = seed >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class Gen {
  readonly lines: string[] = [];
  /** Subprograms, placed after the main program. */
  readonly funcs: string[] = [];
  /** The program takes a callback's address: it loads with BTF func_info (see func-info.ts). */
  funcInfo = false;
  private labels = 0;
  readonly next: () => number;
  constructor(
    readonly seed: number,
    readonly type: ProgramType,
    /** Chance that a site takes its bad variant. */
    readonly badRate: number,
  ) {
    this.next = rng(mix(seed));
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bad(): boolean {
    return this.chance(this.badRate);
  }
  label(): string {
    return `l${this.labels++}`;
  }
  emit(...ls: string[]): void {
    this.lines.push(...ls);
  }
  /** A constant that often sits on a boundary of interest. */
  constant(): number {
    return this.pick([0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 63, 64, 255, 256, 4095, 0x7fffffff, -1, -8, -64, this.int(-300, 300)]);
  }
}

/** Puts an unknown scalar in `r`: a helper result, a ctx field, or a constant. Clobbers r0-r5 if it calls. */
export function unknownScalar(g: Gen, r: number): void {
  switch (g.int(0, 3)) {
    case 0:
      g.emit("call 7", `mov %r${r}, %r0`); // get_prandom_u32
      break;
    case 1:
      g.emit(ctxField(g, r));
      break;
    case 2:
      g.emit("call 5", `mov %r${r}, %r0`); // ktime_get_ns: 64 bits
      break;
    default:
      g.emit(`mov %r${r}, ${g.constant()}`);
  }
}

/** A few ALU steps and maybe a bounding comparison on `r`, leaving it a scalar with some range. */
export function shape(g: Gen, r: number, skip: string): void {
  const steps = g.int(0, 3);
  for (let k = 0; k < steps; k++) {
    const op = g.pick(ALU);
    const w = g.chance(0.25) ? "32" : "";
    let imm = g.constant();
    if (op === "lsh" || op === "rsh" || op === "arsh") imm = g.bad() ? g.pick([64, -1, 32]) : g.int(0, w ? 31 : 63);
    if ((op === "div" || op === "mod") && imm === 0 && !g.bad()) imm = 3;
    if (g.chance(0.1)) g.emit(`neg${w} %r${r}`);
    else g.emit(`${op}${w} %r${r}, ${imm}`);
  }
  if (g.chance(0.3)) g.emit(`and %r${r}, ${g.pick([7, 15, 31, 63, 0xff, 0xfff])}`);
  if (g.chance(0.6)) {
    const w = g.chance(0.2) ? "32" : "";
    const bound = g.pick([8, 16, 32, 56, 60, 63, 64, 4096, g.int(0, 100)]);
    const op = g.pick(["jgt", "jge", "jsgt", "jsge", "jgt", "jgt"]);
    g.emit(`${op}${w} %r${r}, ${bound}, ${skip}`);
    if (g.chance(0.3)) g.emit(`${g.pick(["jslt", "jlt", "jsle"])}${w} %r${r}, ${g.pick([0, 1, -4])}, ${skip}`);
  }
}

/** A key at fp-off for map k: written whole, in part, or not at all. */
export function storeKey(g: Gen, off: number, size: number): void {
  if (g.bad()) {
    if (g.chance(0.5)) return; // uninitialized key
    g.emit(`stw [%r10-${off}], 0`); // only 4 of the bytes
    return;
  }
  if (size === 8) g.emit(`stdw [%r10-${off}], ${g.int(0, 3)}`);
  else if (g.chance(0.5)) g.emit(`stw [%r10-${off}], ${g.int(0, 9)}`);
  else {
    unknownScalar(g, 7);
    g.emit(`stxw [%r10-${off}], %r7`);
  }
}
