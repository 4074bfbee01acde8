/**
 * The execution model the interpreter and the JIT share: the per-program scratch state (saved registers of
 * suspended frames, the helper call's view), the helper calling convention, and the typed faults a run
 * ends with. Below both engines, so neither imports the other for it.
 */
import { MAX_CALL_FRAMES } from "../isa/opcodes.js";
import { VmError } from "./errors.js";
import type { Memory } from "./memory.js";

const TWO32 = 4294967296;

/** Per-program scratch state, allocated once so a run allocates nothing. */
export class ExecState {
  /** r6-r9 of each suspended frame, (lo, hi) pairs. */
  readonly saved = new Int32Array(MAX_CALL_FRAMES * 8);
  readonly returnPc = new Int32Array(MAX_CALL_FRAMES);
  /** may_goto's count of each frame, set on the frame's entry. */
  readonly loops = new Int32Array(MAX_CALL_FRAMES);
  stop = false;
  /** Call depth when the current helper was called (callbacks run one frame deeper). */
  depth = 0;
  readonly call: HelperCall;

  constructor(
    readonly lo: Int32Array,
    readonly hi: Int32Array,
    readonly memory: Memory,
  ) {
    const state = this;
    this.call = {
      lo,
      hi,
      memory,
      pc: 0,
      get depth() {
        return state.depth;
      },
      callChain() {
        const chain = [this.pc];
        for (let d = state.depth - 1; d >= 0; d--) chain.push((state.returnPc[d] as number) - 1);
        return chain;
      },
      exit() {
        state.stop = true;
      },
    };
  }
}

/** What a helper sees: the register file (r1-r5 are its arguments, r0 its result) and the memory. */
export interface HelperCall {
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  readonly memory: Memory;
  readonly pc: number;
  /** The caller's call depth (0: the entry function). */
  readonly depth: number;
  /** The pcs of the helper call and of each bpf2bpf call below it, innermost first (the program's "stack"). */
  callChain(): number[];
  /** Stop the program after this helper returns; r0 is the program's result. */
  exit(): void;
}

export type Helper = (call: HelperCall) => void;

export function fault(mem: Memory, kind: "load" | "store", pc: number, lo: number, hi: number, off: number, size: number): never {
  // Recompute the 64-bit effective address for the message (cold path).
  const addr = (((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)) + BigInt(off)) & 0xffffffffffffffffn;
  const a = Number(addr);
  const region = addr < BigInt(TWO32) ? mem.regionAt(a) : undefined;
  if (kind === "store" && region && !region.writable && a + size <= region.start + region.size) {
    throw new VmError("READ_ONLY", `store into read-only ${region.name} at pc ${pc}: addr 0x${addr.toString(16)}, size ${size}`, pc, {
      address: `0x${addr.toString(16)}`,
    });
  }
  throw new VmError("OUT_OF_BOUNDS", `out of bounds memory ${kind} at pc ${pc}: addr 0x${addr.toString(16)}, size ${size}`, pc, {
    address: `0x${addr.toString(16)}`,
  });
}

/** Calls helper `id`; returns true when the helper asked the program to stop. */
export function callHelper(state: ExecState, helpers: ReadonlyMap<number, Helper>, id: number, at: number): boolean {
  const fn = helpers.get(id);
  if (fn === undefined) throw new VmError("UNKNOWN_HELPER", `unknown helper ${id} at pc ${at}`, at);
  (state.call as { pc: number }).pc = at;
  state.stop = false;
  try {
    fn(state.call);
  } catch (e) {
    if (e instanceof VmError) throw e;
    throw new VmError("HELPER_FAILED", `helper ${id} failed at pc ${at}: ${e instanceof Error ? e.message : String(e)}`, at, { cause: e });
  }
  return state.stop;
}
