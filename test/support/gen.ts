/**
 * fast-check generators for valid instructions and programs. Shared by the codec, assembler and (later)
 * interpreter/JIT differential tests; failing seeds are kept as regression tests where they are found.
 */
import fc from "fast-check";
import { type Instruction, insn } from "../../src/isa/instruction.js";
import * as O from "../../src/isa/opcodes.js";
import { ATOMIC_OPS, opInfo, validOpcodes } from "../../src/isa/table.js";

const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const int16 = fc.integer({ min: -0x8000, max: 0x7fff });
const reg = fc.integer({ min: 0, max: 10 });
const writableReg = fc.integer({ min: 0, max: 9 });

/** One structurally valid instruction with the given opcode. */
export function instructionWithOpcode(op: number): fc.Arbitrary<Instruction> {
  const info = opInfo(op);
  if (!info) throw new Error(`invalid opcode ${op}`);
  switch (info.kind) {
    case "alu": {
      const divmod = info.code === O.ALU_DIV || info.code === O.ALU_MOD;
      const off = divmod
        ? fc.constantFrom(0, 1)
        : info.code === O.ALU_MOV && info.reg
          ? fc.constantFrom(...(info.is32 ? [0, 8, 16] : [0, 8, 16, 32]))
          : fc.constant(0);
      return info.reg
        ? fc.record({ dst: writableReg, src: reg, off }).map((f) => insn({ op, ...f }))
        : fc.record({ dst: writableReg, imm: int32, off }).map((f) => insn({ op, ...f }));
    }
    case "neg":
      return writableReg.map((dst) => insn({ op, dst }));
    case "end":
      return fc.record({ dst: writableReg, imm: fc.constantFrom(16, 32, 64) }).map((f) => insn({ op, ...f }));
    case "lddw":
      return fc
        .record({ dst: writableReg, src: fc.integer({ min: 0, max: 6 }), imm: int32, imm2: int32 })
        .map((f) => insn({ op, ...f, imm2: f.src === O.LDDW_MAP_VALUE || f.src === O.LDDW_MAP_IDX_VALUE || f.src === 0 ? f.imm2 : 0 }));
    case "ldabs":
      return int32.map((imm) => insn({ op, imm }));
    case "ldind":
      return fc.record({ src: reg, imm: int32 }).map((f) => insn({ op, ...f }));
    case "ldx":
    case "ldxs":
      return fc.record({ dst: writableReg, src: reg, off: int16 }).map((f) => insn({ op, ...f }));
    case "st":
      return fc.record({ dst: reg, off: int16, imm: int32 }).map((f) => insn({ op, ...f }));
    case "stx":
      return fc.record({ dst: reg, src: reg, off: int16 }).map((f) => insn({ op, ...f }));
    case "atomic":
      return fc.record({ dst: reg, src: writableReg, off: int16, imm: fc.constantFrom(...ATOMIC_OPS) }).map((f) => insn({ op, ...f }));
    case "ja":
      return int16.map((off) => insn({ op, off }));
    case "ja32":
      return int32.map((imm) => insn({ op, imm }));
    case "jcc":
      return info.reg
        ? fc.record({ dst: reg, src: reg, off: int16 }).map((f) => insn({ op, ...f }))
        : fc.record({ dst: reg, imm: int32, off: int16 }).map((f) => insn({ op, ...f }));
    case "call":
      return fc.record({ src: fc.constantFrom(0, 1, 2), imm: int32 }).map((f) => insn({ op, ...f }));
    case "callx":
      return reg.map((dst) => insn({ op, dst }));
    case "exit":
      return fc.constant(insn({ op }));
  }
}

/** Any structurally valid instruction (fields valid; jump targets not checked). */
export const anyInstruction: fc.Arbitrary<Instruction> = fc.constantFrom(...validOpcodes()).chain(instructionWithOpcode);

/** A list of valid instructions (a "program" for codec and text round trips). */
export const instructionList: fc.Arbitrary<Instruction[]> = fc.array(anyInstruction, { minLength: 1, maxLength: 40 });

/**
 * A program that passes validation: jumps stay inside the program (forward or backward), local calls
 * are not generated, and the last instruction is exit. Runs may still fault (bad pointers) or hit the budget.
 */
export const runnableProgram: fc.Arbitrary<Instruction[]> = fc
  .array(
    anyInstruction.filter((i) => {
      const kind = opInfo(i.op)?.kind;
      return kind !== "call" && kind !== "callx" && !(kind === "lddw" && i.src !== 0);
    }),
    { minLength: 1, maxLength: 30 },
  )
  .chain((body) => {
    // Re-aim every jump at a random instruction start inside the program.
    const starts: number[] = [];
    let pc = 0;
    for (const i of body) {
      starts.push(pc);
      pc += i.op === O.OP_LDDW ? 2 : 1;
    }
    starts.push(pc); // the final exit
    return fc.tuple(fc.constant(body), fc.array(fc.constantFrom(...starts), { minLength: body.length, maxLength: body.length }));
  })
  .map(([body, targets]) => {
    const out: Instruction[] = [];
    let pc = 0;
    body.forEach((i, n) => {
      const kind = opInfo(i.op)?.kind;
      const rel = (targets[n] as number) - (pc + 1);
      if (kind === "ja" || kind === "jcc") out.push({ ...i, off: rel });
      else if (kind === "ja32") out.push({ ...i, imm: rel });
      else out.push(i);
      pc += i.op === O.OP_LDDW ? 2 : 1;
    });
    out.push(insn({ op: O.OP_EXIT }));
    return out;
  });
