/**
 * The table of valid opcodes: what each one is and which fields it uses. Validation, the assemblers and
 * the disassemblers all read this one table, so an instruction is defined in one place.
 */
import * as O from "./opcodes.js";

export type OpKind =
  | "alu" // binary ALU op, register or immediate source (incl. mov, movsx, sdiv, smod)
  | "neg"
  | "end" // le/be (ALU) and bswap (ALU64)
  | "lddw"
  | "ldabs"
  | "ldind"
  | "ldx"
  | "ldxs" // sign-extending load (MEMSX)
  | "st"
  | "stx"
  | "atomic"
  | "ja"
  | "ja32" // gotol: 32-bit offset in imm
  | "jcc"
  | "call"
  | "callx"
  | "exit";

export interface OpInfo {
  readonly kind: OpKind;
  /** ALU32 / JMP32 / 32-bit atomic. */
  readonly is32: boolean;
  /** Register source (the X bit) for ALU and conditional jumps. */
  readonly reg: boolean;
  /** Operation bits (op & 0xf0) for ALU and jumps. */
  readonly code: number;
  /** Access size in bytes for loads, stores and atomics. */
  readonly size: 1 | 2 | 4 | 8;
}

const table = new Map<number, OpInfo>();

function add(op: number, kind: OpKind, is32: boolean, size: 1 | 2 | 4 | 8 = 8): void {
  table.set(op, { kind, is32, reg: O.opSource(op) === O.SRC_X, code: O.opCode(op), size });
}

const ALU_BINARY = [
  O.ALU_ADD,
  O.ALU_SUB,
  O.ALU_MUL,
  O.ALU_DIV,
  O.ALU_OR,
  O.ALU_AND,
  O.ALU_LSH,
  O.ALU_RSH,
  O.ALU_MOD,
  O.ALU_XOR,
  O.ALU_MOV,
  O.ALU_ARSH,
];
for (const cls of [O.CLASS_ALU, O.CLASS_ALU64]) {
  const is32 = cls === O.CLASS_ALU;
  for (const code of ALU_BINARY) {
    add(cls | code | O.SRC_K, "alu", is32);
    add(cls | code | O.SRC_X, "alu", is32);
  }
  add(cls | O.ALU_NEG, "neg", is32);
}
add(O.CLASS_ALU | O.ALU_END | O.SRC_K, "end", true); // le
add(O.CLASS_ALU | O.ALU_END | O.SRC_X, "end", true); // be
add(O.CLASS_ALU64 | O.ALU_END | O.SRC_K, "end", false); // bswap

add(O.OP_LDDW, "lddw", false);
for (const size of [O.SIZE_W, O.SIZE_H, O.SIZE_B]) {
  add(O.CLASS_LD | O.MODE_ABS | size, "ldabs", false, O.sizeBytes(size));
  add(O.CLASS_LD | O.MODE_IND | size, "ldind", false, O.sizeBytes(size));
  add(O.CLASS_LDX | O.MODE_MEMSX | size, "ldxs", false, O.sizeBytes(size));
}
for (const size of [O.SIZE_W, O.SIZE_H, O.SIZE_B, O.SIZE_DW]) {
  add(O.CLASS_LDX | O.MODE_MEM | size, "ldx", false, O.sizeBytes(size));
  add(O.CLASS_ST | O.MODE_MEM | size, "st", false, O.sizeBytes(size));
  add(O.CLASS_STX | O.MODE_MEM | size, "stx", false, O.sizeBytes(size));
}
add(O.CLASS_STX | O.MODE_ATOMIC | O.SIZE_W, "atomic", true, 4);
add(O.CLASS_STX | O.MODE_ATOMIC | O.SIZE_DW, "atomic", false, 8);

const JCC = [O.JMP_JEQ, O.JMP_JGT, O.JMP_JGE, O.JMP_JSET, O.JMP_JNE, O.JMP_JSGT, O.JMP_JSGE, O.JMP_JLT, O.JMP_JLE, O.JMP_JSLT, O.JMP_JSLE];
for (const cls of [O.CLASS_JMP, O.CLASS_JMP32]) {
  for (const code of JCC) {
    add(cls | code | O.SRC_K, "jcc", cls === O.CLASS_JMP32);
    add(cls | code | O.SRC_X, "jcc", cls === O.CLASS_JMP32);
  }
}
add(O.OP_JA, "ja", false);
add(O.OP_JA32, "ja32", true);
add(O.OP_CALL, "call", false);
add(O.OP_CALLX, "callx", false);
add(O.OP_EXIT, "exit", false);

/** What an opcode byte is, or undefined for an opcode the ISA does not define. */
export function opInfo(op: number): OpInfo | undefined {
  return table.get(op);
}

/** Every valid opcode byte. */
export function validOpcodes(): number[] {
  return [...table.keys()].sort((a, b) => a - b);
}

/** Valid atomic operations (the imm of an atomic instruction). */
export const ATOMIC_OPS: readonly number[] = [
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
];

/** The ALU operation names shared by both dialects' tables. */
export const ALU_NAMES: ReadonlyMap<number, string> = new Map([
  [O.ALU_ADD, "add"],
  [O.ALU_SUB, "sub"],
  [O.ALU_MUL, "mul"],
  [O.ALU_DIV, "div"],
  [O.ALU_OR, "or"],
  [O.ALU_AND, "and"],
  [O.ALU_LSH, "lsh"],
  [O.ALU_RSH, "rsh"],
  [O.ALU_NEG, "neg"],
  [O.ALU_MOD, "mod"],
  [O.ALU_XOR, "xor"],
  [O.ALU_MOV, "mov"],
  [O.ALU_ARSH, "arsh"],
]);

export const JMP_NAMES: ReadonlyMap<number, string> = new Map([
  [O.JMP_JEQ, "jeq"],
  [O.JMP_JGT, "jgt"],
  [O.JMP_JGE, "jge"],
  [O.JMP_JSET, "jset"],
  [O.JMP_JNE, "jne"],
  [O.JMP_JSGT, "jsgt"],
  [O.JMP_JSGE, "jsge"],
  [O.JMP_JLT, "jlt"],
  [O.JMP_JLE, "jle"],
  [O.JMP_JSLT, "jslt"],
  [O.JMP_JSLE, "jsle"],
]);

export const SIZE_SUFFIX: ReadonlyMap<number, string> = new Map([
  [1, "b"],
  [2, "h"],
  [4, "w"],
  [8, "dw"],
]);
