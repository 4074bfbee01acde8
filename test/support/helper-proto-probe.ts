/**
 * Helper prototypes and socket fields asked of the live kernel: each helper called with an argument of every
 * kind its prototype (src/verifier/helpers.ts) names, then with a number where it expects a pointer, and
 * loads of every size at every offset of the socket structures a program reaches from skb->sk. The kernel's
 * verdict and reason are the reference for ours.
 */
import { assemble } from "../../src/isa/index.js";
import type { Instruction } from "../../src/isa/instruction.js";
import type { ProgramType } from "../../src/object/section-types.js";
import { KERNEL_HELPERS } from "../../src/verifier/helper-table.js";
import { type ArgKind, HELPER_PROTOS } from "../../src/verifier/helpers.js";
import { type VerifierMap, verifyProgram } from "../../src/verifier/index.js";
import { PROBED_TYPES } from "./helper-probe.js";
import type { Judgement } from "./verifier-diff.js";

const map = (index: number, name: string, type: number, keySize: number, valueSize: number, maxEntries = 4): VerifierMap => ({
  name,
  type,
  keySize,
  valueSize,
  maxEntries,
  flags: 0,
  index,
});

/** One map of each kind a helper may insist on. */
export const PROBE_MAPS: readonly VerifierMap[] = [
  map(0, "hash", 1, 4, 8),
  map(1, "array", 2, 4, 8),
  map(2, "progs", 3, 4, 4),
  map(3, "events", 4, 4, 4, 2),
  map(4, "ringbuf", 27, 0, 0, 4096),
  map(5, "sockmap", 15, 4, 4),
  map(6, "sockhash", 18, 4, 4),
  map(7, "devmap", 14, 4, 4),
  map(8, "cgroups", 8, 4, 4),
  map(9, "stacks", 7, 4, 128),
  map(10, "storage", 19, 8, 8, 0),
  map(11, "queue", 22, 0, 4),
  map(12, "percpu_hash", 5, 4, 8),
];

/** The map a helper is called with (by the helper's id; a hash map otherwise). */
const MAP_FOR: Readonly<Record<number, number>> = {
  12: 2,
  22: 3,
  25: 3,
  55: 3,
  27: 9,
  33: 8,
  37: 8,
  130: 4,
  131: 4,
  134: 4,
  52: 5,
  53: 5,
  60: 5,
  70: 6,
  71: 6,
  72: 6,
  51: 7,
  81: 10,
  87: 11,
  88: 11,
  89: 11,
  195: 12,
};

/** Kinds the probe cannot make up on its own (callbacks, records, sockets): helpers taking them are left out. */
const UNPROBED: ReadonlySet<ArgKind> = new Set(["func", "ringbuf_mem", "sock", "sock_common", "btf_id", "spin_lock", "timer", "const_str"]);

export interface ProbeCase {
  id: number;
  type: ProgramType;
  /** The argument (1-5) given a number instead of the pointer it should be, or 0 for the good call. */
  spoiled: number;
  insns: Instruction[];
}

const POINTER_KINDS: ReadonlySet<ArgKind> = new Set(["map", "key", "value", "ctx", "mem", "uninit", "long"]);

function argText(kind: ArgKind, k: number, id: number): string[] {
  const r = `%r${k}`;
  switch (kind) {
    case "map":
      return [`lddw ${r}, map_idx(${MAP_FOR[id] ?? 0})`];
    case "ctx":
    case "ctx?":
      return [`mov ${r}, %r6`];
    case "key":
    case "value":
    case "mem":
    case "mem?":
    case "uninit":
    case "uninit?":
      return [`mov ${r}, %r10`, `add ${r}, -64`];
    case "long":
      return [`mov ${r}, %r10`, `add ${r}, -72`];
    case "size":
    case "size0":
    case "alloc":
      return [`mov ${r}, 8`];
    default:
      return [`mov ${r}, 0`];
  }
}

/** Whether the kernel lets `type` call helper `id` (the recorded table). */
const allows = (type: ProgramType, id: number): boolean => ((BigInt(`0x${KERNEL_HELPERS[type] ?? "0"}`) >> BigInt(id)) & 1n) === 1n;

/** Every probe: per helper with a prototype, the first type allowed to call it, good and spoiled. */
export function protoCases(): ProbeCase[] {
  const out: ProbeCase[] = [];
  for (const [id, proto] of HELPER_PROTOS) {
    if (proto.args.some((a) => UNPROBED.has(a)) || proto.acquires || proto.releases) continue;
    const type = PROBED_TYPES.find((t) => allows(t, id));
    if (!type) continue;
    const spoilable = proto.args.flatMap((a, n) => (POINTER_KINDS.has(a) ? [n + 1] : []));
    for (const spoiled of [0, ...spoilable.slice(0, 2)]) {
      const lines = ["mov %r6, %r1", ...Array.from({ length: 9 }, (_, k) => `stdw [%r10-${8 * (k + 1)}], 0`)];
      proto.args.forEach((a, n) => {
        lines.push(...(n + 1 === spoiled ? [`mov %r${n + 1}, 1`] : argText(a, n + 1, id)));
      });
      lines.push(`call ${id}`, "mov %r0, 0", "exit");
      out.push({ id, type, spoiled, insns: assemble(lines.join("\n")) });
    }
  }
  return out;
}

/** Memory argument kinds a packet pointer may be given for, where the helper allows it (pkt_access). */
const MEMORY_KINDS: ReadonlySet<ArgKind> = new Set(["key", "value", "mem", "mem?", "uninit", "uninit?", "long"]);

/** Each helper tc (or else XDP) may call, given a checked packet pointer for one memory argument at a time. */
export function packetCases(): ProbeCase[] {
  const out: ProbeCase[] = [];
  for (const [id, proto] of HELPER_PROTOS) {
    if (proto.args.some((a) => UNPROBED.has(a)) || proto.acquires || proto.releases) continue;
    const type = (["sched_cls", "xdp"] as const).find((t) => allows(t, id));
    if (!type) continue;
    const [data, end] = type === "xdp" ? [0, 4] : [76, 80];
    proto.args.forEach((kind, n) => {
      if (!MEMORY_KINDS.has(kind)) return;
      const lines = [
        "mov %r6, %r1",
        `ldxw %r7, [%r6+${data}]`,
        `ldxw %r8, [%r6+${end}]`,
        "mov %r9, %r7",
        "add %r9, 64",
        "jgt %r9, %r8, out",
      ];
      lines.push(...Array.from({ length: 9 }, (_, k) => `stdw [%r10-${8 * (k + 1)}], 0`));
      proto.args.forEach((a, m) => {
        lines.push(...(m === n ? [`mov %r${m + 1}, %r7`] : argText(a, m + 1, id)));
      });
      lines.push(`call ${id}`, "out:", "mov %r0, 0", "exit");
      out.push({ id, type, spoiled: n + 1, insns: assemble(lines.join("\n")) });
    });
  }
  return out;
}

export type SockKind = "sock_common" | "sock" | "tcp_sock";

/** A load of `size` bytes at `off` from skb->sk (a sock_common), or from what sk_fullsock / bpf_tcp_sock make of it. */
export function sockLoad(kind: SockKind, off: number, size: number): Instruction[] {
  const cast =
    kind === "sock"
      ? ["call 95", "jeq %r0, 0, +3", "mov %r1, %r0"]
      : kind === "tcp_sock"
        ? ["call 96", "jeq %r0, 0, +3", "mov %r1, %r0"]
        : ["ja +0", "ja +0", "ja +0"];
  const suffix = { 1: "b", 2: "h", 4: "w", 8: "dw" }[size];
  return assemble(["ldxdw %r1, [%r1+168]", "jeq %r1, 0, +5", ...cast, `ldx${suffix} %r0, [%r1+${off}]`, "mov %r0, 0", "exit"].join("\n"));
}

/** Our verdict on a probe (with PROBE_MAPS). */
export function ourProbeJudgement(insns: readonly Instruction[], type: ProgramType): Judgement {
  const r = verifyProgram({ insns, type, maps: PROBE_MAPS }, { logLevel: 0 });
  return { verdict: r.verdict, insn: r.insn, message: r.message };
}
