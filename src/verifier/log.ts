/**
 * The walk's log lines as the kernel writes them (kernel/bpf/verifier.c, log.c): each instruction in the
 * kernel's text, the registers it changed after a `;` aligned as the kernel aligns it, and where a branch
 * is resumed. At level 1 the kernel keeps only the path being walked: a finished path's lines are dropped
 * back to where its branch was pushed, which leaves the branch's instruction without its annotation and
 * the resumed state on the same line (`2: (15) if r0 == 0x0 goto pc+3 6: R0=0 R10=fp0`).
 */
import { HELPER_NAMES } from "../helpers/names.js";
import type { Instruction } from "../isa/instruction.js";
import { formatKernel } from "../isa/kernel-text.js";
import * as O from "../isa/opcodes.js";
import { opInfo } from "../isa/table.js";
import { helperArgs } from "./helpers.js";
import type { Reg, VerifierMap } from "./reg.js";
import { tnumIsConst } from "./tnum.js";

/** `N: (op) text` for slot `pc`. */
export function insnLine(i: Instruction, pc: number, maps: readonly VerifierMap[]): string {
  const text = formatKernel(i, {
    helperName: (id) => (HELPER_NAMES[id] ? `bpf_${HELPER_NAMES[id]}` : undefined),
    // The kernel prints the map's address; its name says more here.
    pseudoImm: (x) => {
      const map = maps[x.imm];
      if (!map) return undefined;
      if (x.src === O.LDDW_MAP_IDX) return `map[${map.name}]`;
      if (x.src === O.LDDW_MAP_IDX_VALUE) return `map[${map.name}][0]+${(x.imm2 ?? 0) >>> 0}`;
      return undefined;
    },
  });
  return `${pc}: ${text}`;
}

/**
 * The line with the state after it, `;` where print_insn_state puts it (vlog_alignment): when the
 * instruction touched any register or slot, even if all it touched is gone (a helper's arguments).
 */
export function annotated(line: string, state: string, scratched = state !== ""): string {
  if (!scratched) return line;
  const pos = line.length + 1;
  const width = Math.ceil(Math.max(pos + 4, 40) / 8) * 8 - pos - 1;
  return `${line}${" ".repeat(width)};${state === "" ? "" : ` ${state}`}`;
}

/** Registers an instruction reads or writes (check_reg_arg marks each scratched), for the state after it. */
export function touched(i: Instruction): Set<number> {
  const info = opInfo(i.op);
  const out = new Set<number>();
  if (!info) return out;
  switch (info.kind) {
    case "alu":
      out.add(i.dst);
      if (info.reg) out.add(i.src);
      break;
    case "neg":
    case "end":
    case "lddw":
    case "st":
      out.add(i.dst);
      break;
    case "ldx":
    case "ldxs":
    case "stx":
    case "atomic":
      out.add(i.dst).add(i.src);
      if (info.kind === "atomic" && i.imm === O.ATOMIC_CMPXCHG) out.add(0);
      break;
    case "jcc":
      out.add(i.dst);
      if (info.reg) out.add(i.src);
      break;
    case "call":
      out.add(0);
      // A helper's arguments were checked (and are gone after it).
      if (i.src === O.CALL_HELPER) for (let r = 1; r <= helperArgs(i.imm).count; r++) out.add(r);
      break;
    case "ldabs":
    case "ldind":
      out.add(0).add(6);
      if (info.kind === "ldind") out.add(i.src);
      break;
  }
  return out;
}

/** The current frame's stack slots a load or store through a stack pointer touches, as the kernel shows them. */
export function touchedSlots(i: Instruction, regs: readonly Reg[], frameno: number): Set<number> {
  const info = opInfo(i.op);
  const out = new Set<number>();
  if (!info || !["ldx", "ldxs", "st", "stx", "atomic"].includes(info.kind)) return out;
  const base = regs[info.kind === "ldx" || info.kind === "ldxs" ? i.src : i.dst];
  if (base?.kind !== "fp" || base.frameno !== frameno) return out;
  const fixed = tnumIsConst(base.varOff);
  const lo = base.off + i.off + Number(fixed ? BigInt.asIntN(64, base.varOff.value) : base.smin);
  if (lo < -512 || lo >= 0) return out;
  out.add(Math.floor((-lo - 1) / 8));
  // A fixed access may straddle two slots; one of variable offset shows the slot of its lowest address.
  const hi = lo + info.size - 1;
  if (fixed && hi < 0) out.add(Math.floor((-hi - 1) / 8));
  return out;
}
