/**
 * Instructions as the kernel prints them (kernel/bpf/disasm.c, print_bpf_insn): the form of its verifier
 * log and of `bpftool prog dump xlated`, e.g. `(bf) r6 = r1`, `(61) r0 = *(u32 *)(r1 +0)`,
 * `(15) if r0 == 0x0 goto pc+2`, `(85) call bpf_map_lookup_elem#1`.
 */
import type { Instruction } from "./instruction.js";
import { JMP_OPS } from "./llvm.js";
import * as O from "./opcodes.js";

export interface KernelTextOptions {
  /** A helper's name (bpf_map_lookup_elem), or undefined when unknown ("unknown"). */
  helperName?: (id: number) => string | undefined;
  /** What a 64-bit immediate of a pseudo source loads (a map's address in the kernel); its value otherwise. */
  pseudoImm?: (i: Instruction) => string | undefined;
}

/** The kernel's bpf_alu_string: its name of each ALU operation (the verifier's messages use it too). */
export const ALU_TEXT: Readonly<Record<number, string>> = {
  [O.ALU_ADD]: "+=",
  [O.ALU_SUB]: "-=",
  [O.ALU_MUL]: "*=",
  [O.ALU_DIV]: "/=",
  [O.ALU_OR]: "|=",
  [O.ALU_AND]: "&=",
  [O.ALU_LSH]: "<<=",
  [O.ALU_RSH]: ">>=",
  [O.ALU_NEG]: "neg",
  [O.ALU_MOD]: "%=",
  [O.ALU_XOR]: "^=",
  [O.ALU_MOV]: "=",
  [O.ALU_ARSH]: "s>>=",
  [O.ALU_END]: "endian",
};
const ALU = ALU_TEXT;
const ATOMIC: Readonly<Record<number, string>> = {
  [O.ATOMIC_ADD]: "add",
  [O.ATOMIC_AND]: "and",
  [O.ATOMIC_OR]: "or",
  [O.ATOMIC_XOR]: "xor",
};
/** bpf_ldst_string by BPF_SIZE >> 3 (W, H, B, DW). */
const LDST = ["u32", "u16", "u8", "u64"];
const LDSX = ["s32", "s16", "s8", "s64"];
const MOVSX: Readonly<Record<number, string>> = { 8: "(s8)", 16: "(s16)", 32: "(s32)" };

/** %+d */
const signed = (n: number): string => (n < 0 ? `${n}` : `+${n}`);

/** One instruction in the kernel's words, with its opcode in parentheses. */
export function formatKernel(i: Instruction, opts: KernelTextOptions = {}): string {
  const code = `(${i.op.toString(16).padStart(2, "0")})`;
  const cls = i.op & 7;
  const op = i.op & 0xf0;
  const x = (i.op & O.SRC_X) !== 0;
  const size = LDST[(i.op >> 3) & 3] as string;
  const mem = (reg: number): string => `(r${reg} ${signed(i.off)})`;
  if (cls === O.CLASS_ALU || cls === O.CLASS_ALU64) {
    const w = cls === O.CLASS_ALU ? "w" : "r";
    if (op === O.ALU_END) {
      if (cls === O.CLASS_ALU64) return `${code} r${i.dst} = bswap${i.imm} r${i.dst}`;
      return `${code} r${i.dst} = ${x ? "be" : "le"}${i.imm} r${i.dst}`;
    }
    if (op === O.ALU_NEG) return `${code} ${w}${i.dst} = -${w}${i.dst}`;
    if (op === O.ALU_MOV && x && i.off === 1 && cls === O.CLASS_ALU64) {
      return `${code} r${i.dst} = addr_space_cast(r${i.src}, ${(i.imm >>> 16) & 0xffff}, ${i.imm & 0xffff})`;
    }
    const sdiv = (op === O.ALU_DIV || op === O.ALU_MOD) && i.off === 1;
    const name = sdiv ? `s${ALU[op]}` : (ALU[op] ?? "?");
    if (x) return `${code} ${w}${i.dst} ${name} ${op === O.ALU_MOV ? (MOVSX[i.off] ?? "") : ""}${w}${i.src}`;
    return `${code} ${w}${i.dst} ${name} ${i.imm}`;
  }
  const mode = i.op & 0xe0;
  if (cls === O.CLASS_STX) {
    if (mode === O.MODE_MEM) return `${code} *(${size} *)${mem(i.dst)} = r${i.src}`;
    if (mode !== O.MODE_ATOMIC) return `BUG_${i.op.toString(16).padStart(2, "0")}`;
    const dw = ((i.op >> 3) & 3) === 3 ? "64" : "";
    const base = i.imm & ~O.ATOMIC_FETCH;
    if (ATOMIC[i.imm] !== undefined) return `${code} lock *(${size} *)${mem(i.dst)} ${ALU[i.imm]} r${i.src}`;
    if ((i.imm & O.ATOMIC_FETCH) !== 0 && ATOMIC[base] !== undefined)
      return `${code} r${i.src} = atomic${dw}_fetch_${ATOMIC[base]}((${size} *)${mem(i.dst)}, r${i.src})`;
    if (i.imm === O.ATOMIC_CMPXCHG) return `${code} r0 = atomic${dw}_cmpxchg((${size} *)${mem(i.dst)}, r0, r${i.src})`;
    if (i.imm === O.ATOMIC_XCHG) return `${code} r${i.src} = atomic${dw}_xchg((${size} *)${mem(i.dst)}, r${i.src})`;
    return `BUG_${i.op.toString(16).padStart(2, "0")}`;
  }
  if (cls === O.CLASS_ST) {
    if (mode === O.MODE_MEM) return `${code} *(${size} *)${mem(i.dst)} = ${i.imm}`;
    return `BUG_st_${i.op.toString(16).padStart(2, "0")}`;
  }
  if (cls === O.CLASS_LDX) {
    if (mode !== O.MODE_MEM && mode !== O.MODE_MEMSX) return `BUG_ldx_${i.op.toString(16).padStart(2, "0")}`;
    return `${code} r${i.dst} = *(${mode === O.MODE_MEM ? size : LDSX[(i.op >> 3) & 3]} *)${mem(i.src)}`;
  }
  if (cls === O.CLASS_LD) {
    if (mode === O.MODE_ABS) return `${code} r0 = *(${size} *)skb[${i.imm}]`;
    if (mode === O.MODE_IND) return `${code} r0 = *(${size} *)skb[r${i.src} + ${i.imm}]`;
    if (i.op === O.OP_LDDW) {
      const value = (BigInt((i.imm2 ?? 0) >>> 0) << 32n) | BigInt(i.imm >>> 0);
      return `${code} r${i.dst} = ${(i.src !== 0 ? opts.pseudoImm?.(i) : undefined) ?? `0x${value.toString(16)}`}`;
    }
    return `BUG_ld_${i.op.toString(16).padStart(2, "0")}`;
  }
  // JMP and JMP32
  const w = cls === O.CLASS_JMP32 ? "w" : "r";
  if (op === O.JMP_CALL) {
    if (i.src === O.CALL_LOCAL) return `${code} call pc${signed(i.imm)}`;
    if (i.src === O.CALL_KFUNC) return `${code} call kernel-function#${i.imm}`;
    return `${code} call ${opts.helperName?.(i.imm) ?? "unknown"}#${i.imm}`;
  }
  if (i.op === O.OP_JA) return `${code} goto pc${signed(i.off)}`;
  if (i.op === O.OP_MAY_GOTO && i.src === 0) return `${code} may_goto pc${signed(i.off)}`;
  if (i.op === O.OP_JA32) return `${code} gotol pc${signed(i.imm)}`;
  if (i.op === O.OP_EXIT) return `${code} exit`;
  const cond = JMP_OPS.get(op) ?? "?";
  if (x) return `${code} if ${w}${i.dst} ${cond} ${w}${i.src} goto pc${signed(i.off)}`;
  return `${code} if ${w}${i.dst} ${cond} 0x${(i.imm >>> 0).toString(16)} goto pc${signed(i.off)}`;
}
