/**
 * Opcode fields of the eBPF instruction set (RFC 9669, and the kernel's uapi/linux/bpf.h).
 * An opcode byte is `class | size/source | mode/op`; these constants name each part.
 */

// Instruction classes (low 3 bits).
export const CLASS_LD = 0x00;
export const CLASS_LDX = 0x01;
export const CLASS_ST = 0x02;
export const CLASS_STX = 0x03;
export const CLASS_ALU = 0x04;
export const CLASS_JMP = 0x05;
export const CLASS_JMP32 = 0x06;
export const CLASS_ALU64 = 0x07;

// Load/store size (bits 3-4).
export const SIZE_W = 0x00;
export const SIZE_H = 0x08;
export const SIZE_B = 0x10;
export const SIZE_DW = 0x18;

// Load/store mode (bits 5-7).
export const MODE_IMM = 0x00;
export const MODE_ABS = 0x20;
export const MODE_IND = 0x40;
export const MODE_MEM = 0x60;
export const MODE_MEMSX = 0x80;
export const MODE_ATOMIC = 0xc0;

// ALU/JMP source (bit 3).
export const SRC_K = 0x00;
export const SRC_X = 0x08;

// ALU operations (bits 4-7).
export const ALU_ADD = 0x00;
export const ALU_SUB = 0x10;
export const ALU_MUL = 0x20;
export const ALU_DIV = 0x30;
export const ALU_OR = 0x40;
export const ALU_AND = 0x50;
export const ALU_LSH = 0x60;
export const ALU_RSH = 0x70;
export const ALU_NEG = 0x80;
export const ALU_MOD = 0x90;
export const ALU_XOR = 0xa0;
export const ALU_MOV = 0xb0;
export const ALU_ARSH = 0xc0;
export const ALU_END = 0xd0;

// JMP operations (bits 4-7).
export const JMP_JA = 0x00;
export const JMP_JEQ = 0x10;
export const JMP_JGT = 0x20;
export const JMP_JGE = 0x30;
export const JMP_JSET = 0x40;
export const JMP_JNE = 0x50;
export const JMP_JSGT = 0x60;
export const JMP_JSGE = 0x70;
export const JMP_CALL = 0x80;
export const JMP_EXIT = 0x90;
export const JMP_JLT = 0xa0;
export const JMP_JLE = 0xb0;
export const JMP_JSLT = 0xc0;
export const JMP_JSLE = 0xd0;

// Atomic operations, in the imm field of CLASS_STX|MODE_ATOMIC.
export const ATOMIC_FETCH = 0x01;
export const ATOMIC_ADD = 0x00;
export const ATOMIC_OR = 0x40;
export const ATOMIC_AND = 0x50;
export const ATOMIC_XOR = 0xa0;
export const ATOMIC_XCHG = 0xe0 | ATOMIC_FETCH;
export const ATOMIC_CMPXCHG = 0xf0 | ATOMIC_FETCH;

// src field of a call instruction.
export const CALL_HELPER = 0;
export const CALL_LOCAL = 1; // BPF_PSEUDO_CALL: imm is a slot offset from the next instruction
export const CALL_KFUNC = 2; // BPF_PSEUDO_KFUNC_CALL: imm is a BTF id

/** src field of lddw: what the 64-bit immediate means (uapi/linux/bpf.h BPF_PSEUDO_*). */
export const LDDW_IMM64 = 0;
export const LDDW_MAP_FD = 1;
export const LDDW_MAP_VALUE = 2;
export const LDDW_BTF_ID = 3;
export const LDDW_FUNC = 4;
export const LDDW_MAP_IDX = 5;
export const LDDW_MAP_IDX_VALUE = 6;

// Frequently used whole opcodes.
export const OP_LDDW = CLASS_LD | MODE_IMM | SIZE_DW; // 0x18
export const OP_EXIT = CLASS_JMP | JMP_EXIT; // 0x95
export const OP_CALL = CLASS_JMP | JMP_CALL; // 0x85
export const OP_CALLX = CLASS_JMP | JMP_CALL | SRC_X; // 0x8d
export const OP_JA = CLASS_JMP | JMP_JA; // 0x05
export const OP_JA32 = CLASS_JMP32 | JMP_JA; // 0x06 (gotol: 32-bit offset in imm)
/** BPF_JMP | BPF_JCOND with src BPF_MAY_GOTO (0): a jump the kernel may take to end a loop. */
export const OP_MAY_GOTO = 0xe5;
/** BPF_MAX_LOOPS: how often may_goto falls through in one call of a function before it jumps. */
export const MAY_GOTO_LOOPS = 8 * 1024 * 1024;

export const opClass = (op: number): number => op & 0x07;
export const opSize = (op: number): number => op & 0x18;
export const opMode = (op: number): number => op & 0xe0;
export const opCode = (op: number): number => op & 0xf0;
export const opSource = (op: number): number => op & 0x08;

/** Bytes moved by a load/store of the given size bits. */
export function sizeBytes(size: number): 1 | 2 | 4 | 8 {
  switch (size) {
    case SIZE_B:
      return 1;
    case SIZE_H:
      return 2;
    case SIZE_W:
      return 4;
    default:
      return 8;
  }
}

/** The frame pointer register; read-only. */
export const REG_FP = 10;
/** Registers r0..r10. */
export const REG_COUNT = 11;
/** Bytes in one instruction slot. */
export const SLOT_SIZE = 8;
/** Bytes of stack each call frame owns. */
export const STACK_SIZE = 512;
/** Frames a program may have active at once (the kernel's MAX_CALL_FRAMES). */
export const MAX_CALL_FRAMES = 8;
