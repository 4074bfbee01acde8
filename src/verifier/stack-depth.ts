/**
 * The stack a call chain may use (the kernel's check_max_stack_depth, after the walk): each function's
 * deepest stack use, rounded up to 16 bytes as the JIT lays frames out, summed along every chain of calls
 * from the program (and from each timer callback, which starts a stack of its own) must stay within 512
 * bytes; a function that tail-calls may not sit below 256 bytes of its callers' frames (a tail call keeps
 * them). Chains are followed in the code, walked or not, through calls and callback addresses alike.
 */
import * as O from "../isa/opcodes.js";
import { functionBody, isTailCall } from "./cfg.js";
import { type Env, Rejection } from "./env.js";

const MAX_BPF_STACK = 512;
/** The most a tail-calling function's callers may hold (32 tail calls of 256 bytes: 8 KiB). */
const TAIL_CALL_STACK = 256;

export function checkStackDepth(env: Env): void {
  const { insns, cfg } = env;
  const bodies = new Map(cfg.subprogs.map((s) => [s, functionBody(insns, cfg.indexAt, cfg.subprogs, cfg.slots, s)]));
  // Found after the walk: no instruction is being checked.
  const fail = (message: string, errno: "EACCES" | "E2BIG"): never => {
    throw new Rejection(message, null, errno);
  };
  const visit = (fn: number, callers: number, frame: number, root: boolean): void => {
    const body = bodies.get(fn) ?? [];
    if (!root && callers >= TAIL_CALL_STACK && body.some(({ i }) => isTailCall(i)))
      fail(`tail_calls are not allowed when call stack of previous frames is ${callers} bytes. Too large`, "EACCES");
    const depth = callers + Math.ceil((env.stackDepths.get(fn) ?? 0) / 16) * 16;
    if (depth > MAX_BPF_STACK) fail(`combined stack size of ${frame + 1} calls is ${depth}. Too large`, "EACCES");
    for (const { pc, i } of body) {
      const local = i.op === O.OP_CALL && i.src === O.CALL_LOCAL;
      if (!local && !(i.op === O.OP_LDDW && i.src === O.LDDW_FUNC)) continue;
      const target = pc + 1 + i.imm;
      // A timer callback's frames are not on this stack unless it is called directly.
      if (!local && env.asyncCallbacks.has(target)) continue;
      if (frame + 1 >= O.MAX_CALL_FRAMES) fail(`the call stack of ${frame + 1} frames is too deep !`, "E2BIG");
      visit(target, depth, frame + 1, false);
    }
  };
  visit(0, 0, 0, true);
  for (const cb of env.asyncCallbacks) visit(cb, 0, 0, false);
}
