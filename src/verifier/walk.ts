/**
 * The walk (the kernel's do_check and is_state_visited): every path from the first instruction is followed,
 * one instruction at a time; at prune points the state is compared with the states already explored there
 * and the path stops when one of them covers it (what was safe from a more general state is safe from this
 * one); a state equal to one still on the current path is an infinite loop.
 */
import type { Instruction } from "../isa/instruction.js";
import * as O from "../isa/opcodes.js";
import { opInfo } from "../isa/table.js";
import { checkAlu, checkRegRead, checkRegWrite } from "./alu.js";
import { checkCondJump } from "./branch.js";
import { checkExit, checkHelperCall, checkResourceLeak, enterCall } from "./calls.js";
import { cfgPrecision } from "./cfg.js";
import { type Env, F_TEST_STATE_FREQ, INSN_LIMIT, Rejection } from "./env.js";
import { checkFields, refuseUnwalked, UNWALKED_OPCODES } from "./fields.js";
import { annotated, insnLine, touched, touchedSlots } from "./log.js";
import { checkCtxOff, checkMemAccess, checkSamePointerKind, pointerKind } from "./memory.js";
import { coerceToSize } from "./narrow.js";
import { type Precision, slotsAbovePointers } from "./precision.js";
import { stateLine, stateText } from "./print.js";
import { markConstScalar, markNotInit, markPointer, markUnknown, type Reg, Reg as RegClass, type VerifierMap } from "./reg.js";
import type { Frame, VState } from "./state.js";
import { maybeLooping, resumeAt, sameCallsites, statesEqual, widenScalars } from "./states-equal.js";

interface Pending {
  state: VState;
  pc: number;
  prev: number;
  /** Log lines written when the branch was pushed: a level-1 log drops what came after (pop_stack's pop_log). */
  logPos: number;
  /** The line of the instruction that pushed it. */
  branchLine?: string;
}

/** A path ended: the explored states above it have one walker less. */
function pathDone(s: VState): void {
  let p: VState | undefined = s.parent;
  while (p) {
    p.branches--;
    if (p.branches > 0) break;
    p = p.parent;
  }
}

export class Walker {
  private readonly explored = new Map<number, VState[]>();
  private readonly stack: Pending[] = [];
  /** What each function needs exactly by itself (for widening after callbacks), computed when first needed. */
  private calleePrecise: Precision | undefined;
  private walkedFunctions = 0;

  constructor(private readonly env: Env) {
    env.fork = (state) => this.push(state, env.pc, env.pc);
    env.forkTo = (state, pc) => this.push(state, pc, env.pc);
  }

  /** is_state_visited: true when the current path can stop here. */
  private visited(pc: number): boolean {
    const env = this.env;
    const cur = env.cur;
    const list = this.explored.get(pc) ?? [];
    // max_states_per_insn: the states a miss was compared with (evicted ones included).
    const compared = list.length;
    // A call that calls a callback always keeps its state: the next iteration is compared with it. So does
    // every prune point under BPF_F_TEST_STATE_FREQ.
    const callsCallback = env.cfg.callsCallback[pc] === 1;
    const mayGoto = env.insns[env.cfg.indexAt[pc] as number]?.op === O.OP_MAY_GOTO;
    const force = callsCallback || mayGoto || (env.flags & F_TEST_STATE_FREQ) !== 0;
    // Otherwise a new state is kept only after 2 jumps and 8 instructions since the last one (the kernel's heuristic).
    let addNew = force || (env.jmpsProcessed - env.prevJmps >= 2 && env.processed - env.prevInsns >= 8);
    for (let k = 0; k < list.length; k++) {
      const old = list[k] as VState;
      if (old.branches > 0) {
        // A later may_goto iteration within an earlier one's state: the loop has been seen through.
        if (mayGoto && old.mayGotoDepth !== cur.mayGotoDepth && statesEqual(env, old, cur, "range")) {
          old.hitCnt++;
          return true;
        }
        if (callsCallback) {
          // An iteration whose state lies within an earlier one's: the callback has been seen through.
          if (statesEqual(env, old, cur, "range")) {
            old.hitCnt++;
            return true;
          }
        } else if (
          maybeLooping(old, cur) &&
          old.callbackUnrollDepth === cur.callbackUnrollDepth &&
          old.mayGotoDepth === cur.mayGotoDepth &&
          statesEqual(env, old, cur, "exact")
        ) {
          // The old state shows what the kernel found precise by then: the scalars the loop's decided jumps read.
          const { cfg } = env;
          const now = env.newlyDecided ? cfgPrecision(env.insns, cfg, env.decided) : cfg.precise;
          const precise = now.regs[pc] ?? 0;
          // The kernel's log ends on the instruction before the one the loop was found at.
          throw new Rejection(
            `infinite loop detected at insn ${pc}\ncur state: ${stateLine(cur)}\nold state: ${stateLine(old, old.frames.length - 1, undefined, undefined, precise)}`,
            env.prevPc,
            "EINVAL",
          );
        }
        if (!force && env.jmpsProcessed - env.prevJmps < 20 && env.processed - env.prevInsns < 100) addNew = false;
      } else if (statesEqual(env, old, cur, "loose")) {
        old.hitCnt++;
        return true;
      }
      // A state that rarely covers others is dropped from the comparisons (it stays a parent).
      if (addNew) old.missCnt++;
      if (old.missCnt > old.hitCnt * 3 + 3) {
        list.splice(k, 1);
        k--;
        env.curStates--;
      }
    }
    env.maxStatesPerInsn = Math.max(env.maxStatesPerInsn, compared);
    if (!addNew) return false;
    env.prevJmps = env.jmpsProcessed;
    env.prevInsns = env.processed;
    const copy = cur.clone();
    copy.insn = pc;
    copy.branches = 1;
    copy.parent = cur.parent;
    cur.parent = copy;
    list.push(copy);
    this.explored.set(pc, list);
    env.totalStates++;
    env.curStates++;
    env.peakStates = Math.max(env.peakStates, env.curStates);
    return false;
  }

  /** What each function needs exactly by itself (the kernel's precision, as precision.ts approximates it). */
  private ownPrecision(): Precision {
    const env = this.env;
    const { cfg } = env;
    // The kernel's marks come from what it walked: a callback not walked yet needs nothing so far.
    const walked = cfg.subprogs.filter((s) => env.seen[s] === 1).length;
    if (!this.calleePrecise || walked !== this.walkedFunctions) {
      this.walkedFunctions = walked;
      this.calleePrecise = cfgPrecision(env.insns, cfg, env.decided, true, (c) => env.seen[c] === 1);
    }
    return this.calleePrecise;
  }

  /** find_prev_entry: the latest state at `pc` still on this path (not `skip`), in the same functions. */
  private prevEntry(pc: number, cur: VState, skip?: VState): VState | undefined {
    const list = this.explored.get(pc) ?? [];
    for (let k = list.length - 1; k >= 0; k--) {
      const old = list[k] as VState;
      if (old.branches > 0 && old !== skip && sameCallsites(old, cur)) return old;
    }
    return undefined;
  }

  /**
   * widen_imprecise_scalars: back from a callback at its call, the scalars whose exact value matters nowhere
   * and that changed since the previous iteration on this path become unknown, so the iterations converge.
   */
  private widenAfterCallback(callsite: number, entry: number): void {
    const env = this.env;
    const old = this.prevEntry(callsite, env.cur);
    if (!old) return;
    const own = this.ownPrecision().stack;
    // What the callback itself needs exactly is in the caller's stack: it reads it through its arguments.
    const calleeNeeds = ((own[entry * 2] ?? 0) | (own[entry * 2 + 1] ?? 0)) !== 0;
    const last = env.cur.frames.length - 1;
    widenScalars(old, env.cur, (f) => {
      const at = f === last ? callsite : resumeAt(env.cur.frames[f + 1] as Frame);
      const after = f === last ? callsite + 1 : at;
      // What the callback reads of its caller's stack lies above the context pointer it was given.
      const [c0, c1] = f === last && calleeNeeds ? slotsAbovePointers(env.cfg.fpOffsets[callsite]) : [0, 0];
      return {
        regs: env.cfg.precise.regs[at] ?? 0x7ff,
        w0: (c0 | (own[after * 2] ?? 0)) >>> 0,
        w1: (c1 | (own[after * 2 + 1] ?? 0)) >>> 0,
      };
    });
  }

  /**
   * may_goto (the kernel's bounded-loop escape): this path takes the jump out; the loop's next iteration,
   * one may_goto deeper, is walked later, widened against the previous one as callbacks are.
   */
  private mayGoto(i: Instruction, pc: number): number {
    const env = this.env;
    env.jmpsProcessed++;
    const queued = env.cur.clone();
    queued.mayGotoDepth++;
    const prev = this.prevEntry(pc, env.cur, env.cur.parent);
    if (prev) {
      const own = this.ownPrecision();
      const last = queued.frames.length - 1;
      widenScalars(prev, queued, (f) => {
        const at = f === last ? pc + 1 : resumeAt(queued.frames[f + 1] as Frame);
        return { regs: own.regs[at] ?? 0x7ff, w0: own.stack[at * 2] ?? 0, w1: own.stack[at * 2 + 1] ?? 0 };
      });
    }
    this.push(queued, pc + 1, pc);
    return pc + 1 + i.off;
  }

  private push(state: VState, pc: number, prev: number): void {
    if (state.parent) state.parent.branches++;
    this.stack.push({ state, pc, prev, logPos: this.env.lines.length });
    if (this.stack.length > 8192) this.env.reject(`The sequence of ${this.stack.length} jumps is too complex.`, "E2BIG");
  }

  /** Walks every path from `start` (the program's first slot, or a global function's). */
  run(initial: VState, start = 0): void {
    const env = this.env;
    const { insns, cfg } = env;
    env.cur = initial;
    env.resetSource();
    for (const f of initial.frames) f.sink = env.stackDepths;
    let pc = start;
    env.log(`${start}: ${stateLine(initial)}`);
    for (;;) {
      if (pc < 0 || pc >= cfg.slots) env.reject(`invalid insn idx ${pc} insn_cnt ${cfg.slots}`, "EINVAL");
      env.pc = pc;
      env.seen[pc] = 1;
      const n = cfg.indexAt[pc] as number;
      const i = insns[n] as Instruction;
      if (++env.processed > INSN_LIMIT) {
        // Counted before the instruction is printed: the log ends on the one checked last.
        throw new Rejection(`BPF program is too large. Processed ${env.processed} insn`, env.prevPc, "E2BIG");
      }
      if (cfg.prunePoints[pc] && this.visited(pc)) {
        if (env.logLevel > 0) env.log(`${pc}: safe`);
        const next = this.pop();
        if (!next) return;
        pc = next;
        continue;
      }
      const line = env.logLevel > 0 ? insnLine(i, pc, env.maps) : "";
      const slots = env.logLevel > 0 ? touchedSlots(i, env.cur.regs, env.cur.frames.length - 1) : undefined;
      const pushedBefore = this.stack.length;
      const frames = env.cur.frames.length;
      let next: number | undefined;
      try {
        next = this.step(i, pc);
      } catch (e) {
        // The kernel's log shows the instruction it refused, then why.
        if (env.logLevel > 0 && e instanceof Rejection) {
          env.logSource(pc);
          env.log(line);
        }
        throw e;
      }
      env.prevPc = pc;
      if (env.logLevel > 0) {
        env.logSource(pc);
        // A local call prints its frames instead (see enterCall), a return the frames it goes back to.
        const quiet =
          next === undefined ||
          env.cur.frames.length < frames ||
          (i.op === O.OP_CALL && i.src === O.CALL_LOCAL && env.cur.frames.length > frames);
        const scratched = touched(i);
        env.log(quiet ? line : annotated(line, stateLine(env.cur, env.cur.frames.length - 1, scratched, slots), scratched.size > 0));
        env.log(...env.trailer);
        env.trailer.length = 0;
        if (i.op === O.OP_CALL && i.src === O.CALL_LOCAL && env.cur.frames.length > frames) env.log(`${next}: ${stateLine(env.cur)}`);
        // Branches this instruction pushed resume the log after its line.
        for (let k = pushedBefore; k < this.stack.length; k++) {
          const p = this.stack[k] as Pending;
          p.logPos = env.lines.length;
          p.branchLine = line;
        }
      }
      if (next !== undefined) {
        pc = next;
        continue;
      }
      const popped = this.pop();
      if (popped === undefined) return;
      pc = popped;
    }
  }

  /** Ends the current path and resumes the most recent pending branch (its slot), or undefined when done. */
  private pop(): number | undefined {
    pathDone(this.env.cur);
    const p = this.stack.pop();
    if (!p) return undefined;
    // At level 1 the log keeps the path that is walked now: a path that ended safely is forgotten.
    if (this.env.logLevel === 1) this.env.lines.length = p.logPos;
    this.env.cur = p.state;
    const env = this.env;
    if (env.logLevel === 2) env.log("", `from ${p.prev} to ${p.pc}: ${stateText(p.state)}`, `${p.pc}: ${stateText(p.state)}`);
    else if (env.logLevel === 1) {
      // What the kernel's log reads after dropping the finished path (see log.ts).
      const resumed = `${p.pc}: ${stateText(p.state)}`;
      if (p.branchLine !== undefined && p.logPos > 0) env.lines[p.logPos - 1] = `${p.branchLine} ${resumed}`;
      else env.log(resumed);
    }
    return p.pc;
  }

  /** Checks one instruction; the slot to continue at, or undefined when this path ends here. */
  private step(i: Instruction, pc: number): number | undefined {
    const env = this.env;
    if (i.op === O.OP_MAY_GOTO && i.src === 0 && i.dst === 0 && i.imm === 0) return this.mayGoto(i, pc);
    if (UNWALKED_OPCODES.has(i.op)) refuseUnwalked(env, i);
    const info = opInfo(i.op) ?? env.reject(`unknown opcode ${i.op.toString(16).padStart(2, "0")}`, "EINVAL");
    const next = pc + (i.op === O.OP_LDDW ? 2 : 1);
    const regs = env.cur.regs;
    checkFields(env, i, info);
    switch (info.kind) {
      case "alu":
      case "neg":
      case "end":
        checkAlu(env, i);
        return next;
      case "lddw": {
        checkRegWrite(env, i.dst);
        const d = regs[i.dst] as Reg;
        if (i.src === O.LDDW_IMM64) {
          markConstScalar(d, (BigInt((i.imm2 ?? 0) >>> 0) << 32n) | BigInt(i.imm >>> 0));
        } else if (i.src === O.LDDW_MAP_IDX || i.src === O.LDDW_MAP_IDX_VALUE) {
          // The map and the offset were checked before the walk (cfg.ts).
          const map = env.maps[i.imm] as VerifierMap;
          markPointer(d, i.src === O.LDDW_MAP_IDX ? "map_ptr" : "map_value");
          d.map = map;
          if (i.src === O.LDDW_MAP_IDX_VALUE) d.off = (i.imm2 ?? 0) >>> 0;
        } else if (i.src === O.LDDW_FUNC) {
          if (!env.hasFuncInfo) env.reject("missing btf func_info", "EINVAL");
          if (env.globalSlots.has(pc + 1 + i.imm)) env.reject("callback function not static", "EINVAL");
          markPointer(d, "func");
          d.subprog = pc + 1 + i.imm;
        } else {
          env.reject(`this verifier cannot load pseudo source ${i.src} yet`, "EINVAL");
        }
        return next;
      }
      case "ldabs":
      case "ldind": {
        const r6 = regs[6] as Reg;
        // may_access_skb: only these types have the classic packet loads, though others see an skb.
        if (!["socket_filter", "sched_cls", "sched_act"].includes(env.type))
          env.reject("BPF_LD_[ABS|IND] instructions not allowed for this program type", "EINVAL");
        if (i.dst !== 0 || i.off !== 0 || (info.kind === "ldabs" && i.src !== 0))
          env.reject("BPF_LD_[ABS|IND] uses reserved fields", "EINVAL");
        checkRegRead(env, 6);
        // The instruction may end the program at run time: no reference may be held across it.
        checkResourceLeak(env, "BPF_LD_[ABS|IND]");
        if (r6.kind !== "ctx") env.reject("at the time of BPF_LD_ABS|IND R6 != pointer to skb");
        if (info.kind === "ldind") checkRegRead(env, i.src);
        checkCtxOff(env, 6, r6);
        for (let r = 1; r <= 5; r++) markNotInit(regs[r] as Reg);
        markUnknown(regs[0] as Reg);
        coerceToSize(regs[0] as Reg, info.size);
        if (env.cur.frames.length === 1) return next;
        // In a subprogram a failing load returns 0 to the caller: that path first, the load's result later.
        this.push(env.cur.clone(), next, pc);
        markConstScalar(regs[0] as Reg, 0n);
        return checkExit(env);
      }
      case "ldx":
      case "ldxs":
        checkRegRead(env, i.src);
        checkRegWrite(env, i.dst);
        {
          const value = (regs[i.dst] as Reg).clone();
          const src = pointerKind(regs[i.src] as Reg);
          checkMemAccess(env, { regno: i.src, off: i.off, size: info.size, t: "read", value, signExtend: info.kind === "ldxs" });
          (regs[i.dst] as Reg).assign(value);
          checkSamePointerKind(env, src, true);
        }
        return next;
      case "stx":
        checkRegRead(env, i.src);
        checkRegRead(env, i.dst);
        checkMemAccess(env, { regno: i.dst, off: i.off, size: info.size, t: "write", value: regs[i.src] as Reg });
        checkSamePointerKind(env, pointerKind(regs[i.dst] as Reg), false);
        return next;
      case "st":
        checkRegRead(env, i.dst);
        checkMemAccess(env, { regno: i.dst, off: i.off, size: info.size, t: "write", imm: i.imm });
        checkSamePointerKind(env, pointerKind(regs[i.dst] as Reg), false);
        return next;
      case "atomic": {
        checkRegRead(env, i.src);
        checkRegRead(env, i.dst);
        const cmpxchg = i.imm === O.ATOMIC_CMPXCHG;
        if (cmpxchg) checkRegRead(env, 0);
        // Storing a pointer is no leak for a privileged loader (allow_ptr_leaks), which this verifier is.
        const dst = regs[i.dst] as Reg;
        if (
          dst.kind === "ctx" ||
          dst.isPacket() ||
          dst.kind === "flow_keys" ||
          dst.kind === "sock" ||
          dst.kind === "sock_common" ||
          dst.kind === "tcp_sock"
        ) {
          env.reject(`BPF_ATOMIC stores into R${i.dst} ${dst.kind === "pkt" ? "pkt" : dst.kind} is not allowed`);
        }
        const fetch = (i.imm & O.ATOMIC_FETCH) !== 0;
        if (fetch) checkRegWrite(env, cmpxchg ? 0 : i.src);
        const loaded = new RegClass();
        checkMemAccess(env, { regno: i.dst, off: i.off, size: info.size, t: "read", value: loaded, atomic: true });
        checkSamePointerKind(env, pointerKind(dst), false);
        checkMemAccess(env, { regno: i.dst, off: i.off, size: info.size, t: "write", value: undefined, atomic: true });
        if (cmpxchg) (regs[0] as Reg).assign(loaded);
        else if (fetch) (regs[i.src] as Reg).assign(loaded);
        return next;
      }
      case "ja":
      case "ja32":
        env.jmpsProcessed++;
        return pc + 1 + (info.kind === "ja32" ? i.imm : i.off);
      case "jcc": {
        env.jmpsProcessed++;
        const out = checkCondJump(env, i);
        const target = pc + 1 + i.off;
        if (out.fall && out.jump) {
          this.push(out.jump, target, pc);
          return next;
        }
        if (out.fall) return next;
        if (out.jump) {
          env.cur = out.jump;
          return target;
        }
        return undefined;
      }
      case "call":
        env.jmpsProcessed++;
        if (i.src === O.CALL_LOCAL) return enterCall(env, i);
        checkHelperCall(env, i);
        return next;
      case "callx":
        env.reject(`unknown opcode ${i.op.toString(16)}`, "EINVAL");
        break;
      case "exit": {
        env.jmpsProcessed++;
        const f = env.cur.cur;
        const callback = env.cur.frames.length > 1 && f.callback !== undefined ? f.subprog : undefined;
        const to = checkExit(env);
        if (callback !== undefined && to !== undefined) this.widenAfterCallback(to, callback);
        return to;
      }
    }
    return next;
  }
}
