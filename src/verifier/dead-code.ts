/**
 * What the kernel's dead code removal (opt_remove_dead_code) leaves of the addresses a program takes. The
 * kernel removes every run of instructions no path reached, and adjusts the offsets of calls and of
 * callback addresses (bpf_adj_delta_to_imm) that cross the run; an address into a removed run keeps its
 * number, so it lands wherever the instructions after the run moved to. A callback that was never called
 * (bpf_loop with a count of 0) is such a run: when its address then lands anywhere but a function's first
 * instruction and more than one function is left, the JIT refuses the program as a verifier bug.
 */
import type { Instruction } from "../isa/instruction.js";
import * as O from "../isa/opcodes.js";
import type { Cfg } from "./cfg.js";

interface Ref {
  /** Index of the call or lddw in the program as it is now. */
  at: number;
  imm: number;
}

/** The slot the JIT would find no function at, or undefined when every address still names one. */
export function danglingAddress(insns: readonly Instruction[], cfg: Cfg, seen: Uint8Array): number | undefined {
  const live = new Uint8Array(cfg.slots);
  const refs: Ref[] = [];
  let unwalkedTarget = false;
  insns.forEach((i, n) => {
    const pc = cfg.pcs[n] as number;
    if (!seen[pc]) return;
    live[pc] = 1;
    if (i.op === O.OP_LDDW) live[pc + 1] = 1; // its second half counts as reached with it
    const func = i.op === O.OP_LDDW && i.src === O.LDDW_FUNC;
    if (!func && !(i.op === O.OP_CALL && i.src === O.CALL_LOCAL)) return;
    refs.push({ at: pc, imm: i.imm });
    if (!seen[pc + 1 + i.imm]) unwalkedTarget = true;
  });
  if (!unwalkedTarget) return undefined;
  let starts = [...cfg.subprogs];
  let kept = Array.from(live);
  for (let pos = 0; pos < kept.length; pos++) {
    let cnt = 0;
    while (pos + cnt < kept.length && !kept[pos + cnt]) cnt++;
    if (cnt === 0) continue;
    const endOld = pos + cnt;
    for (const r of refs) {
      if (r.at < pos) {
        if (r.at + r.imm + 1 >= endOld) r.imm -= cnt;
      } else {
        r.at -= cnt;
        if (r.at + r.imm + 1 < pos) r.imm += cnt;
      }
    }
    // adjust_subprog_starts_after_remove: functions wholly inside the run go, those after it move.
    starts = starts.filter((s) => s < pos || s >= endOld).map((s) => (s >= endOld ? s - cnt : s));
    kept = [...kept.slice(0, pos), ...kept.slice(endOld)];
  }
  if (starts.length <= 1) return undefined;
  for (const r of refs) {
    const target = r.at + r.imm + 1;
    if (!starts.includes(target)) return target;
  }
  return undefined;
}

/**
 * The program as a loader runs it once verified, as the kernel keeps it: each instruction no path reached
 * replaced by one that keeps the slot layout (an exit; an lddw of 0 for an lddw), and the fields the kernel
 * does not check cleared (an exit's offset). The verifier never looked at dead instructions, so their
 * fields may be anything the kernel accepts there (reserved bits, r11), which the machine's own validation
 * refuses; and a sound verifier means none of them ever runs.
 */
export function asVerified(insns: readonly Instruction[], reached: Uint8Array): Instruction[] {
  let slot = 0;
  return insns.map((i) => {
    const at = slot;
    slot += i.op === O.OP_LDDW ? 2 : 1;
    if (!reached[at])
      return i.op === O.OP_LDDW
        ? { op: O.OP_LDDW, dst: 0, src: 0, off: 0, imm: 0, imm2: 0 }
        : { op: O.OP_EXIT, dst: 0, src: 0, off: 0, imm: 0 };
    return i.op === O.OP_EXIT && i.off !== 0 ? { ...i, off: 0 } : i;
  });
}
