/**
 * Comparing verifier states (the kernel's states_equal, regsafe, stacksafe): whether what was proven safe
 * from an explored state holds for the current one, loosely (pruning: only what is live and precise),
 * by range (callback and may_goto iterations) or exactly (infinite loops); and widening the scalars that
 * changed between iterations and matter nowhere (widen_imprecise_scalars).
 */
import type { Env } from "./env.js";
import { markUnknown, type Reg, Reg as RegClass } from "./reg.js";
import { type Frame, SLOTS, STACK_INVALID, STACK_MISC, STACK_SPILL, type VState } from "./state.js";
import { tnumIn } from "./tnum.js";

export type IdMap = Map<number, number>;

function checkIds(old: number, cur: number, map: IdMap): boolean {
  if (old === 0) return cur === 0;
  if (cur === 0) return false;
  const seen = map.get(old);
  if (seen === undefined) {
    map.set(old, cur);
    return true;
  }
  return seen === cur;
}

function rangeWithin(o: Reg, c: Reg): boolean {
  return (
    o.umin <= c.umin &&
    o.umax >= c.umax &&
    o.smin <= c.smin &&
    o.smax >= c.smax &&
    o.u32min <= c.u32min &&
    o.u32max >= c.u32max &&
    o.s32min <= c.s32min &&
    o.s32max >= c.s32max
  );
}

export function regsExact(o: Reg, c: Reg, ids: IdMap): boolean {
  return (
    o.kind === c.kind &&
    o.maybeNull === c.maybeNull &&
    o.off === c.off &&
    o.varOff.value === c.varOff.value &&
    o.varOff.mask === c.varOff.mask &&
    o.umin === c.umin &&
    o.umax === c.umax &&
    o.smin === c.smin &&
    o.smax === c.smax &&
    o.u32min === c.u32min &&
    o.u32max === c.u32max &&
    o.s32min === c.s32min &&
    o.s32max === c.s32max &&
    o.range === c.range &&
    o.map === c.map &&
    o.memSize === c.memSize &&
    o.frameno === c.frameno &&
    o.subprog === c.subprog &&
    o.btfName === c.btfName &&
    o.btfId === c.btfId &&
    o.btfFlavour === c.btfFlavour &&
    checkIds(o.id, c.id, ids) &&
    checkIds(o.refObjId, c.refObjId, ids)
  );
}

/** regsafe: whether what was proven safe with `o` holds for `c`. */
function regSafe(o: Reg, c: Reg, ids: IdMap, exact: boolean, precise = true): boolean {
  if (exact) return regsExact(o, c, ids);
  if (o.kind === "not_init") return true;
  if (o.kind !== c.kind || o.maybeNull !== c.maybeNull || o.readOnly !== c.readOnly) return false;
  switch (o.kind) {
    case "scalar":
      if (!precise) return true;
      // check_scalar_ids: an id of 0 stands for an id of its own.
      if (o.id !== 0 && c.id !== 0 && !checkIds(o.id, c.id, ids)) return false;
      if (o.id !== 0 && c.id === 0 && ids.has(o.id)) return false;
      return rangeWithin(o, c) && tnumIn(o.varOff, c.varOff);
    case "map_key":
    case "map_value":
    case "mem":
    case "buf":
    case "tp_buffer":
      return (
        o.off === c.off &&
        o.map === c.map &&
        o.memSize === c.memSize &&
        rangeWithin(o, c) &&
        tnumIn(o.varOff, c.varOff) &&
        checkIds(o.id, c.id, ids) &&
        checkIds(o.refObjId, c.refObjId, ids)
      );
    case "pkt":
    case "pkt_meta":
      if (o.range > c.range) return false;
      if (o.off !== c.off) return false;
      if (!checkIds(o.id, c.id, ids)) return false;
      return rangeWithin(o, c) && tnumIn(o.varOff, c.varOff);
    default:
      return regsExact(o, c, ids);
  }
}

/** What 8 bytes of plain data read as (shared: comparisons only read it). */
const UNKNOWN_SCALAR: Reg = (() => {
  const r = new RegClass();
  markUnknown(r);
  return r;
})();

/** The scalar a slot holds when read whole: its 8-byte spilled scalar, or an unknown scalar for plain data. */
function slotScalar(f: Frame, slot: number): Reg | undefined {
  const sp = f.spills[slot];
  if (f.types[slot * 8] === STACK_SPILL && sp?.kind === "scalar") return sp;
  for (let j = 0; j < 8; j++) {
    const t = f.types[slot * 8 + j];
    if (t !== STACK_MISC && t !== STACK_INVALID) return undefined;
  }
  return UNKNOWN_SCALAR;
}

function scalarish(f: Frame, slot: number): boolean {
  const sp = f.spills[slot];
  if (sp !== undefined && f.types[slot * 8 + 7] === STACK_SPILL) return sp.kind === "scalar";
  for (let j = 0; j < 8; j++) if (f.types[slot * 8 + j] === STACK_SPILL) return false;
  return true;
}

function stackSafe(o: Frame, c: Frame, ids: IdMap, exact: boolean, w0: number, w1: number, l0: number, l1: number): boolean {
  for (let slot = 0; slot < SLOTS; slot++) {
    // A slot no path reads again before overwriting it cannot matter.
    if (!exact && ((slot < 32 ? l0 >>> slot : l1 >>> (slot - 32)) & 1) === 0) continue;
    const precise = ((slot < 32 ? w0 >>> slot : w1 >>> (slot - 32)) & 1) === 1;
    // A slot of plain numbers whose value matters nowhere ahead is covered by any other such slot.
    if (!exact && !precise && scalarish(o, slot) && scalarish(c, slot)) continue;
    for (let j = 0; j < 8; j++) {
      const b = slot * 8 + j;
      const ot = o.types[b] as number;
      const ct = c.types[b] as number;
      if (exact && ot !== ct) return false;
      if (ot === STACK_INVALID) continue;
      // Root may read uninitialised stack: plain data in the old state covers anything.
      if (ot === STACK_MISC) continue;
      // The first byte that matters: a whole-slot scalar on both sides compares as registers do.
      const os = slotScalar(o, slot);
      const cs = os && slotScalar(c, slot);
      if (os && cs) {
        if (!regSafe(os, cs, ids, exact)) return false;
        break;
      }
      if (ot !== ct) return false;
      if (j === 7 && ot === STACK_SPILL) {
        const a = o.spills[slot];
        const z = c.spills[slot];
        if (!a || !z || !regSafe(a, z, ids, exact)) return false;
      }
    }
  }
  return true;
}

/**
 * How states are compared: `exact` (an infinite loop), `range` (at a call that calls a callback, against an
 * iteration still on the path: every scalar and stack slot counts, as nothing was cleaned there yet), or
 * `loose` (pruning: only what is live and, for scalars, precise).
 */
export type Exactness = "exact" | "range" | "loose";

/** Where a frame's caller resumes: after its call, or at the call itself when the frame is a callback's. */
export const resumeAt = (callee: Frame): number => callee.callsite + (callee.callback ? 0 : 1);

export const ALL_SLOTS = 0xffffffff;

export function statesEqual(env: Env, o: VState, c: VState, mode: Exactness): boolean {
  const exact = mode === "exact";
  if (o.frames.length !== c.frames.length) return false;
  if (o.refs.length !== c.refs.length) return false;
  const ids: IdMap = new Map();
  for (let k = 0; k < o.refs.length; k++)
    if (!checkIds((o.refs[k] as { id: number }).id, (c.refs[k] as { id: number }).id, ids)) return false;
  if ((o.lock === undefined) !== (c.lock === undefined)) return false;
  if (o.lock && c.lock && (!checkIds(o.lock.id, c.lock.id, ids) || o.lock.map !== c.lock.map)) return false;
  for (let f = 0; f < o.frames.length; f++) {
    const of = o.frames[f] as Frame;
    const cf = c.frames[f] as Frame;
    if (of.callsite !== cf.callsite) return false;
    if (of.callbackDepth > cf.callbackDepth) return false;
    // The registers of the innermost frame are live as at this instruction, a caller's as where it resumes.
    const at = f === o.frames.length - 1 ? env.pc : resumeAt(o.frames[f + 1] as Frame);
    const live = exact ? 0x7ff : (env.cfg.liveIn[at] ?? 0x7ff);
    const prec = mode === "loose" ? (env.cfg.precise.regs[at] ?? 0x7ff) : 0x7ff;
    for (let r = 0; r <= 10; r++) {
      if (!exact && (live & (1 << r)) === 0) continue;
      if (!regSafe(of.regs[r] as Reg, cf.regs[r] as Reg, ids, exact, (prec & (1 << r)) !== 0)) return false;
    }
    const { precise, stackLive } = env.cfg;
    const loose = mode === "loose";
    if (
      !stackSafe(
        of,
        cf,
        ids,
        exact,
        loose ? (precise.stack[at * 2] ?? 0) : ALL_SLOTS,
        loose ? (precise.stack[at * 2 + 1] ?? 0) : ALL_SLOTS,
        loose ? (stackLive[at * 2] ?? 0) : ALL_SLOTS,
        loose ? (stackLive[at * 2 + 1] ?? 0) : ALL_SLOTS,
      )
    )
      return false;
  }
  return true;
}

/** states_maybe_looping: a quick look before the exact comparison. */
export function maybeLooping(o: VState, c: VState): boolean {
  if (o.frames.length !== c.frames.length) return false;
  const of = o.cur;
  const cf = c.cur;
  for (let r = 0; r <= 10; r++) {
    const a = of.regs[r] as Reg;
    const b = cf.regs[r] as Reg;
    if (a.kind !== b.kind || a.varOff.value !== b.varOff.value || a.varOff.mask !== b.varOff.mask || a.off !== b.off) return false;
    if (a.umin !== b.umin || a.umax !== b.umax || a.smin !== b.smin || a.smax !== b.smax) return false;
  }
  return true;
}

/** Which registers and stack slots (two words) of a frame matter exactly, and are not to be widened. */
export type Kept = (frame: number) => { regs: number; w0: number; w1: number };

/** Scalars of `cur` that differ from `old` and matter nowhere become unknown (maybe_widen_reg, per frame). */
export function widenScalars(old: VState, cur: VState, kept: Kept): void {
  const ids: IdMap = new Map();
  const widens = (o: Reg | undefined, c: Reg | undefined): boolean =>
    o !== undefined && c !== undefined && o.kind === "scalar" && c.kind === "scalar" && !regsExact(o, c, ids);
  cur.frames.forEach((cf, f) => {
    const of = old.frames[f] as Frame;
    const { regs, w0, w1 } = kept(f);
    for (let r = 0; r <= 10; r++) if ((regs & (1 << r)) === 0 && widens(of.regs[r], cf.regs[r])) markUnknown(cf.regs[r] as Reg);
    for (let slot = 0; slot < SLOTS; slot++) {
      if (((slot < 32 ? w0 >>> slot : w1 >>> (slot - 32)) & 1) === 1) continue;
      if (of.types[slot * 8 + 7] !== STACK_SPILL || cf.types[slot * 8 + 7] !== STACK_SPILL) continue;
      const c = cf.spills[slot];
      if (!widens(of.spills[slot], c)) continue;
      const copy = (c as Reg).clone();
      markUnknown(copy);
      cf.spills[slot] = copy;
    }
  });
}

/** Both states are in the same functions, called from the same places (same_callsites). */
export function sameCallsites(a: VState, b: VState): boolean {
  return a.frames.length === b.frames.length && a.frames.every((f, k) => f.callsite === (b.frames[k] as Frame).callsite);
}
