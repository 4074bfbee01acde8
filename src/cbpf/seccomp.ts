/**
 * Seccomp filters: classic BPF over `struct seccomp_data` (the system call number, the audit architecture,
 * the instruction pointer and six 64-bit arguments), as the kernel runs them. `validateSeccomp` refuses what
 * the kernel's seccomp_check_filter refuses (only aligned 32-bit loads inside the 64-byte structure, no
 * packet-style loads, no modulo); loads read the structure's words in host byte order, not network order;
 * `seccompAction` decodes the verdict.
 */
import { TsbpfError } from "../errors.js";
import type { CbpfInsn } from "./insn.js";
import * as C from "./insn.js";
import { runCbpf, validateCbpf } from "./vm.js";

export interface SeccompData {
  /** The system call number. */
  nr: number;
  /** AUDIT_ARCH_* (x86-64: 0xc000003e). */
  arch: number;
  instructionPointer: bigint;
  /** Up to six arguments (missing ones are 0). */
  args: readonly bigint[];
}

export const SECCOMP_DATA_SIZE = 64;
export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;

export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

export type SeccompActionName = "kill_process" | "kill_thread" | "trap" | "errno" | "user_notif" | "trace" | "log" | "allow";

export class SeccompValidationError extends TsbpfError {
  constructor(
    message: string,
    readonly pc: number,
  ) {
    super("ESECCOMP", `instruction ${pc}: ${message}`);
  }
}

const ALLOWED = new Set<number>([
  C.RET | C.K,
  C.RET | C.A,
  C.ALU | C.NEG,
  C.LD | C.IMM,
  C.LDX | C.IMM,
  C.MISC | C.TAX,
  C.MISC | C.TXA,
  C.LD | C.MEM,
  C.LDX | C.MEM,
  C.ST,
  C.STX,
  C.JMP | C.JA,
  ...[C.ADD, C.SUB, C.MUL, C.DIV, C.AND, C.OR, C.XOR, C.LSH, C.RSH].flatMap((op) => [C.ALU | op | C.K, C.ALU | op | C.X]),
  ...[C.JEQ, C.JGE, C.JGT, C.JSET].flatMap((op) => [C.JMP | op | C.K, C.JMP | op | C.X]),
]);

/**
 * The kernel's check_load_and_stores: a scratch word may be loaded only when every path to the load stored it
 * (the kernel refuses the filter otherwise; libpcap's validator does not look).
 */
function checkScratchInitialized(program: readonly CbpfInsn[]): void {
  const masks = new Array<number>(program.length).fill(0xffff);
  let valid = 0;
  program.forEach((p, pc) => {
    valid &= masks[pc] ?? 0xffff;
    const code = p.code;
    if (code === C.ST || code === C.STX) valid |= 1 << p.k;
    else if (code === (C.LD | C.MEM) || code === (C.LDX | C.MEM)) {
      if (!(valid & (1 << p.k))) throw new SeccompValidationError(`M[${p.k}] may be read before it is written`, pc);
    } else if (code === (C.JMP | C.JA)) {
      const t = pc + 1 + p.k;
      masks[t] = (masks[t] ?? 0xffff) & valid;
      valid = 0xffff;
    } else if (C.CLASS(code) === C.JMP) {
      for (const t of [pc + 1 + p.jt, pc + 1 + p.jf]) masks[t] = (masks[t] ?? 0xffff) & valid;
      valid = 0xffff;
    }
  });
}

/** Refuses what the kernel refuses for a seccomp filter (classic validation, then seccomp's rules). */
export function validateSeccomp(program: readonly CbpfInsn[]): void {
  validateCbpf(program);
  checkScratchInitialized(program);
  program.forEach((p, pc) => {
    const code = p.code;
    if (code === (C.LD | C.W | C.ABS)) {
      if (p.k >= SECCOMP_DATA_SIZE || (p.k & 3) !== 0)
        throw new SeccompValidationError(`load of seccomp_data at ${p.k}: only aligned words inside its 64 bytes`, pc);
      return;
    }
    if (code === (C.LD | C.W | C.LEN) || code === (C.LDX | C.W | C.LEN)) return;
    if (!ALLOWED.has(code)) throw new SeccompValidationError(`instruction 0x${code.toString(16)} is not allowed in a seccomp filter`, pc);
    if ((code === (C.ALU | C.LSH | C.K) || code === (C.ALU | C.RSH | C.K)) && p.k >= 32)
      throw new SeccompValidationError(`shift by ${p.k}`, pc);
  });
}

/** struct seccomp_data in host (little-endian) byte order, as a filter sees it. */
export function encodeSeccompData(d: SeccompData): Uint8Array {
  const bytes = new Uint8Array(SECCOMP_DATA_SIZE);
  const v = new DataView(bytes.buffer);
  v.setInt32(0, d.nr, true);
  v.setUint32(4, d.arch >>> 0, true);
  v.setBigUint64(8, BigInt.asUintN(64, d.instructionPointer), true);
  for (let i = 0; i < 6; i++) v.setBigUint64(16 + 8 * i, BigInt.asUintN(64, d.args[i] ?? 0n), true);
  return bytes;
}

/**
 * The bytes a packet-style machine should run a seccomp filter on: every 32-bit word of seccomp_data stored
 * big-endian, so the machine's network-order word loads read the host-order values the kernel's do. Works on
 * every engine that runs classic BPF (the cBPF machine, and the eBPF translation on the JIT and interpreter).
 */
export function seccompInput(d: SeccompData): Uint8Array {
  const host = encodeSeccompData(d);
  const h = new DataView(host.buffer);
  const out = new Uint8Array(SECCOMP_DATA_SIZE);
  const o = new DataView(out.buffer);
  for (let k = 0; k < SECCOMP_DATA_SIZE; k += 4) o.setUint32(k, h.getUint32(k, true), false);
  return out;
}

/** Runs a seccomp filter on one system call: the 32-bit verdict. */
export function runSeccomp(program: readonly CbpfInsn[], data: SeccompData): number {
  return runCbpf(program, seccompInput(data), SECCOMP_DATA_SIZE) >>> 0;
}

/** Decodes a verdict: the action and its 16-bit data (the errno for ERRNO, clamped to 4095 as the kernel does). */
export function seccompAction(ret: number): { action: SeccompActionName; data: number } {
  const r = ret >>> 0;
  const data = r & 0xffff;
  const full = r & 0xffff0000;
  const named: Array<[number, SeccompActionName]> = [
    [SECCOMP_RET.KILL_PROCESS, "kill_process"],
    [SECCOMP_RET.TRAP, "trap"],
    [SECCOMP_RET.ERRNO, "errno"],
    [SECCOMP_RET.USER_NOTIF, "user_notif"],
    [SECCOMP_RET.TRACE, "trace"],
    [SECCOMP_RET.LOG, "log"],
    [SECCOMP_RET.ALLOW, "allow"],
  ];
  // As the kernel: anything above KILL_PROCESS's position with an unknown action kills the process.
  const hit = named.find(([v]) => v === full);
  if (hit) return { action: hit[1], data: hit[1] === "errno" ? Math.min(data, 4095) : data };
  if (full === SECCOMP_RET.KILL_THREAD) return { action: "kill_thread", data };
  return { action: "kill_process", data };
}
