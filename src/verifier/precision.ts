/**
 * Which scalars' exact values can matter from an instruction on (a static stand-in for the kernel's
 * precision backtracking). A scalar matters when it can flow, through ALU operations, moves and stack
 * spills, into something whose safety depends on its value: a memory access's address, a helper's
 * argument, a conditional jump (whose outcome the bounds may decide), or R0 at exit. Pruning may ignore a
 * scalar that matters nowhere downstream: what was proven with any value holds with any other. The analysis
 * over-approximates what the kernel would mark precise, so it prunes less than the kernel, never unsoundly.
 */
import type { Instruction } from "../isa/instruction.js";
import * as O from "../isa/opcodes.js";
import { validSuccessors } from "./flow.js";
import { helperArgs, SYNC_CALLBACK_HELPERS } from "./helpers.js";
import type { Links } from "./linked.js";
import { ANY_OFFSET, type FpOffsets } from "./stack-pointers.js";

export interface Precision {
  /** Registers (bit i = ri) whose value may matter, per slot. */
  readonly regs: Uint16Array;
  /** Stack slots (two words per slot: bit i = the 8 bytes at fp-8(i+1)) whose value may matter. */
  readonly stack: Uint32Array;
}

const ALL = 0xffffffff;

/**
 * `decided`: conditional jumps whose outcome the bounds decided on some walked path; their operands are
 * sinks (the other jumps had both outcomes explored, whatever the values).
 * `ownNeeds`: only what a function itself needs, as the kernel's backtracking finds it: a store outside the
 * stack makes nothing precise, a store through a stack pointer of unknown offset only when some slot is
 * precise after it; a static function's R0 matters at its exit only where a caller needs it after the call,
 * and the caller's stack matters at a call only where the callee needs what it reads of it. (By default such
 * stores count and every call needs the caller's whole stack, for the callers whose needs a callee cannot see.)
 */
export function precision(
  insns: readonly Instruction[],
  pcs: readonly number[],
  indexAt: Int32Array,
  slots: number,
  decided: Uint8Array,
  fp: readonly (FpOffsets | undefined)[],
  ownNeeds = false,
  /** With ownNeeds: the callbacks walked so far (one never called needs nothing). */
  walked: (callback: number) => boolean = () => true,
  /** Which registers may be copies of one scalar (linked.ts): a jump refines them together. */
  links?: Links,
  /** Exits below this slot (the main function's) need no R0: its program type does not check it (Cfg). */
  uncheckedExitsBelow = 0,
): Precision {
  const regs = new Uint16Array(slots);
  const stack = new Uint32Array(slots * 2);
  const bit = (r: number): number => (r <= 10 ? 1 << r : 0);
  const calls = ownNeeds ? callGraph(insns, pcs, slots) : undefined;
  let changed = true;
  while (changed) {
    changed = false;
    for (let n = insns.length - 1; n >= 0; n--) {
      const i = insns[n] as Instruction;
      const pc = pcs[n] as number;
      let r = 0;
      let s0 = 0;
      let s1 = 0;
      for (const t of validSuccessors(i, pc, slots, indexAt)) {
        r |= regs[t] as number;
        s0 |= stack[t * 2] as number;
        s1 |= stack[t * 2 + 1] as number;
      }
      const cls = i.op & 7;
      const srcX = (i.op & O.SRC_X) !== 0;
      const slotOf = (off: number): number => Math.floor((-off - 1) / 8);
      const stackGet = (k: number): boolean => (k < 32 ? (s0 >>> k) & 1 : (s1 >>> (k - 32)) & 1) === 1;
      const stackSet = (k: number, on: boolean): void => {
        if (k < 0 || k >= 64) return;
        if (k < 32) s0 = on ? s0 | (1 << k) : s0 & ~(1 << k);
        else s1 = on ? s1 | (1 << (k - 32)) : s1 & ~(1 << (k - 32));
      };
      switch (cls) {
        case O.CLASS_ALU:
        case O.CLASS_ALU64: {
          const code = i.op & 0xf0;
          const needed = (r & bit(i.dst)) !== 0;
          if (code === O.ALU_MOV) {
            r &= ~bit(i.dst);
            if (needed && srcX) r |= bit(i.src);
          } else if (needed && srcX && code !== O.ALU_NEG && code !== O.ALU_END) r |= bit(i.src);
          break;
        }
        case O.CLASS_LD:
          if (i.op === O.OP_LDDW) r &= ~bit(i.dst);
          else r = (r & ~0x3f) | bit(6) | ((i.op & 0xe0) === O.MODE_IND ? bit(i.src) : 0);
          break;
        case O.CLASS_LDX: {
          const needed = (r & bit(i.dst)) !== 0;
          r &= ~bit(i.dst);
          r |= bit(i.src);
          if (needed) {
            if (i.src === O.REG_FP) stackSet(slotOf(i.off), true);
            else if (fp[pc]?.[i.src] !== undefined) {
              s0 = ALL;
              s1 = ALL;
            }
          }
          break;
        }
        case O.CLASS_ST:
          r |= bit(i.dst);
          // A store at a slot's start replaces its spilled value whatever the size (narrow spills too).
          if (i.dst === O.REG_FP && i.off % 8 === 0) stackSet(slotOf(i.off), false);
          break;
        case O.CLASS_STX: {
          r |= bit(i.dst);
          if ((i.op & 0xe0) === O.MODE_ATOMIC) {
            if (ownNeeds && i.dst !== O.REG_FP && fp[pc]?.[i.dst] === undefined) {
              // Outside the stack an atomic's operands matter to no check: a fetched value comes from memory.
              if ((i.imm & O.ATOMIC_FETCH) !== 0) r &= ~bit(i.imm === O.ATOMIC_CMPXCHG ? 0 : i.src);
              break;
            }
            r |= bit(i.src) | 1;
            break;
          }
          const base = i.dst === O.REG_FP ? 0 : fp[pc]?.[i.dst];
          if (base !== undefined && base !== ANY_OFFSET && (i.dst === O.REG_FP || ownNeeds)) {
            const k = slotOf(base + i.off);
            if (stackGet(k)) {
              r |= bit(i.src);
              if ((base + i.off) % 8 === 0) stackSet(k, false);
            }
          } else if (!ownNeeds || (base === ANY_OFFSET && (s0 | s1) !== 0)) r |= bit(i.src);
          break;
        }
        default: {
          const code = i.op & 0xf0;
          if (code === O.JMP_EXIT) r = pc < uncheckedExitsBelow ? 0 : calls ? exitNeeds(calls, pc, regs) : 1;
          else if (code === O.JMP_CALL) {
            const after = (regs[pc + 1] ?? 0) as number;
            const callback = i.src === O.CALL_HELPER && SYNC_CALLBACK_HELPERS.has(i.imm);
            // bpf_loop's count decides how many iterations are walked (the kernel marks it precise).
            const sized = i.src === O.CALL_LOCAL ? 0x3e : helperArgs(i.imm).sized | (i.src === O.CALL_HELPER && i.imm === 181 ? 2 : 0);
            r = (r & ~0x3f) | sized | (i.src === O.CALL_LOCAL ? after & 0x3c0 : 0);
            // A lookup's constant key decides whether an array's value may be NULL.
            const key = i.src === 0 && i.imm === 1 ? fp[pc]?.[2] : undefined;
            if (key === ANY_OFFSET) {
              s0 = ALL;
              s1 = ALL;
            } else if (key !== undefined) stackSet(slotOf(key), true);
            // The callee (or callback) reaches the caller's stack only through a pointer argument.
            const reaches = [1, 2, 3, 4, 5].some((k) => fp[pc]?.[k] !== undefined);
            // What the callee needs at its entry is what it reads of the caller's stack; a helper's callback is any of them.
            const entryNeeds = (e: number): boolean => (stack[e * 2] as number) !== 0 || (stack[e * 2 + 1] as number) !== 0;
            const calleeNeeds =
              !calls ||
              (i.src === O.CALL_LOCAL
                ? entryNeeds(pc + 1 + i.imm)
                : !callback || [...calls.callbacks].some((c) => walked(c) && entryNeeds(c)));
            if ((i.src === O.CALL_LOCAL || callback) && reaches && calleeNeeds) {
              // By itself (ownNeeds) a callee reads what lies above the pointers it is given, not below.
              const [w0, w1] = ownNeeds ? slotsAbovePointers(fp[pc]) : [ALL, ALL];
              s0 |= w0;
              s1 |= w1;
            }
          } else if (code !== O.JMP_JA) {
            const ops = bit(i.dst) | (srcX ? bit(i.src) : 0);
            // A decided jump depended on its operands; comparing two registers ties their precision.
            if (decided[pc] || (srcX && (r & ops) !== 0)) r |= ops;
            if (links) {
              // The jump refined every copy of its operands at once: one precise, all precise (bt_sync_linked_regs).
              // Only copies in registers count: which slot holds a spilled one is not known here, and marking
              // every slot would stop all pruning in programs that spill much (cilium's).
              let group = ops;
              for (let k = 0; k <= 10; k++) if (ops & (1 << k)) group |= links.rows[pc * links.stride + k] as number;
              group &= 0x7ff;
              if ((r & group) !== 0) r |= group;
            }
          }
        }
      }
      s0 >>>= 0;
      s1 >>>= 0;
      if (r !== regs[pc] || s0 !== stack[pc * 2] || s1 !== stack[pc * 2 + 1]) {
        regs[pc] = r;
        stack[pc * 2] = s0;
        stack[pc * 2 + 1] = s1;
        changed = true;
      }
    }
  }
  return { regs, stack };
}

/** Static functions: the function of each slot, and the call sites of each (callbacks and main have none). */
interface CallGraph {
  readonly functionOf: Int32Array;
  readonly callsites: ReadonlyMap<number, readonly number[]>;
  /** First slots of the functions whose address is taken (callbacks). */
  readonly callbacks: ReadonlySet<number>;
}

function callGraph(insns: readonly Instruction[], pcs: readonly number[], slots: number): CallGraph {
  const callsites = new Map<number, number[]>();
  const starts = new Set<number>([0]);
  const callbacks = new Set<number>();
  insns.forEach((i, n) => {
    const pc = pcs[n] as number;
    const target = pc + 1 + i.imm;
    if (i.op === O.OP_CALL && i.src === O.CALL_LOCAL) {
      starts.add(target);
      callsites.set(target, [...(callsites.get(target) ?? []), pc]);
    } else if (i.op === O.OP_LDDW && i.src === O.LDDW_FUNC) {
      starts.add(target);
      callbacks.add(target);
    }
  });
  // A callback returns to a helper, which checks its R0: it has no call site whose needs could excuse it.
  for (const c of callbacks) callsites.delete(c);
  const functionOf = new Int32Array(slots);
  let cur = 0;
  for (let pc = 0; pc < slots; pc++) {
    if (starts.has(pc)) cur = pc;
    functionOf[pc] = cur;
  }
  return { functionOf, callsites, callbacks };
}

/** R0 at an exit: needed by the program (main, callbacks), or where some caller needs it after the call. */
function exitNeeds(calls: CallGraph, pc: number, regs: Uint16Array): number {
  const sites = calls.callsites.get(calls.functionOf[pc] as number);
  if (!sites) return 1;
  return sites.some((c) => ((regs[c + 1] as number) & 1) !== 0) ? 1 : 0;
}

/**
 * The slots from the lowest stack pointer among r1-r5 up to the frame pointer (two words), or all of them
 * when one points at an offset not known: what a callee given those pointers reads of its caller's stack,
 * as programs pass their context structs (the kernel tracks the exact slots; only widening uses this).
 */
export function slotsAbovePointers(regs: FpOffsets | undefined): [number, number] {
  let low = 0;
  for (let k = 1; k <= 5; k++) {
    const at = regs?.[k];
    if (at === undefined) continue;
    if (at === ANY_OFFSET || at < -512) return [ALL, ALL];
    low = Math.min(low, at);
  }
  let w0 = 0;
  let w1 = 0;
  for (let slot = 0; slot < Math.ceil(-low / 8) && slot < 64; slot++) {
    if (slot < 32) w0 |= 1 << slot;
    else w1 |= 1 << (slot - 32);
  }
  return [w0 >>> 0, w1 >>> 0];
}
