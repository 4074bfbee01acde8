/**
 * The program's shape before any state is tracked (the kernel's check_subprogs and check_cfg): subprogram
 * boundaries, jumps that leave their subprogram, a last instruction that falls off, instructions no path
 * reaches; then the prune points the walk records states at, and which registers each instruction's future
 * reads (liveness), so that pruning compares only what matters.
 */
import type { Instruction } from "../isa/instruction.js";
import * as O from "../isa/opcodes.js";
import { opInfo } from "../isa/table.js";
import { Rejection } from "./env.js";
import { UNWALKED_OPCODES } from "./fields.js";
import { isJmpClass, successors, validSuccessors } from "./flow.js";
import { helperArgs, SYNC_CALLBACK_HELPERS } from "./helpers.js";
import { type Links, linkedScalars } from "./linked.js";
import { type Precision, precision } from "./precision.js";
import { stackLiveness } from "./stack-liveness.js";
import { type FpOffsets, stackPointerOffsets } from "./stack-pointers.js";

/** BPF_COMPLEXITY_LIMIT_INSNS: the most instructions bpf_prog_load takes from a privileged loader. */
const MAX_PROGRAM_SLOTS = 1_000_000;

/** A malformed program, found before any instruction is walked: no instruction is being checked yet. */
const malformed = (message: string): Rejection => new Rejection(message, null, "EINVAL");

export interface Cfg {
  /** Slot of each instruction, and the instruction at each slot (-1 for the second slot of lddw). */
  readonly pcs: readonly number[];
  readonly indexAt: Int32Array;
  readonly slots: number;
  /** First slot of each subprogram (0 first). */
  readonly subprogs: readonly number[];
  /** Slots where states are recorded and compared. */
  readonly prunePoints: Uint8Array;
  /** Helper calls that call a callback (bpf_loop, for_each_map_elem): a state is always kept there. */
  readonly callsCallback: Uint8Array;
  /** Registers (bit i = ri) some path from the slot may read before writing. */
  readonly liveIn: Uint16Array;
  /** Where each register may point in the stack, per slot (see stack-pointers.ts). */
  readonly fpOffsets: readonly (FpOffsets | undefined)[];
  /** Registers that may be copies of one scalar, per slot (linked.ts). */
  readonly links: Links;
  /** Stack slots (two words per slot) some path may read again before overwriting them. */
  readonly stackLive: Uint32Array;
  /** Registers and stack slots whose exact scalar value may matter from each slot on. */
  precise: Precision;
  /**
   * Where the main function ends when the program type does not check R0 at exit (check_return_code
   * returns early): its exits make nothing precise. 0 for types that check it.
   */
  readonly uncheckedExitsBelow: number;
}

/**
 * Types whose R0 at exit check_return_code does not look at (its early `return 0`), for every attach type:
 * the kernel marks nothing precise there. Others (ranges per type and attach type) count as checked.
 */
const UNCHECKED_RETURN = new Set([
  "socket_filter",
  "sched_cls",
  "sched_act",
  "xdp",
  "tracepoint",
  "perf_event",
  "lwt_in",
  "lwt_out",
  "lwt_xmit",
  "lwt_seg6local",
  "sk_skb",
  "sk_msg",
  "flow_dissector",
  "sk_reuseport",
]);

/** Registers an instruction reads and writes, as bit sets (a conservative view for liveness). */
function useDef(i: Instruction): { use: number; def: number } {
  const cls = i.op & 7;
  const bit = (r: number): number => (r <= 10 ? 1 << r : 0);
  const srcX = (i.op & O.SRC_X) !== 0;
  switch (cls) {
    case O.CLASS_ALU:
    case O.CLASS_ALU64: {
      const code = i.op & 0xf0;
      if (code === O.ALU_MOV) return { use: srcX ? bit(i.src) : 0, def: bit(i.dst) };
      return { use: bit(i.dst) | (srcX && code !== O.ALU_NEG && code !== O.ALU_END ? bit(i.src) : 0), def: bit(i.dst) };
    }
    case O.CLASS_LD:
      if (i.op === O.OP_LDDW) return { use: 0, def: bit(i.dst) };
      // ld_abs/ld_ind read the skb in r6 (and src), clobber r0-r5.
      return { use: bit(6) | ((i.op & 0xe0) === O.MODE_IND ? bit(i.src) : 0), def: 0x3f };
    case O.CLASS_LDX:
      return { use: bit(i.src), def: bit(i.dst) };
    case O.CLASS_ST:
      return { use: bit(i.dst), def: 0 };
    case O.CLASS_STX:
      if ((i.op & 0xe0) === O.MODE_ATOMIC) {
        const fetch = (i.imm & O.ATOMIC_FETCH) !== 0;
        const cmpxchg = i.imm === O.ATOMIC_CMPXCHG;
        return { use: bit(i.dst) | bit(i.src) | (cmpxchg ? 1 : 0), def: cmpxchg ? 1 : fetch ? bit(i.src) : 0 };
      }
      return { use: bit(i.dst) | bit(i.src), def: 0 };
    default: {
      const code = i.op & 0xf0;
      if (code === O.JMP_EXIT) return { use: 1, def: 0 };
      if (code === O.JMP_CALL) return { use: i.src === O.CALL_HELPER ? helperArgs(i.imm).reads : 0x3e, def: 0x3f };
      if (code === O.JMP_JA) return { use: 0, def: 0 };
      return { use: bit(i.dst) | (srcX ? bit(i.src) : 0), def: 0 };
    }
  }
}

/**
 * The kernel's first look at each instruction (resolve_pseudo_ldimm64), before any path is walked: loads
 * use only their fields, 64-bit immediates have a known pseudo source, and every opcode exists.
 */
function checkFields(insns: readonly Instruction[], maps: readonly MapShape[], type: string): void {
  for (const i of insns) {
    const cls = i.op & 7;
    if (cls === O.CLASS_LDX && (((i.op & 0xe0) !== O.MODE_MEM && (i.op & 0xe0) !== O.MODE_MEMSX) || i.imm !== 0))
      throw malformed("BPF_LDX uses reserved fields");
    if (i.op === O.OP_LDDW) {
      const mapRef = i.src === O.LDDW_MAP_FD || i.src === O.LDDW_MAP_IDX;
      if (i.src > O.LDDW_MAP_IDX_VALUE || (mapRef && (i.imm2 ?? 0) !== 0)) throw malformed("unrecognized bpf_ld_imm64 insn");
      // This verifier's programs name maps by index; a file descriptor means nothing here.
      if (i.src === O.LDDW_MAP_FD || i.src === O.LDDW_MAP_VALUE) throw malformed(`fd ${i.imm} is not pointing to valid bpf_map`);
      // A kernel variable's address (BPF_PSEUDO_BTF_ID) is looked up in the kernel's BTF, which this verifier does not read.
      if (i.src === O.LDDW_BTF_ID) throw malformed("this verifier does not resolve kernel variables (ldimm64 BTF ids) yet");
      if (i.src === O.LDDW_MAP_IDX || i.src === O.LDDW_MAP_IDX_VALUE) {
        const map = maps[i.imm];
        if (!map) throw malformed(`fd_array[${i.imm}] is not a map`);
        const noLock = NO_SPIN_LOCK[type];
        if (map.spinLock !== undefined && noLock) throw malformed(noLock);
        if (map.timer !== undefined && noLock?.startsWith("tracing")) throw malformed("tracing progs cannot use bpf_timer yet");
        if (i.src === O.LDDW_MAP_IDX_VALUE) {
          const off = (i.imm2 ?? 0) >>> 0;
          if (off >= 1 << 29) throw malformed(`direct value offset of ${off} is not allowed`);
          // Only single-element arrays have their value at a fixed address (map_direct_value_addr).
          if (map.type !== undefined && map.type !== 2) throw malformed("no direct value access support for this map type");
          if ((map.maxEntries !== undefined && map.maxEntries !== 1) || off >= map.valueSize)
            throw malformed(`invalid access to map value pointer, value_size=${map.valueSize} off=${off}`);
        }
      }
      continue;
    }
    if (!opInfo(i.op) && !UNWALKED_OPCODES.has(i.op)) throw malformed(`unknown opcode ${i.op.toString(16).padStart(2, "0")}`);
  }
}

export const isTailCall = (i: Instruction): boolean => i.op === O.OP_CALL && i.src === O.CALL_HELPER && i.imm === 12;
const isLdAbs = (i: Instruction): boolean => (i.op & 7) === O.CLASS_LD && ((i.op & 0xe0) === O.MODE_ABS || (i.op & 0xe0) === O.MODE_IND);

/** The instructions of the function that starts at slot `start`, with their slots. */
export function functionBody(
  insns: readonly Instruction[],
  indexAt: Int32Array,
  subprogs: readonly number[],
  slots: number,
  start: number,
): Array<{ pc: number; i: Instruction }> {
  const end = subprogs.find((s) => s > start) ?? slots;
  const out: Array<{ pc: number; i: Instruction }> = [];
  for (let pc = start; pc < end; pc++) {
    const n = indexAt[pc] as number;
    if (n >= 0) out.push({ pc, i: insns[n] as Instruction });
  }
  return out;
}

/** What the CFG pass needs of a map. */
interface MapShape {
  keySize: number;
  valueSize: number;
  type?: number;
  maxEntries?: number;
  spinLock?: number;
  timer?: number;
}

/** Types that may not use a map with a bpf_spin_lock (check_map_prog_compatibility), and the kernel's words. */
const NO_SPIN_LOCK: Readonly<Record<string, string>> = {
  socket_filter: "socket filter progs cannot use bpf_spin_lock yet",
  kprobe: "tracing progs cannot use bpf_spin_lock yet",
  tracepoint: "tracing progs cannot use bpf_spin_lock yet",
  perf_event: "tracing progs cannot use bpf_spin_lock yet",
  raw_tracepoint: "tracing progs cannot use bpf_spin_lock yet",
  raw_tracepoint_writable: "tracing progs cannot use bpf_spin_lock yet",
};

/**
 * The program's control flow, checked as bpf_check does before its walk. `nonScalarReturns`: first slots of
 * the subprograms whose BTF prototype returns something other than an integer or enum.
 */
export function buildCfg(
  insns: readonly Instruction[],
  maps: readonly MapShape[] = [],
  type = "",
  hasFuncInfo = true,
  nonScalarReturns: ReadonlySet<number> = new Set(),
): Cfg {
  const pcs: number[] = [];
  let slots = 0;
  for (const i of insns) {
    pcs.push(slots);
    slots += i.op === O.OP_LDDW ? 2 : 1;
  }
  // bpf_prog_load's own checks, before the verifier: no instructions, or more than root may load.
  if (slots === 0) throw new Rejection("the program has no instructions (E2BIG)", null, "E2BIG");
  if (slots > MAX_PROGRAM_SLOTS)
    throw new Rejection(`the program's ${slots} instructions are more than the kernel loads (${MAX_PROGRAM_SLOTS}) (E2BIG)`, null, "E2BIG");
  const indexAt = new Int32Array(slots).fill(-1);
  pcs.forEach((pc, n) => {
    indexAt[pc] = n;
  });
  // Subprograms start at the target of every local call (and every callback address taken by lddw).
  const starts = new Set<number>([0]);
  insns.forEach((i, n) => {
    const pc = pcs[n] as number;
    // add_kfunc_call resolves each kfunc in the kernel's BTF before any walk: this verifier has none to read.
    if (i.op === O.OP_CALL && i.src === O.CALL_KFUNC) throw malformed("this verifier does not check kfunc calls yet");
    const local = (i.op === O.OP_CALL && i.src === O.CALL_LOCAL) || (i.op === O.OP_LDDW && i.src === O.LDDW_FUNC);
    if (!local) return;
    const target = pc + 1 + i.imm;
    if (target < 0 || target >= slots) throw malformed(`call to invalid destination`);
    starts.add(target);
  });
  const subprogs = [...starts].sort((a, b) => a - b);
  // Jumps stay inside their subprogram; each subprogram ends in exit or an unconditional jump.
  for (let s = 0; s < subprogs.length; s++) {
    const start = subprogs[s] as number;
    const end = s + 1 < subprogs.length ? (subprogs[s + 1] as number) : slots;
    for (let pc = start; pc < end; pc++) {
      const n = indexAt[pc] as number;
      if (n < 0) continue;
      const i = insns[n] as Instruction;
      if (!isJmpClass(i.op)) continue;
      const code = i.op & 0xf0;
      if (code === O.JMP_CALL || code === O.JMP_EXIT) continue;
      // gotol (0x06) jumps by imm; anything else of the class, even a malformed JA, by off (check_subprogs).
      const target = pc + 1 + (i.op === O.OP_JA32 ? i.imm : i.off);
      if (target < start || target >= end) throw malformed(`jump out of range from insn ${pc} to ${target}`);
    }
    let last = end - 1;
    if ((indexAt[last] as number) < 0) last--;
    const li = insns[indexAt[last] as number] as Instruction;
    if (li.op !== O.OP_EXIT && li.op !== O.OP_JA && li.op !== O.OP_JA32) throw malformed("last insn is not an exit or jmp");
  }
  // check_abnormal_return: without BTF saying what a subprogram returns, it may not end the program itself.
  if (!hasFuncInfo) {
    for (const start of subprogs.slice(1)) {
      const body = functionBody(insns, indexAt, subprogs, slots, start);
      if (body.some(({ i }) => isLdAbs(i))) throw malformed("LD_ABS is not allowed in subprogs without BTF");
      if (body.some(({ i }) => isTailCall(i))) throw malformed("tail_call is not allowed in subprogs without BTF");
    }
  }
  // check_btf_func: a subprogram that may end the program (a failing LD_ABS, a tail call) gives its caller R0.
  for (const start of subprogs.slice(1)) {
    if (!nonScalarReturns.has(start)) continue;
    const body = functionBody(insns, indexAt, subprogs, slots, start);
    if (body.some(({ i }) => isLdAbs(i))) throw malformed("LD_ABS is only allowed in functions that return 'int'.");
    if (body.some(({ i }) => isTailCall(i))) throw malformed("tail_call is only allowed in functions that return 'int'.");
  }
  checkFields(insns, maps, type);
  // Every instruction is reachable from its subprogram's start.
  const seen = new Uint8Array(slots);
  const work: number[] = [...subprogs];
  for (const s of subprogs) seen[s] = 1;
  const prunePoints = new Uint8Array(slots);
  const callsCallback = new Uint8Array(slots);
  while (work.length > 0) {
    const pc = work.pop() as number;
    const i = insns[indexAt[pc] as number] as Instruction;
    const next = successors(i, pc);
    for (const t of next) {
      if (t < 0 || t >= slots || (indexAt[t] as number) < 0) {
        if (t >= 0 && t < slots) throw malformed(`jump into the middle of ldimm64 insn ${t - 1}`);
        throw malformed(`jump out of range from insn ${pc} to ${t}`);
      }
      if (!seen[t]) {
        seen[t] = 1;
        work.push(t);
      }
    }
    // Taking a callback's address is an edge into it, as a call is (visit_func_call_insn).
    if (i.op === O.OP_LDDW && i.src === O.LDDW_FUNC) {
      prunePoints[pc] = 1;
      prunePoints[pc + 2] = 1;
    }
    if (isJmpClass(i.op)) {
      const code = i.op & 0xf0;
      if (code === O.JMP_CALL) {
        prunePoints[pc + 1] = 1;
        if (i.src === O.CALL_LOCAL) prunePoints[pc] = 1;
        if (i.src === O.CALL_HELPER && (i.op & 7) === O.CLASS_JMP && SYNC_CALLBACK_HELPERS.has(i.imm)) {
          prunePoints[pc] = 1;
          callsCallback[pc] = 1;
        }
      } else if (code === O.JMP_JA) prunePoints[next[0] as number] = 1;
      else if (code !== O.JMP_EXIT) {
        // A conditional jump and its target (the kernel's BRANCH edge) are both prune points.
        prunePoints[pc] = 1;
        prunePoints[next[next.length - 1] as number] = 1;
      }
    }
  }
  for (let pc = 0; pc < slots; pc++) {
    if ((indexAt[pc] as number) >= 0 && !seen[pc]) throw malformed(`unreachable insn ${pc}`);
  }
  const fpOffsets = stackPointerOffsets(insns, pcs, indexAt, slots);
  const links = linkedScalars(insns, pcs, indexAt, slots, fpOffsets);
  const uncheckedExitsBelow = UNCHECKED_RETURN.has(type) ? (subprogs[1] ?? slots) : 0;
  return {
    pcs,
    indexAt,
    slots,
    subprogs,
    prunePoints,
    callsCallback,
    liveIn: liveness(insns, pcs, indexAt, slots),
    fpOffsets,
    links,
    stackLive: stackLiveness(insns, pcs, indexAt, slots, fpOffsets, maps),
    precise: precision(insns, pcs, indexAt, slots, new Uint8Array(slots), fpOffsets, false, undefined, links, uncheckedExitsBelow),
    uncheckedExitsBelow,
  };
}

/** precision() over this CFG's own analyses: `decided` jumps, and (ownNeeds) the functions walked so far. */
export function cfgPrecision(
  insns: readonly Instruction[],
  cfg: Cfg,
  decided: Uint8Array,
  ownNeeds = false,
  walked?: (callback: number) => boolean,
): Precision {
  return precision(insns, cfg.pcs, cfg.indexAt, cfg.slots, decided, cfg.fpOffsets, ownNeeds, walked, cfg.links, cfg.uncheckedExitsBelow);
}

/** Backward dataflow: live-in registers per slot. r10 is always live; a local call reads r1-r5. */
function liveness(insns: readonly Instruction[], pcs: readonly number[], indexAt: Int32Array, slots: number): Uint16Array {
  const live = new Uint16Array(slots);
  const ud = insns.map(useDef);
  let changed = true;
  while (changed) {
    changed = false;
    for (let n = insns.length - 1; n >= 0; n--) {
      const i = insns[n] as Instruction;
      const pc = pcs[n] as number;
      let out = 0;
      for (const t of validSuccessors(i, pc, slots, indexAt)) out |= live[t] as number;
      // A local call's callee reads its arguments; the caller's r6-r9 survive it.
      if (i.op === O.OP_CALL && i.src === O.CALL_LOCAL) out |= 0x3e | (live[pc + 1] as number);
      const { use, def } = ud[n] as { use: number; def: number };
      const inn = (use | (out & ~def) | (1 << 10)) & 0x7ff;
      if (inn !== live[pc]) {
        live[pc] = inn;
        changed = true;
      }
    }
  }
  return live;
}
