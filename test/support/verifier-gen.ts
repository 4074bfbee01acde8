/**
 * A generator of plausible eBPF programs for the verifier's differential test against the live kernel: the
 * shapes real programs have (ctx reads, map lookups with null checks, ring buffer records, packet parsing
 * against data_end, bounded loops, spills and fills, helper calls with stack buffers, tail calls), each site
 * with a chance of a bad variant (a missing check, an off-by-one bound, an uninitialized key, a leaked
 * reference, arithmetic on a pointer). Scalars go through random ALU chains before they are used as offsets
 * or sizes, so that the kernel's bounds tracking decides. Output is assembly text in the conformance dialect
 * (readable, and committed as is for regressions); the seed alone reproduces a program.
 */
import type { ProgramType } from "../../src/object/section-types.js";
import { rng } from "./rng.js";
import {
  clobber,
  ctxAccess,
  ldAbs,
  loop,
  mapLookup,
  mapUpdate,
  packet,
  pointerOps,
  ringbuf,
  spill,
  stackHelper,
  tailCall,
} from "./verifier-gen-blocks.js";
import { callback, mayGotoLoop, spinLock, timer } from "./verifier-gen-callbacks.js";
import { helperIntoValue, mapInMap, nullCopy, perfOutput, signedOps, subprogCall, xdpMeta } from "./verifier-gen-calls.js";
import { Gen, mix, unknownScalar } from "./verifier-gen-core.js";

export { GEN_MAP_TYPE_NAMES, GEN_MAPS } from "./verifier-gen-core.js";

export interface GenProgram {
  seed: number;
  type: ProgramType;
  /** The expected attach type (libbpf's name), for types whose hooks differ. */
  attachType?: string;
  /** Conformance-dialect assembly. */
  text: string;
  /** Loads with BTF func_info (it takes a callback's address). */
  funcInfo?: boolean;
}

/** Hooks of one type that see different parts of the context. */
const ATTACH_TYPES: Readonly<Record<string, readonly string[]>> = {
  cgroup_sock: ["cgroup_inet_sock_create", "cgroup_inet_sock_release", "cgroup_inet4_post_bind", "cgroup_inet6_post_bind"],
};

/** The types programs are made for (the first five twice as often). */
const TYPES: readonly ProgramType[] = [
  ...(["socket_filter", "sched_cls", "xdp", "kprobe", "cgroup_skb"] as const).flatMap((t) => [t, t]),
  "sched_act",
  "lwt_in",
  "lwt_xmit",
  "sk_skb",
  "perf_event",
  "tracepoint",
  "raw_tracepoint",
  "sock_ops",
  "sk_msg",
  "cgroup_sock",
];

const BLOCKS: ReadonlyArray<[number, (g: Gen, out: string) => void]> = [
  [2, ctxAccess],
  [1, ldAbs],
  [4, mapLookup],
  [2, mapUpdate],
  [2, ringbuf],
  [3, packet],
  [2, loop],
  [2, spill],
  [2, stackHelper],
  [1, clobber],
  [1, pointerOps],
  [1, tailCall],
  [3, subprogCall],
  [2, nullCopy],
  [1, helperIntoValue],
  [1, xdpMeta],
  [1, signedOps],
  [1, mapInMap],
  [1, perfOutput],
  [2, callback],
  [1, spinLock],
  [1, mayGotoLoop],
  [1, timer],
];

/** The block whose weight interval holds `x` (0 <= x < the sum of the weights). */
function pickWeighted(blocks: typeof BLOCKS, x: number): (g: Gen, out: string) => void {
  let rest = x;
  for (const [w, block] of blocks) {
    if (rest < w) return block;
    rest -= w;
  }
  return ctxAccess;
}

/** The program of one seed. */
export function generateProgram(seed: number): GenProgram {
  const pre = rng(mix(seed ^ 0x9e3779b9));
  const type = TYPES[Math.floor(pre() * TYPES.length)] as ProgramType;
  const g = new Gen(seed, type, pre() < 0.4 ? 0 : 0.06 + pre() * 0.12);
  const out = "out";
  g.emit("mov %r6, %r1");
  const total = BLOCKS.reduce((s, [w]) => s + w, 0);
  for (let k = g.int(1, 4); k > 0; k--) {
    const block = pickWeighted(BLOCKS, g.next() * total);
    // Socket filters read packets with ld_abs (direct access is not theirs), most of the time.
    if (block === packet && type === "socket_filter" && g.chance(0.8)) ldAbs(g);
    else block(g, out);
  }
  // The return value: a constant, or a shaped scalar (cgroup_skb allows 0 and 1 only).
  if (g.chance(0.3)) {
    unknownScalar(g, 0);
    if (g.chance(0.7)) g.emit(`and %r0, ${g.pick([1, 3])}`);
  } else g.emit(`mov %r0, ${g.bad() ? g.pick([2, -1]) : g.int(0, 1)}`);
  g.emit("exit");
  // The early way out, where some block jumps to it (an unreferenced one would be unreachable).
  if (g.lines.some((l) => l.endsWith(`, ${out}`) || l === `ja ${out}`)) g.emit(`${out}:`, `mov %r0, ${g.int(0, 1)}`, "exit");
  g.emit(...g.funcs);
  const attachType = ATTACH_TYPES[type] ? g.pick(ATTACH_TYPES[type] as string[]) : undefined;
  return { seed, type, ...(attachType ? { attachType } : {}), ...(g.funcInfo ? { funcInfo: true } : {}), text: `${g.lines.join("\n")}\n` };
}
