/**
 * The fields an instruction may not use (the kernel's "uses reserved fields" checks): each class has a few
 * that must be zero or take only certain values. They are checked when the instruction is walked, before
 * its registers, as the kernel does (conditional jumps check theirs in branch.ts, after the destination).
 */
import type { Instruction } from "../isa/instruction.js";
import * as O from "../isa/opcodes.js";
import type { OpInfo } from "../isa/table.js";
import type { Env } from "./env.js";

/** Atomic operations the kernel knows (check_atomic), fetching or not. */
const ATOMIC_IMMS = new Set([
  O.ATOMIC_ADD,
  O.ATOMIC_OR,
  O.ATOMIC_AND,
  O.ATOMIC_XOR,
  O.ATOMIC_ADD | O.ATOMIC_FETCH,
  O.ATOMIC_OR | O.ATOMIC_FETCH,
  O.ATOMIC_AND | O.ATOMIC_FETCH,
  O.ATOMIC_XOR | O.ATOMIC_FETCH,
  O.ATOMIC_XCHG,
  O.ATOMIC_CMPXCHG,
]);

/** Opcodes the kernel knows that the walk refuses: byte and half-word atomics, and may_goto with fields set. */
export const UNWALKED_OPCODES: ReadonlySet<number> = new Set([0xcb, 0xd3, 0xe5]);

const LOAD_ACQ = 0x100;
const STORE_REL = 0x110;

/** Why an opcode of UNWALKED_OPCODES is refused (the kernel's words where it refuses it too). */
export function refuseUnwalked(env: Env, i: Instruction): never {
  if (i.op === 0xe5) {
    // A well-formed may_goto is walked (walk.ts); only one with other fields set comes here.
    env.reject(`invalid may_goto imm ${i.imm}`, "EINVAL");
  }
  if (i.imm === LOAD_ACQ || i.imm === STORE_REL) env.reject("this verifier does not check load-acquire and store-release yet", "EINVAL");
  if (!ATOMIC_IMMS.has(i.imm)) env.reject(`BPF_ATOMIC uses invalid atomic opcode ${(i.imm >>> 0).toString(16).padStart(2, "0")}`, "EINVAL");
  env.reject("invalid atomic operand size", "EINVAL");
}

export function checkFields(env: Env, i: Instruction, info: OpInfo): void {
  const reserved = (what: string): never => env.reject(`${what} uses reserved fields`, "EINVAL");
  const srcX = (i.op & O.SRC_X) !== 0;
  const cls = i.op & 7;
  const code = i.op & 0xf0;
  switch (info.kind) {
    case "neg":
      if (srcX || i.src !== 0 || i.off !== 0 || i.imm !== 0) reserved("BPF_NEG");
      return;
    case "end":
      if (i.src !== 0 || i.off !== 0 || (i.imm !== 16 && i.imm !== 32 && i.imm !== 64) || (cls === O.CLASS_ALU64 && srcX))
        reserved("BPF_END");
      return;
    case "alu":
      if (code === O.ALU_MOV) {
        if (srcX && cls === O.CLASS_ALU64 && i.off === 1) {
          // addr_space_cast: for arena pointers, which no program here has.
          if (i.imm !== 1 && i.imm !== 1 << 16) env.reject("addr_space_cast insn can only convert between address space 1 and 0", "EINVAL");
          env.reject("addr_space_cast insn can only be used in a program that has an associated arena", "EINVAL");
        }
        if (!srcX) {
          if (i.src !== 0 || i.off !== 0) reserved("BPF_MOV");
        } else if (i.imm !== 0 || ![0, 8, 16, ...(cls === O.CLASS_ALU64 ? [32] : [])].includes(i.off)) reserved("BPF_MOV");
        return;
      }
      // sdiv and smod are div and mod with off 1; no other op has an off.
      if ((srcX ? i.imm !== 0 : i.src !== 0) || (i.off !== 0 && i.off !== 1) || (i.off === 1 && code !== O.ALU_DIV && code !== O.ALU_MOD))
        reserved("BPF_ALU");
      return;
    case "st":
      if (i.src !== 0) reserved("BPF_ST");
      return;
    case "stx":
      if (i.imm !== 0) reserved("BPF_STX");
      return;
    case "atomic":
      if (i.imm === LOAD_ACQ || i.imm === STORE_REL) refuseUnwalked(env, i);
      if (!ATOMIC_IMMS.has(i.imm))
        env.reject(`BPF_ATOMIC uses invalid atomic opcode ${(i.imm >>> 0).toString(16).padStart(2, "0")}`, "EINVAL");
      return;
    case "lddw":
      if (i.off !== 0) reserved("BPF_LD_IMM64");
      return;
    case "call":
      if (
        srcX ||
        (i.src !== O.CALL_KFUNC && i.off !== 0) ||
        ![0, O.CALL_LOCAL, O.CALL_KFUNC].includes(i.src) ||
        i.dst !== 0 ||
        cls === O.CLASS_JMP32
      )
        reserved("BPF_CALL");
      return;
    case "ja":
    case "ja32":
      if (srcX || i.src !== 0 || i.dst !== 0 || (cls === O.CLASS_JMP && i.imm !== 0) || (cls === O.CLASS_JMP32 && i.off !== 0))
        reserved("BPF_JA");
      return;
    case "exit":
      if (srcX || i.imm !== 0 || i.src !== 0 || i.dst !== 0 || cls === O.CLASS_JMP32) reserved("BPF_EXIT");
      return;
    default:
      return;
  }
}
