/**
 * Conditional jumps (the kernel's check_cond_jmp_op): a branch whose outcome the bounds decide is followed
 * alone; otherwise both are, each with its registers refined by the condition (and every register sharing
 * the id), with null checks resolving `_or_null` pointers and comparisons against data_end proving packet
 * ranges.
 */
import type { Instruction } from "../isa/instruction.js";
import * as O from "../isa/opcodes.js";
import { checkRegRead } from "./alu.js";
import type { Env } from "./env.js";
import { MAP_TYPE } from "./map-helpers.js";
import { MAX_PACKET_OFF, MAX_VAR_OFF } from "./memory.js";
import { boundsInvalid, markConstScalar, markUnbounded, type Reg, Reg as RegClass, syncBounds } from "./reg.js";
import { updateRegs, type VState } from "./state.js";
import { s64, tnumAnd, tnumConst, tnumIntersect, tnumIsConst, tnumOr, tnumSubreg, tnumWithSubreg, u64 } from "./tnum.js";

const JSET_X = 0x100; // the negation of jset (not a real opcode)

function flip(op: number): number {
  const m: Record<number, number> = {
    [O.JMP_JGT]: O.JMP_JLT,
    [O.JMP_JLT]: O.JMP_JGT,
    [O.JMP_JGE]: O.JMP_JLE,
    [O.JMP_JLE]: O.JMP_JGE,
    [O.JMP_JSGT]: O.JMP_JSLT,
    [O.JMP_JSLT]: O.JMP_JSGT,
    [O.JMP_JSGE]: O.JMP_JSLE,
    [O.JMP_JSLE]: O.JMP_JSGE,
  };
  return m[op] ?? op;
}

function negate(op: number): number {
  const m: Record<number, number> = {
    [O.JMP_JEQ]: O.JMP_JNE,
    [O.JMP_JNE]: O.JMP_JEQ,
    [O.JMP_JGT]: O.JMP_JLE,
    [O.JMP_JLE]: O.JMP_JGT,
    [O.JMP_JGE]: O.JMP_JLT,
    [O.JMP_JLT]: O.JMP_JGE,
    [O.JMP_JSGT]: O.JMP_JSLE,
    [O.JMP_JSLE]: O.JMP_JSGT,
    [O.JMP_JSGE]: O.JMP_JSLT,
    [O.JMP_JSLT]: O.JMP_JSGE,
    [O.JMP_JSET]: JSET_X,
    [JSET_X]: O.JMP_JSET,
  };
  return m[op] ?? op;
}

interface View {
  umin: bigint;
  umax: bigint;
  smin: bigint;
  smax: bigint;
  t: { value: bigint; mask: bigint };
}

function view(r: Reg, is32: boolean): View {
  return is32
    ? { umin: BigInt(r.u32min), umax: BigInt(r.u32max), smin: BigInt(r.s32min), smax: BigInt(r.s32max), t: tnumSubreg(r.varOff) }
    : { umin: r.umin, umax: r.umax, smin: r.smin, smax: r.smax, t: r.varOff };
}

const isConst = (r: Reg, is32: boolean): boolean => (is32 ? (r.varOff.mask & 0xffffffffn) === 0n : tnumIsConst(r.varOff));

/** 1: always taken, 0: never, -1: unknown (is_scalar_branch_taken). */
function scalarTaken(r1: Reg, r2: Reg, op: number, is32: boolean): number {
  let a = view(r1, is32);
  let b = view(r2, is32);
  switch (op) {
    case O.JMP_JEQ:
    case O.JMP_JNE: {
      const eq = op === O.JMP_JEQ;
      if (tnumIsConst(a.t) && tnumIsConst(b.t)) return (a.t.value === b.t.value) === eq ? 1 : 0;
      let disjoint = a.umin > b.umax || a.umax < b.umin || a.smin > b.smax || a.smax < b.smin;
      if (!is32) disjoint ||= r1.u32min > r2.u32max || r1.u32max < r2.u32min || r1.s32min > r2.s32max || r1.s32max < r2.s32min;
      if (disjoint) return eq ? 0 : 1;
      return -1;
    }
    case O.JMP_JSET:
    case JSET_X: {
      let r2c = isConst(r2, is32);
      if (!r2c && isConst(r1, is32)) {
        [a, b] = [b, a];
        r2c = true;
      }
      if (!r2c) return -1;
      let res = -1;
      if ((~a.t.mask & a.t.value & b.t.value) !== 0n) res = 1;
      else if (((a.t.mask | a.t.value) & b.t.value) === 0n) res = 0;
      if (op === JSET_X && res >= 0) return 1 - res;
      return res;
    }
    case O.JMP_JGT:
      return a.umin > b.umax ? 1 : a.umax <= b.umin ? 0 : -1;
    case O.JMP_JSGT:
      return a.smin > b.smax ? 1 : a.smax <= b.smin ? 0 : -1;
    case O.JMP_JLT:
      return a.umax < b.umin ? 1 : a.umin >= b.umax ? 0 : -1;
    case O.JMP_JSLT:
      return a.smax < b.smin ? 1 : a.smin >= b.smax ? 0 : -1;
    case O.JMP_JGE:
      return a.umin >= b.umax ? 1 : a.umax < b.umin ? 0 : -1;
    case O.JMP_JSGE:
      return a.smin >= b.smax ? 1 : a.smax < b.smin ? 0 : -1;
    case O.JMP_JLE:
      return a.umax <= b.umin ? 1 : a.umin > b.umax ? 0 : -1;
    case O.JMP_JSLE:
      return a.smax <= b.smin ? 1 : a.smin > b.smax ? 0 : -1;
  }
  return -1;
}

const NOT_NULL_KINDS = new Set(["sock", "tcp_sock", "map_value", "map_key", "sock_common", "mem"]);

function branchTaken(r1: Reg, r2: Reg, op: number, is32: boolean): number {
  if (r1.isPacket() || r1.kind === "pkt_end" || r2.isPacket() || r2.kind === "pkt_end") return -1;
  if (r1.kind !== "scalar" || r2.kind !== "scalar") {
    let p = r1;
    let c = r2;
    let o = op;
    if (!(c.kind === "scalar" && isConst(c, is32))) {
      o = flip(op);
      [p, c] = [c, p];
    }
    if (!(c.kind === "scalar" && isConst(c, is32))) return -1;
    if (c.varOff.value !== 0n) return -1;
    if (p.maybeNull || !NOT_NULL_KINDS.has(p.kind)) return -1;
    return o === O.JMP_JEQ ? 0 : o === O.JMP_JNE ? 1 : -1;
  }
  return scalarTaken(r1, r2, op, is32);
}

const bmax = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const bmin = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** Refines r1 and r2 (scalars) in place by "r1 op r2 holds" (regs_refine_cond_op). */
function refine(r1: Reg, r2: Reg, opIn: number, is32: boolean): void {
  let op = opIn;
  let a = r1;
  let b = r2;
  if (op === O.JMP_JGE || op === O.JMP_JGT || op === O.JMP_JSGE || op === O.JMP_JSGT) {
    op = flip(op);
    [a, b] = [b, a];
  }
  switch (op) {
    case O.JMP_JEQ:
      if (is32) {
        a.u32min = Math.max(a.u32min, b.u32min);
        a.u32max = Math.min(a.u32max, b.u32max);
        a.s32min = Math.max(a.s32min, b.s32min);
        a.s32max = Math.min(a.s32max, b.s32max);
        b.u32min = a.u32min;
        b.u32max = a.u32max;
        b.s32min = a.s32min;
        b.s32max = a.s32max;
        const t = tnumIntersect(tnumSubreg(a.varOff), tnumSubreg(b.varOff));
        a.varOff = tnumWithSubreg(a.varOff, t);
        b.varOff = tnumWithSubreg(b.varOff, t);
      } else {
        a.umin = bmax(a.umin, b.umin);
        a.umax = bmin(a.umax, b.umax);
        a.smin = bmax(a.smin, b.smin);
        a.smax = bmin(a.smax, b.smax);
        b.umin = a.umin;
        b.umax = a.umax;
        b.smin = a.smin;
        b.smax = a.smax;
        a.varOff = tnumIntersect(a.varOff, b.varOff);
        b.varOff = a.varOff;
      }
      return;
    case O.JMP_JNE: {
      if (!isConst(b, is32)) [a, b] = [b, a];
      if (!isConst(b, is32)) return;
      const val = b.varOff.value;
      if (is32) {
        const v = Number(val & 0xffffffffn);
        if (a.u32min === v) a.u32min++;
        if (a.u32max === v) a.u32max--;
        if (a.s32min === (v | 0)) a.s32min++;
        if (a.s32max === (v | 0)) a.s32max--;
      } else {
        if (a.umin === val) a.umin++;
        if (a.umax === val) a.umax--;
        if (a.smin === s64(val)) a.smin++;
        if (a.smax === s64(val)) a.smax--;
      }
      return;
    }
    case O.JMP_JSET:
    case JSET_X: {
      if (!isConst(b, is32)) [a, b] = [b, a];
      if (!isConst(b, is32)) return;
      const val = is32 ? b.varOff.value & 0xffffffffn : b.varOff.value;
      if (op === O.JMP_JSET) {
        if (val === 0n || (val & (val - 1n)) !== 0n) return;
        if (is32) a.varOff = tnumWithSubreg(a.varOff, tnumOr(tnumSubreg(a.varOff), tnumConst(val)));
        else a.varOff = tnumOr(a.varOff, tnumConst(val));
      } else {
        a.smin = -(1n << 63n);
        a.smax = (1n << 63n) - 1n;
        a.umin = 0n;
        a.umax = (1n << 64n) - 1n;
        a.s32min = -0x80000000;
        a.s32max = 0x7fffffff;
        a.u32min = 0;
        a.u32max = 0xffffffff;
        if (is32) a.varOff = tnumWithSubreg(a.varOff, tnumAnd(tnumSubreg(a.varOff), tnumConst(~val & 0xffffffffn)));
        else a.varOff = tnumAnd(a.varOff, tnumConst(u64(~val)));
      }
      return;
    }
    case O.JMP_JLE:
      if (is32) {
        a.u32max = Math.min(a.u32max, b.u32max);
        b.u32min = Math.max(a.u32min, b.u32min);
      } else {
        a.umax = bmin(a.umax, b.umax);
        b.umin = bmax(a.umin, b.umin);
      }
      return;
    case O.JMP_JLT:
      if (is32) {
        a.u32max = Math.min(a.u32max, b.u32max - 1);
        b.u32min = Math.max(a.u32min + 1, b.u32min);
      } else {
        a.umax = bmin(a.umax, b.umax - 1n);
        b.umin = bmax(a.umin + 1n, b.umin);
      }
      return;
    case O.JMP_JSLE:
      if (is32) {
        a.s32max = Math.min(a.s32max, b.s32max);
        b.s32min = Math.max(a.s32min, b.s32min);
      } else {
        a.smax = bmin(a.smax, b.smax);
        b.smin = bmax(a.smin, b.smin);
      }
      return;
    case O.JMP_JSLT:
      if (is32) {
        a.s32max = Math.min(a.s32max, b.s32max - 1);
        b.s32min = Math.max(a.s32min + 1, b.s32min);
      } else {
        a.smax = bmin(a.smax, b.smax - 1n);
        b.smin = bmax(a.smin + 1n, b.smin);
      }
      return;
  }
}

/** Copies a refined scalar's knowledge to every register with the same id. */
function syncLinked(s: VState, r: Reg): void {
  if (r.kind !== "scalar" || r.id === 0) return;
  updateRegs(
    s,
    (x) => x !== r && x.kind === "scalar" && x.id === r.id,
    (x) => {
      const id = x.id;
      x.assign(r.clone());
      x.id = id;
    },
  );
}

/** Map types whose values are sockets. */
const SOCKET_MAPS: Readonly<Record<number, "sock" | "xdp_sock">> = {
  [MAP_TYPE.SOCKMAP]: "sock",
  [MAP_TYPE.XSKMAP]: "xdp_sock",
  [MAP_TYPE.SOCKHASH]: "sock",
};

/** mark_ptr_not_null_reg: a pointer proven not NULL; what a sockmap or an xskmap holds is a socket. */
function markPtrNotNull(x: Reg): void {
  x.maybeNull = false;
  const holds = x.kind === "map_value" ? SOCKET_MAPS[x.map?.type ?? 0] : undefined;
  if (holds) {
    x.kind = holds;
    x.map = undefined;
  }
}

/** reg_not_null: kinds whose pointers are never NULL, unless an unbounded offset could wrap them to it. */
function regNotNull(r: Reg): boolean {
  if (r.maybeNull || r.smin <= BigInt(-MAX_VAR_OFF) || r.smax >= BigInt(MAX_VAR_OFF)) return false;
  return NEVER_NULL_KINDS.has(r.kind) || (r.kind === "btf_id" && r.btfFlavour === "trusted_");
}
const NEVER_NULL_KINDS = new Set(["sock", "tcp_sock", "xdp_sock", "buf", "map_value", "map_key", "sock_common", "mem", "map_ptr"]);

/**
 * Two pointers found equal: where one cannot be NULL, neither can the other (in the branch where they are
 * equal). BTF pointers are left alone: a kernel struct pointer may be NULL without saying so.
 */
function inferNotNull(eq: VState, dst: number, src: number): void {
  const d = eq.regs[dst] as Reg;
  const s = eq.regs[src] as Reg;
  if (d.kind === "scalar" || s.kind === "scalar" || d.kind === "btf_id" || s.kind === "btf_id") return;
  const dNotNull = regNotNull(d);
  const sNotNull = regNotNull(s);
  if (dNotNull && s.maybeNull) markPtrNotNull(s);
  if (sNotNull && d.maybeNull) markPtrNotNull(d);
}

/** Resolves a null check: in the null branch the pointer (and its copies) is 0, in the other it is valid. */
function markNullCheck(s: VState, id: number, isNull: boolean): void {
  let released: number | undefined;
  updateRegs(
    s,
    (x) => x.maybeNull && x.id === id,
    (x) => {
      if (isNull) {
        // An acquired object that is NULL holds nothing; a cast of one (its reference another's) releases nothing.
        if (x.refObjId && x.refObjId === id) released = x.refObjId;
        markConstScalar(x, 0n);
      } else {
        markPtrNotNull(x);
        // A map value with a lock keeps its id: unlocking checks it (reg_may_point_to_spin_lock).
        if (x.kind === "map_value" && x.map?.spinLock !== undefined) return;
        if (["map_value", "mem", "sock", "sock_common", "tcp_sock", "xdp_sock", "btf_id"].includes(x.kind)) x.id = 0;
      }
    },
  );
  if (released !== undefined) s.refs = s.refs.filter((r) => r.id !== released);
}

/** Packet pointers with dst's id have `off` (+1 when the comparison was strict) bytes of proven range. */
function goodPacketPointers(s: VState, dst: Reg, rightOpen: boolean): void {
  if (dst.off < 0 || (dst.off === 0 && rightOpen)) return;
  if (dst.umax > BigInt(MAX_PACKET_OFF) || dst.umax + BigInt(dst.off) > BigInt(MAX_PACKET_OFF)) return;
  const range = dst.off + (rightOpen ? 1 : 0);
  const { kind, id } = dst;
  updateRegs(
    s,
    (x) => x.kind === kind && x.id === id,
    (x) => {
      x.range = Math.max(x.range, range);
    },
  );
}

const initPkt = (r: Reg): boolean => r.kind === "pkt" && r.off === 0 && tnumIsConst(r.varOff) && r.varOff.value === 0n;

/**
 * try_match_pkt_pointers for `if r<dst> op r<src>`: `fall` is the state where the condition is false, `jump`
 * where it is true (both still hold the compared registers unchanged).
 */
function matchPacket(fall: VState, jump: VState, dst: number, src: number, op: number): boolean {
  const d = fall.regs[dst] as Reg;
  const sr = fall.regs[src] as Reg;
  const dataVsEnd = (d.kind === "pkt" && sr.kind === "pkt_end") || (d.kind === "pkt_meta" && initPkt(sr));
  const endVsData = (d.kind === "pkt_end" && sr.kind === "pkt") || (initPkt(d) && sr.kind === "pkt_meta");
  if (!dataVsEnd && !endVsData) return false;
  const dIn = (st: VState): Reg => st.regs[dst] as Reg;
  const sIn = (st: VState): Reg => st.regs[src] as Reg;
  switch (op) {
    case O.JMP_JGT:
      if (dataVsEnd) goodPacketPointers(fall, dIn(fall), false);
      else goodPacketPointers(jump, sIn(jump), true);
      return true;
    case O.JMP_JLT:
      if (dataVsEnd) goodPacketPointers(jump, dIn(jump), true);
      else goodPacketPointers(fall, sIn(fall), false);
      return true;
    case O.JMP_JGE:
      if (dataVsEnd) goodPacketPointers(fall, dIn(fall), true);
      else goodPacketPointers(jump, sIn(jump), false);
      return true;
    case O.JMP_JLE:
      if (dataVsEnd) goodPacketPointers(jump, dIn(jump), false);
      else goodPacketPointers(fall, sIn(fall), true);
      return true;
    default:
      return false;
  }
}

/** Where the walk goes on: the fall-through state, the jump state, either, both or (dead branches) neither. */
export interface BranchOutcome {
  fall: VState | null;
  jump: VState | null;
}

export function checkCondJump(env: Env, i: Instruction): BranchOutcome {
  const is32 = (i.op & 7) === O.CLASS_JMP32;
  const op = i.op & 0xf0;
  const srcX = (i.op & O.SRC_X) !== 0;
  checkRegRead(env, i.dst);
  if (srcX ? i.imm !== 0 : i.src !== 0) env.reject("BPF_JMP/JMP32 uses reserved fields", "EINVAL");
  if (srcX) checkRegRead(env, i.src);
  const cur = env.cur;
  const d = cur.regs[i.dst] as Reg;
  let s: Reg;
  if (srcX) s = cur.regs[i.src] as Reg;
  else {
    s = new RegClass();
    markConstScalar(s, is32 ? BigInt(i.imm >>> 0) : u64(BigInt(i.imm)));
  }
  const taken = branchTaken(d, s, op, is32);
  if (taken !== -1 && d.kind === "scalar" && s.kind === "scalar" && !env.decided[env.pc]) {
    env.decided[env.pc] = 1;
    env.newlyDecided = true;
  }
  if (taken === 1) return { fall: null, jump: cur };
  if (taken === 0) return { fall: cur, jump: null };
  const jump = cur.clone();
  const jd = jump.regs[i.dst] as Reg;
  const js = srcX ? (jump.regs[i.src] as Reg) : s.clone();
  if (d.kind === "scalar" && s.kind === "scalar") {
    const fs = srcX ? s : s.clone();
    refine(d, fs, negate(op), is32);
    syncBounds(d);
    syncBounds(fs);
    refine(jd, js, op, is32);
    syncBounds(jd);
    syncBounds(js);
    // A branch the bounds rule out is still walked (only branchTaken prunes): the kernel reports the broken
    // invariant as its own bug and goes on with the register unbounded (reg_bounds_sanity_check).
    for (const r of [d, fs, jd, js]) if (boundsInvalid(r)) markUnbounded(r);
    syncLinked(cur, d);
    if (srcX) syncLinked(cur, fs);
    syncLinked(jump, jd);
    if (srcX) syncLinked(jump, js);
    return { fall: cur, jump };
  }
  if (srcX && !is32 && (op === O.JMP_JEQ || op === O.JMP_JNE)) inferNotNull(op === O.JMP_JEQ ? jump : cur, i.dst, i.src);
  if (!srcX && !is32 && i.imm === 0 && (op === O.JMP_JEQ || op === O.JMP_JNE) && d.maybeNull) {
    const id = d.id;
    markNullCheck(cur, id, op === O.JMP_JNE);
    markNullCheck(jump, id, op === O.JMP_JEQ);
    return { fall: cur, jump };
  }
  if (srcX && !is32) matchPacket(cur, jump, i.dst, i.src, op);
  return { fall: cur, jump };
}
