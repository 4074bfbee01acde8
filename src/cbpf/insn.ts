/**
 * Classic BPF instructions (struct sock_filter / struct bpf_insn): a 16-bit code, two 8-bit jump offsets and a
 * 32-bit constant. The code's fields, as linux/filter.h and pcap/bpf.h define them.
 */
export interface CbpfInsn {
  code: number;
  jt: number;
  jf: number;
  /** Unsigned 32-bit. */
  k: number;
}

export const CLASS = (code: number): number => code & 0x07;
export const SIZE = (code: number): number => code & 0x18;
export const MODE = (code: number): number => code & 0xe0;
export const OP = (code: number): number => code & 0xf0;
export const SRC = (code: number): number => code & 0x08;
export const RVAL = (code: number): number => code & 0x18;
export const MISCOP = (code: number): number => code & 0xf8;

export const LD = 0x00;
export const LDX = 0x01;
export const ST = 0x02;
export const STX = 0x03;
export const ALU = 0x04;
export const JMP = 0x05;
export const RET = 0x06;
export const MISC = 0x07;

export const W = 0x00;
export const H = 0x08;
export const B = 0x10;

export const IMM = 0x00;
export const ABS = 0x20;
export const IND = 0x40;
export const MEM = 0x60;
export const LEN = 0x80;
export const MSH = 0xa0;

export const ADD = 0x00;
export const SUB = 0x10;
export const MUL = 0x20;
export const DIV = 0x30;
export const OR = 0x40;
export const AND = 0x50;
export const LSH = 0x60;
export const RSH = 0x70;
export const NEG = 0x80;
export const MOD = 0x90;
export const XOR = 0xa0;

export const JA = 0x00;
export const JEQ = 0x10;
export const JGT = 0x20;
export const JGE = 0x30;
export const JSET = 0x40;

export const K = 0x00;
export const X = 0x08;
export const A = 0x10;

export const TAX = 0x00;
export const TXA = 0x80;

/** Scratch memory words (M[0]..M[15]). */
export const MEMWORDS = 16;
