/**
 * Helpers that call back into the program: bpf_loop and bpf_for_each_map_elem, whose callback is walked in
 * a frame of its own that returns to the call (the walk repeats it until its states repeat), and
 * bpf_timer_set_callback, whose callback is walked later on its own, from a fresh stack.
 */
import * as O from "../isa/opcodes.js";
import type { Env } from "./env.js";
import { markPointer, markUnknown, type Reg, type VerifierMap } from "./reg.js";
import { entryFrame, VState } from "./state.js";

/** Map types that can walk their elements with a callback (map_for_each_callback). */
const FOR_EACH_MAPS: ReadonlySet<number> = new Set([1, 2, 5, 6, 9, 10]);

/**
 * A helper that calls `callback` (push_callback_call): the callback's first iteration is walked later, in a
 * frame of its own whose arguments the helper sets up, and it returns to the call, which may push another;
 * this path goes on after the call. bpf_loop pushes at most as many iterations as its count may be.
 */
export function callCallback(env: Env, id: number, callback: number, map: VerifierMap | undefined): void {
  const cur = env.cur;
  if (id === 170) {
    // A timer's callback runs later, on its own: a fresh state (push_async_cb), callback(map, key, value).
    const frame = entryFrame(0, -1, callback, env.stackDepths);
    const arg = (n: number): Reg => frame.regs[n] as Reg;
    markPointer(arg(1), "map_ptr");
    markPointer(arg(2), "map_key");
    markPointer(arg(3), "map_value");
    if (map) arg(1).map = arg(2).map = arg(3).map = map;
    frame.callback = { min: 0, max: 0, async: true };
    env.asyncCallbacks.add(callback);
    env.forkTo(new VState([frame]), callback);
    return;
  }
  if (id === 181) {
    const caller = cur.cur;
    // The kernel marks the count precise, and its backtracking refuses a pointer (a bug it reports as one).
    if ((caller.regs[1] as Reg).kind !== "scalar") env.reject("verifier bug: backtracking misuse", "EINVAL");
    if (BigInt(caller.callbackDepth) >= (caller.regs[1] as Reg).umax) {
      caller.callbackDepth = 0;
      if (env.logLevel > 1) env.log(`frame${cur.frames.length - 1} bpf_loop iteration limit reached`);
      return;
    }
  }
  if (cur.frames.length >= O.MAX_CALL_FRAMES) env.reject(`the call stack of ${cur.frames.length + 1} frames is too deep`, "E2BIG");
  if (id === 164 && (map === undefined || !FOR_EACH_MAPS.has(map.type))) env.reject("callback function not allowed for map", "EINVAL");
  const next = cur.clone();
  const caller = next.cur;
  const callee = entryFrame(next.frames.length, env.pc, callback, env.stackDepths);
  const arg = (n: number): Reg => callee.regs[n] as Reg;
  if (id === 181) {
    // callback(index, ctx)
    markUnknown(arg(1));
    arg(2).assign((caller.regs[3] as Reg).clone());
  } else {
    // callback(map, key, value, ctx)
    arg(1).assign((caller.regs[1] as Reg).clone());
    markPointer(arg(2), "map_key");
    markPointer(arg(3), "map_value");
    if (map) arg(2).map = arg(3).map = map;
    arg(4).assign((caller.regs[3] as Reg).clone());
  }
  callee.callback = { min: 0, max: 1 };
  next.frames.push(callee);
  next.callbackUnrollDepth++;
  caller.callbackDepth++;
  cur.cur.callbackDepth = 0;
  env.forkTo(next, callback);
}
