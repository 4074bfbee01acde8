/**
 * The verifier's state at one instruction along one path: the call frames (registers and a 512-byte stack
 * each, every stack byte typed as the kernel types it), the references the program holds, and the links
 * that pruning needs (the explored parent state, and how many paths below it are still being walked).
 */
import type { Env } from "./env.js";
import { type GlobalFunction, markNotInit, markPointer, markUnknown, Reg, type VerifierMap } from "./reg.js";

/** Stack byte types, printed as the kernel prints them. */
export const STACK_INVALID = 0; // '?'
export const STACK_MISC = 1; // 'm'
export const STACK_ZERO = 2; // '0'
export const STACK_SPILL = 3; // 'r'
export const STACK_CHARS = "?m0r";

export const STACK_BYTES = 512;
export const SLOTS = STACK_BYTES / 8;

export class Frame {
  readonly regs: Reg[];
  /** Type of each stack byte, indexed by -(offset from fp) - 1. */
  types: Uint8Array;
  /** A register spilled to an 8-byte slot (slot i: fp-8(i+1) .. fp-8i-1); shared, never changed in place. */
  spills: (Reg | undefined)[];
  /** Deepest stack byte written or read (for "stack depth"). */
  depth = 0;
  /** Where the deepest stack use of each function, over all paths, is kept (the kernel's subprog stack_depth). */
  sink: Map<number, number> | undefined = undefined;
  /** A callback's frame (in_callback_fn): the range its R0 must be in at exit; it returns to the call itself. */
  callback: CallbackRange | undefined = undefined;
  /** Callback iterations this frame's bpf_loop call has pushed so far (the kernel's callback_depth). */
  callbackDepth = 0;

  constructor(
    readonly frameno: number,
    /** Slot of the call instruction that made this frame (-1 for the main program). */
    readonly callsite: number,
    /** First slot of the subprogram running in this frame. */
    readonly subprog: number,
    regs?: Reg[],
    types?: Uint8Array,
    spills?: (Reg | undefined)[],
  ) {
    this.regs = regs ?? Array.from({ length: 11 }, () => new Reg());
    this.types = types ?? new Uint8Array(STACK_BYTES);
    this.spills = spills ?? new Array<Reg | undefined>(SLOTS).fill(undefined);
  }

  /** A stack access `bytes` deep (from fp). */
  note(bytes: number): void {
    if (bytes <= this.depth) return;
    this.depth = bytes;
    if (this.sink && bytes > (this.sink.get(this.subprog) ?? 0)) this.sink.set(this.subprog, bytes);
  }

  clone(): Frame {
    const f = new Frame(
      this.frameno,
      this.callsite,
      this.subprog,
      this.regs.map((r) => r.clone()),
      this.types.slice(),
      this.spills.slice(),
    );
    f.depth = this.depth;
    f.sink = this.sink;
    f.callback = this.callback;
    f.callbackDepth = this.callbackDepth;
    return f;
  }
}

/** The values a callback may return (its callback_ret_range). */
export interface CallbackRange {
  readonly min: number;
  readonly max: number;
  /** A timer's callback, walked on its own from a fresh stack (in_async_callback_fn). */
  readonly async?: boolean;
}

export interface Reference {
  readonly id: number;
  readonly insn: number;
}

/** The bpf_spin_lock a path holds: the id of the map value pointer it was taken through, and its map. */
export interface HeldLock {
  readonly id: number;
  readonly map: VerifierMap | undefined;
}

export class VState {
  frames: Frame[];
  refs: Reference[] = [];
  lock: HeldLock | undefined = undefined;
  /** The explored state this path continued from, for branch counting. */
  parent: VState | undefined;
  /** Paths still being walked below this state (the kernel's `branches`). */
  branches = 1;
  /** Where this state was recorded (explored states). */
  insn = 0;
  /** Walking a global function on its own: exit returns a scalar to an unknown caller. */
  global = false;
  /** How often this explored state failed to cover, and covered, a later state (for eviction). */
  missCnt = 0;
  hitCnt = 0;
  /** Callback frames entered along this path (callback_unroll_depth): iterations are not infinite loops. */
  callbackUnrollDepth = 0;
  /** may_goto iterations queued along this path (may_goto_depth). */
  mayGotoDepth = 0;

  constructor(frames: Frame[]) {
    this.frames = frames;
  }

  get cur(): Frame {
    return this.frames[this.frames.length - 1] as Frame;
  }

  get regs(): Reg[] {
    return this.cur.regs;
  }

  clone(): VState {
    const s = new VState(this.frames.map((f) => f.clone()));
    s.refs = this.refs.slice();
    s.lock = this.lock;
    s.parent = this.parent;
    s.branches = this.branches;
    s.insn = this.insn;
    s.global = this.global;
    s.callbackUnrollDepth = this.callbackUnrollDepth;
    s.mayGotoDepth = this.mayGotoDepth;
    return s;
  }
}

/** The state at a program's first instruction: r1 = ctx, r10 = fp, everything else not initialised. */
export function initialState(): VState {
  const f = entryFrame(0, -1, 0);
  markPointer(f.regs[1] as Reg, "ctx");
  return new VState([f]);
}

/** The frame a function starts in: no register set but r10, the frame pointer, and an empty stack. */
export function entryFrame(frameno: number, callsite: number, subprog: number, sink?: Map<number, number>): Frame {
  const f = new Frame(frameno, callsite, subprog);
  f.sink = sink;
  for (const r of f.regs) markNotInit(r);
  markPointer(f.regs[10] as Reg, "fp");
  (f.regs[10] as Reg).frameno = frameno;
  return f;
}

/** The state a global function starts in: its arguments as its prototype describes them (pointers may be NULL). */
export function globalState(env: Env, fn: GlobalFunction): VState {
  const s = initialState();
  const regs = s.regs;
  markNotInit(regs[1] as Reg);
  fn.args.forEach((a, n) => {
    const r = regs[n + 1] as Reg;
    if (a.kind === "ctx") markPointer(r, "ctx");
    else if (a.kind === "mem") {
      markPointer(r, "mem");
      r.memSize = a.size;
      r.maybeNull = true;
      r.id = env.newId();
    } else markUnknown(r);
  });
  s.global = true;
  return s;
}

/**
 * Changes every register that `match`es, in every frame and spilled on every stack (null checks and packet
 * ranges apply to all copies of a pointer). Spilled registers are shared between states: they are copied first.
 */
export function updateRegs(s: VState, match: (r: Reg) => boolean, change: (r: Reg) => void): void {
  for (const f of s.frames) {
    for (const r of f.regs) if (match(r)) change(r);
    for (let i = 0; i < SLOTS; i++) {
      const sp = f.spills[i];
      if (sp === undefined || !match(sp)) continue;
      const copy = sp.clone();
      change(copy);
      f.spills[i] = copy;
    }
  }
}
