/**
 * Load-time validation: the structural checks any loader does before running a program (the kernel's
 * first pass over the instructions, before the verifier proper). Each failure is a ValidationError
 * naming the slot: `unknown opcode 0xff at pc 3`.
 */
import { ValidationError } from "./errors.js";
import { type Instruction, jumpOffset, slotOffsets } from "./instruction.js";
import * as O from "./opcodes.js";
import { ATOMIC_OPS, type OpInfo, opInfo } from "./table.js";

/** Checks the fields an opcode does not use are zero and the ones it uses are in range. */
function checkFields(i: Instruction, info: OpInfo, pc: number): void {
  const reserved = (field: string, value: number): void => {
    if (value !== 0) throw new ValidationError("RESERVED_FIELD", `reserved field ${field} must be 0 (is ${value})`, pc);
  };
  const bad = (what: string): never => {
    throw new ValidationError("BAD_FIELD", what, pc);
  };
  switch (info.kind) {
    case "alu": {
      if (info.reg) reserved("imm", i.imm);
      else reserved("src", i.src);
      if (info.code === O.ALU_DIV || info.code === O.ALU_MOD) {
        if (i.off !== 0 && i.off !== 1) bad(`offset of div/mod must be 0 or 1 (signed), is ${i.off}`);
      } else if (info.code === O.ALU_MOV && info.reg) {
        const ok = info.is32 ? [0, 8, 16] : [0, 8, 16, 32];
        if (!ok.includes(i.off)) bad(`offset of mov must be one of ${ok.join(", ")} (sign extension), is ${i.off}`);
      } else {
        reserved("offset", i.off);
      }
      return;
    }
    case "neg":
      reserved("src", i.src);
      reserved("offset", i.off);
      reserved("imm", i.imm);
      return;
    case "end":
      reserved("src", i.src);
      reserved("offset", i.off);
      if (i.imm !== 16 && i.imm !== 32 && i.imm !== 64) bad(`byte swap width must be 16, 32 or 64, is ${i.imm}`);
      return;
    case "lddw":
      reserved("offset", i.off);
      if (i.src > O.LDDW_MAP_IDX_VALUE) bad(`lddw pseudo source ${i.src} is unknown (0-6)`);
      return;
    case "ldabs":
      reserved("dst", i.dst);
      reserved("src", i.src);
      reserved("offset", i.off);
      return;
    case "ldind":
      reserved("dst", i.dst);
      reserved("offset", i.off);
      return;
    case "ldx":
    case "ldxs":
    case "stx":
      reserved("imm", i.imm);
      return;
    case "st":
      reserved("src", i.src);
      return;
    case "atomic":
      if (!ATOMIC_OPS.includes(i.imm)) bad(`unknown atomic operation 0x${(i.imm >>> 0).toString(16)}`);
      return;
    case "ja":
      reserved("dst", i.dst);
      reserved("src", i.src);
      reserved("imm", i.imm);
      return;
    case "ja32":
      reserved("dst", i.dst);
      reserved("src", i.src);
      reserved("offset", i.off);
      return;
    case "jcc":
      if (info.reg) reserved("imm", i.imm);
      else reserved("src", i.src);
      return;
    case "call":
      reserved("dst", i.dst);
      reserved("offset", i.off);
      if (i.src > O.CALL_KFUNC) bad(`call source ${i.src} is unknown (0 helper, 1 local, 2 kfunc)`);
      return;
    case "callx":
      reserved("src", i.src);
      reserved("offset", i.off);
      reserved("imm", i.imm);
      return;
    case "exit":
      reserved("dst", i.dst);
      reserved("src", i.src);
      reserved("offset", i.off);
      reserved("imm", i.imm);
      return;
  }
}

/** Which register fields are registers for this opcode, and whether dst is written. */
function checkRegisters(i: Instruction, info: OpInfo, pc: number): void {
  const reg = (field: string, r: number): void => {
    if (r > 10) throw new ValidationError("BAD_REGISTER", `invalid register r${r} in ${field}`, pc);
  };
  const srcIsReg =
    info.kind === "stx" ||
    info.kind === "ldx" ||
    info.kind === "ldxs" ||
    info.kind === "atomic" ||
    info.kind === "ldind" ||
    ((info.kind === "alu" || info.kind === "jcc") && info.reg);
  if (srcIsReg) reg("src", i.src);
  reg("dst", i.dst);
  const writesDst =
    info.kind === "alu" ||
    info.kind === "neg" ||
    info.kind === "end" ||
    info.kind === "lddw" ||
    info.kind === "ldx" ||
    info.kind === "ldxs";
  if (writesDst && i.dst === O.REG_FP) throw new ValidationError("R10_WRITE", "r10 is read-only and cannot be a destination", pc);
  if (info.kind === "atomic" && (i.imm & O.ATOMIC_FETCH) !== 0 && i.imm !== O.ATOMIC_CMPXCHG && i.src === O.REG_FP) {
    throw new ValidationError("R10_WRITE", "r10 is read-only and cannot receive an atomic fetch", pc);
  }
}

export interface ValidatedProgram {
  /** Slot index of each instruction. */
  readonly pcs: readonly number[];
  /** Total slots. */
  readonly slots: number;
  /** Slot indexes where a subprogram starts (0 first), sorted. */
  readonly subprograms: readonly number[];
}

/**
 * may_goto (BPF_JMP | BPF_JCOND, all other fields 0 but the offset): a jump the machine takes once a loop
 * has gone round BPF_MAX_LOOPS times in this call of the function. It is not in the opcode table because
 * the disassemblers' oracles (llvm-objdump) do not all know it.
 */
export function isMayGoto(i: Instruction): boolean {
  return i.op === O.OP_MAY_GOTO && i.src === 0 && i.dst === 0 && i.imm === 0;
}

/**
 * Validates a program structurally: opcodes, registers, reserved fields, jump and call targets, and that
 * no subprogram can fall off its end. Returns the slot layout for loaders.
 */
export function validate(insns: readonly Instruction[]): ValidatedProgram {
  if (insns.length === 0) throw new ValidationError("EMPTY_PROGRAM", "program has no instructions", 0);
  const { pcs, slots } = slotOffsets(insns);
  const starts = new Uint8Array(slots + 1); // 1 where an instruction starts
  for (const pc of pcs) starts[pc] = 1;

  const subprogramStarts = new Set<number>([0]);
  insns.forEach((i, n) => {
    const pc = pcs[n] as number;
    if (isMayGoto(i)) return;
    const info = opInfo(i.op);
    if (!info) throw new ValidationError("UNKNOWN_OPCODE", `unknown opcode 0x${i.op.toString(16).padStart(2, "0")}`, pc);
    checkFields(i, info, pc);
    checkRegisters(i, info, pc);
    const localTarget =
      (info.kind === "call" && i.src === O.CALL_LOCAL) || (info.kind === "lddw" && i.src === O.LDDW_FUNC) ? pc + 1 + i.imm : undefined;
    if (localTarget !== undefined) {
      if (localTarget < 0 || localTarget >= slots || starts[localTarget] !== 1) {
        throw new ValidationError("BAD_CALL_TARGET", `call to unknown local target pc ${localTarget}`, pc);
      }
      subprogramStarts.add(localTarget);
    }
  });

  const subprograms = [...subprogramStarts].sort((a, b) => a - b);
  const subprogramOf = (pc: number): number => {
    let s = 0;
    for (const start of subprograms) if (start <= pc) s = start;
    return s;
  };
  insns.forEach((i, n) => {
    const pc = pcs[n] as number;
    const info = opInfo(i.op);
    if (!isMayGoto(i) && info?.kind !== "ja" && info?.kind !== "ja32" && info?.kind !== "jcc") return;
    const target = pc + 1 + jumpOffset(i);
    if (target < 0 || target >= slots) {
      throw new ValidationError("JUMP_OUT_OF_RANGE", `jump to pc ${target} is outside the program (${slots} slots)`, pc);
    }
    if (starts[target] !== 1) throw new ValidationError("JUMP_INTO_LDDW", `jump to pc ${target} lands in the middle of lddw`, pc);
    if (subprogramOf(target) !== subprogramOf(pc)) {
      throw new ValidationError("JUMP_OUT_OF_RANGE", `jump to pc ${target} leaves the subprogram starting at pc ${subprogramOf(pc)}`, pc);
    }
  });

  // The last instruction of every subprogram must end control flow, or execution runs off its end.
  for (let s = 0; s < subprograms.length; s++) {
    const end = s + 1 < subprograms.length ? (subprograms[s + 1] as number) : slots;
    let last = end - 1;
    if (starts[last] !== 1) last--; // the second slot of a trailing lddw
    const lastInsn = insns[pcs.indexOf(last)] as Instruction;
    const kind = opInfo(lastInsn.op)?.kind;
    if (kind !== "exit" && kind !== "ja" && kind !== "ja32") {
      throw new ValidationError("FALL_OFF_END", "last instruction is not exit or ja: execution would fall off the end", last);
    }
  }
  return { pcs, slots, subprograms };
}
