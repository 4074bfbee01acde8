/**
 * Instruction sequences the code generator uses in many places, on r0/r1/r2 only: integer truncation,
 * booleans from compares, bpftrace's arithmetic, the builtins that are one helper call, and the hist/lhist
 * bucket functions.
 */

import { NotSupportedError } from "../errors.js";
import { helperId } from "../helpers/names.js";
import {
  ALU_ADD,
  ALU_AND,
  ALU_ARSH,
  ALU_DIV,
  ALU_LSH,
  ALU_MOD,
  ALU_MUL,
  ALU_OR,
  ALU_RSH,
  ALU_SUB,
  ALU_XOR,
  JMP_JLT,
  JMP_JNE,
  JMP_JSLT,
} from "../isa/opcodes.js";
import type { Asm, Label } from "./asm.js";

/** Where generated code keeps the scratch value's address. */
export const SCRATCH_REG = 9;

const KTIME_GET_NS = helperId("ktime_get_ns");
const GET_PRANDOM_U32 = helperId("get_prandom_u32");
const GET_SMP_PROCESSOR_ID = helperId("get_smp_processor_id");
const GET_CURRENT_PID_TGID = helperId("get_current_pid_tgid");
const GET_CURRENT_UID_GID = helperId("get_current_uid_gid");
const GET_CURRENT_TASK = helperId("get_current_task");
const GET_CURRENT_CGROUP_ID = helperId("get_current_cgroup_id");

/** r0 = bpftrace's log2 bucket of r0: 0 negative, 1 zero, else 2 + floor(log2), at most 33. */
export function log2Bucket(a: Asm): void {
  const done = a.label();
  const positive = a.label();
  a.mov(1, 0);
  a.jmp(JMP_JSLT, 0, 0, done);
  a.mov(1, 1);
  a.jmp(JMP_JNE, 0, 0, positive);
  a.ja(done);
  a.place(positive);
  a.mov(1, 2);
  for (const shift of [16, 8, 4, 2, 1]) {
    const skip = a.label();
    a.const64(2, 1n << BigInt(shift));
    a.jmpr(JMP_JLT, 0, 2, skip);
    a.alu(ALU_RSH, 0, shift);
    a.alu(ALU_ADD, 1, shift);
    a.place(skip);
  }
  a.place(done);
  a.movr(0, 1);
}

/** r0 = lhist's bucket: 0 below min, 1 + (v - min) / step inside, the last at or above max. */
export function linearBucket(a: Asm, l: { min: bigint; max: bigint; step: bigint }): void {
  const done = a.label();
  const inside = a.label();
  const below = a.label();
  a.const64(1, l.min);
  a.jmpr(JMP_JSLT, 0, 1, below);
  a.const64(1, l.max);
  a.jmpr(JMP_JSLT, 0, 1, inside);
  a.const64(0, (l.max - l.min) / l.step + 1n);
  a.ja(done);
  a.place(below);
  a.mov(0, 0);
  a.ja(done);
  a.place(inside);
  a.const64(1, l.min);
  a.alur(ALU_SUB, 0, 1);
  a.const64(1, l.step);
  a.alur(ALU_DIV, 0, 1);
  a.alu(ALU_ADD, 0, 1);
  a.place(done);
}

/** Truncates r0 to `size` bytes and extends it back to 64 bits. */
export function extend(a: Asm, size: number, signed: boolean): void {
  if (size === 8) return;
  const bits = 64 - size * 8;
  a.alu(ALU_LSH, 0, bits);
  a.alu(signed ? ALU_ARSH : ALU_RSH, 0, bits);
}

/** r0 = (r0 <code> r1) ? 1 : 0; with `code` alone compares r0 to 0. */
export function bool(a: Asm, code: number, against?: number): void {
  const yes = a.label();
  if (against === undefined) a.jmp(code, 0, 0, yes);
  else a.jmpr(code, 0, against, yes);
  flag(a, yes);
}

/** r0 = 0 where control falls through to here, 1 where it jumped to `yes`. */
export function flag(a: Asm, yes: Label): void {
  const done = a.label();
  a.mov(0, 0);
  a.ja(done);
  a.place(yes);
  a.mov(0, 1);
  a.place(done);
}

export function builtin(a: Asm, name: string, opts: { readonly startNs: bigint; readonly cpid: number }, pointType: string): void {
  switch (name) {
    case "pid":
      a.call(GET_CURRENT_PID_TGID);
      a.alu(ALU_RSH, 0, 32);
      return;
    case "tid":
      a.call(GET_CURRENT_PID_TGID);
      a.mov32r(0, 0);
      return;
    case "uid":
    case "username":
      a.call(GET_CURRENT_UID_GID);
      a.mov32r(0, 0);
      return;
    case "gid":
      a.call(GET_CURRENT_UID_GID);
      a.alu(ALU_RSH, 0, 32);
      return;
    case "cpu":
      a.call(GET_SMP_PROCESSOR_ID);
      return;
    case "nsecs":
      a.call(KTIME_GET_NS);
      return;
    case "elapsed":
      a.call(KTIME_GET_NS);
      a.const64(1, opts.startNs);
      a.alur(ALU_SUB, 0, 1);
      return;
    case "cgroup":
      a.call(GET_CURRENT_CGROUP_ID);
      return;
    case "rand":
      a.call(GET_PRANDOM_U32);
      a.mov32r(0, 0);
      return;
    case "curtask":
      a.call(GET_CURRENT_TASK);
      return;
    case "cpid":
      a.mov(0, opts.cpid);
      return;
    default:
      throw new NotSupportedError(`the builtin ${name}`, `tsbpf's tracing language does not build it for ${pointType} probes yet`);
  }
}

/**
 * r0 = r0 op r1 with bpftrace's semantics: unsigned / and %, x/0 = x%0 = 0, logical >>, and a shift by 64
 * or more (unsigned: also any negative amount) gives 0, as bpftrace's LLVM-built code computes it.
 */
export function arith(a: Asm, op: string): void {
  const codes: Record<string, number> = {
    "+": ALU_ADD,
    "-": ALU_SUB,
    "*": ALU_MUL,
    "&": ALU_AND,
    "|": ALU_OR,
    "^": ALU_XOR,
  };
  // x/0 and x%0 are 0, and so is a shift by 64 or more: the operation runs only where r1 allows it
  const guarded = (jump: number, bound: number, code: number): void => {
    const ok = a.label();
    const done = a.label();
    a.jmp(jump, 1, bound, ok);
    a.mov(0, 0);
    a.ja(done);
    a.place(ok);
    a.alur(code, 0, 1);
    a.place(done);
  };
  if (op === "/" || op === "%") guarded(JMP_JNE, 0, op === "/" ? ALU_DIV : ALU_MOD);
  else if (op === "<<" || op === ">>") guarded(JMP_JLT, 64, op === "<<" ? ALU_LSH : ALU_RSH);
  else a.alur(codes[op] as number, 0, 1);
}

/** A string constant, NUL-padded to `size`, into scratch at `at`. */
export function stringConstant(a: Asm, bytes: Uint8Array, at: number, size: number): void {
  const padded = new Uint8Array(size);
  padded.set(bytes.subarray(0, Math.min(bytes.length, size - 1)));
  const view = new DataView(padded.buffer);
  for (let i = 0; i < size; i += 8) {
    const v = view.getBigUint64(i, true);
    if (v === 0n) a.st(8, SCRATCH_REG, at + i, 0);
    else {
      a.const64(1, v);
      a.stx(8, SCRATCH_REG, at + i, 1);
    }
  }
}
