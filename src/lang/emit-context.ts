/**
 * Reading what a probe's context holds, into r0: kprobe/uprobe arguments and return values from x86-64
 * struct pt_regs (r6 keeps the ctx pointer), USDT arguments as their note's specs say (a register, a
 * constant, or memory at a register plus a displacement), registers by name, and tracepoint record fields
 * at their tracefs offsets. Memory outside the ctx is read with the probe_read helper of the right
 * address space.
 */

import { NotSupportedError } from "../errors.js";
import { helperId } from "../helpers/names.js";
import { ALU_ADD, ALU_AND } from "../isa/opcodes.js";
import type { Asm } from "./asm.js";
import { extend } from "./emit-ops.js";
import { ARG_REGS, type AttachPoint, PT_REGS, type TracepointField, userSpace } from "./probes.js";

const R_CTX = 6;
const FP = 10;

const PROBE_READ_USER = helperId("probe_read_user");
export const PROBE_READ_KERNEL = helperId("probe_read_kernel");
const PROBE_READ_USER_STR = helperId("probe_read_user_str");
const PROBE_READ_KERNEL_STR = helperId("probe_read_kernel_str");

const regOffset = (name: string): number => PT_REGS.indexOf(name) * 8;

export function probeRead(point: AttachPoint): number {
  return userSpace(point) ? PROBE_READ_USER : PROBE_READ_KERNEL;
}

export function probeReadStr(point: AttachPoint): number {
  return userSpace(point) ? PROBE_READ_USER_STR : PROBE_READ_KERNEL_STR;
}

/** r0 = the named pt_regs word. */
export function register(a: Asm, name: string): void {
  a.ldx(8, 0, R_CTX, regOffset(name));
}

/** r0 = the return value (rax). */
export function returnValue(a: Asm): void {
  register(a, "ax");
}

/**
 * r0 = argument `n` of the probe. Register arguments come from pt_regs; kprobe and uprobe arguments past
 * the sixth are on the stack above the return address, read through `slot` (an 8-byte stack slot).
 */
export function argument(a: Asm, point: AttachPoint, n: number, slot: number): void {
  if (point.type === "usdt") {
    usdtArgument(a, point, n, slot);
    return;
  }
  if (point.type === "rawtracepoint") {
    // struct bpf_raw_tracepoint_args: the tracepoint's arguments as u64s
    a.ldx(8, 0, R_CTX, 8 * n);
    return;
  }
  const reg = ARG_REGS[n];
  if (reg !== undefined) {
    register(a, reg);
    return;
  }
  register(a, "sp");
  a.movr(3, 0);
  a.alu(ALU_ADD, 3, 8 * (n - ARG_REGS.length + 1));
  readWord(a, point, slot, 8);
}

/** r0 = `size` bytes at the address in r3, read into the stack slot. */
function readWord(a: Asm, point: AttachPoint, slot: number, size: 1 | 2 | 4 | 8): void {
  a.st(8, FP, slot, 0);
  a.movr(1, FP);
  a.alu(ALU_ADD, 1, slot);
  a.mov(2, size);
  a.call(probeRead(point));
  a.ldx(size, 0, FP, slot);
}

function usdtArgument(a: Asm, point: AttachPoint & { type: "usdt" }, n: number, slot: number): void {
  const spec = point.args?.[n];
  if (!spec) throw new NotSupportedError(`arg${n} of ${point.name}`, `the probe has ${point.args?.length ?? 0} arguments`);
  switch (spec.kind) {
    case "const":
      a.const64(0, spec.value);
      break;
    case "reg":
      a.ldx(8, 0, R_CTX, spec.reg);
      break;
    default:
      a.ldx(8, 3, R_CTX, spec.reg);
      if (spec.value !== 0n) a.alu(ALU_ADD, 3, Number(spec.value));
      readWord(a, point, slot, spec.size);
  }
  extend(a, spec.size, spec.signed);
}

/** r0 = an integer field of a tracepoint's record. */
export function tracepointInt(a: Asm, field: TracepointField): void {
  const size = field.size as 1 | 2 | 4 | 8;
  a.ldx(size, 0, R_CTX, field.offset);
  extend(a, size, field.signed);
}

/**
 * A string field of the record to the `size` bytes at r1 (zeroed): a char array is copied whole (it need
 * not end in NUL), a `__data_loc` string (its word's low 16 bits are its offset in the record) up to its NUL.
 */
export function tracepointString(a: Asm, field: TracepointField, size: number): void {
  a.movr(3, R_CTX);
  if (field.type.startsWith("__data_loc")) {
    a.ldx(4, 2, R_CTX, field.offset);
    a.alu(ALU_AND, 2, 0xffff);
    a.alur(ALU_ADD, 3, 2);
    a.mov(2, size);
    a.call(PROBE_READ_KERNEL_STR);
    return;
  }
  a.alu(ALU_ADD, 3, field.offset);
  a.mov(2, Math.min(field.size, size - 1));
  a.call(PROBE_READ_KERNEL);
}
