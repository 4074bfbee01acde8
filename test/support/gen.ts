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

/**
 * Programs the kernel verifier accepts (for kernel-vs-machine differential runs): every register r0-r9 starts
 * initialized, the eight stack slots below r10 are written first, memory goes only to those slots, jumps only
 * go forward, and r10 is never computed with.
 */
export const verifiableProgram: fc.Arbitrary<Instruction[]> = fc
  .record({
    inits: fc.array(
      fc.tuple(fc.integer({ min: -0x80000000, max: 0x7fffffff }), fc.integer({ min: -0x80000000, max: 0x7fffffff }), fc.boolean()),
      {
        minLength: 10,
        maxLength: 10,
      },
    ),
    body: fc.array(
      fc.oneof(
        {
          weight: 6,
          arbitrary: fc.constantFrom(...validOpcodes().filter((op) => opInfo(op)?.kind === "alu")).chain(instructionWithOpcode),
        },
        { weight: 1, arbitrary: fc.constantFrom(0x84, 0x87, 0xd4, 0xdc, 0xd7).chain(instructionWithOpcode) },
        {
          weight: 2,
          arbitrary: fc.constantFrom(...validOpcodes().filter((op) => opInfo(op)?.kind === "jcc")).chain(instructionWithOpcode),
        },
        {
          weight: 1,
          arbitrary: fc
            .constantFrom(0x61, 0x69, 0x71, 0x79, 0x81, 0x89, 0x91, 0x63, 0x6b, 0x73, 0x7b, 0x62, 0x6a, 0x72, 0x7a)
            .chain(instructionWithOpcode),
        },
        { weight: 1, arbitrary: fc.constantFrom(0xc3, 0xdb).chain(instructionWithOpcode) },
      ),
      { minLength: 1, maxLength: 40 },
    ),
    slots: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 40, maxLength: 40 }),
    jumps: fc.array(fc.nat(), { minLength: 40, maxLength: 40 }),
  })
  .map(({ inits, body, slots, jumps }) => {
    const out: Instruction[] = [];
    inits.forEach(([lo, hi, wide], r) => {
      out.push(wide ? insn({ op: O.OP_LDDW, dst: r, imm: lo, imm2: hi }) : insn({ op: 0xb7, dst: r, imm: lo }));
    });
    for (let s = 1; s <= 8; s++) out.push(insn({ op: 0x7b, dst: 10, src: s % 10, off: -8 * s }));
    const fixed = body.map((i, n) => {
      const info = opInfo(i.op);
      const kind = info?.kind;
      const slot = slots[n] as number;
      const reg = (r: number): number => (r >= 10 ? r % 10 : r);
      if (kind === "ldx" || kind === "ldxs") return { ...i, dst: reg(i.dst), src: 10, off: -8 * slot };
      if (kind === "stx" || kind === "st") return { ...i, dst: 10, src: kind === "stx" ? reg(i.src) : 0, off: -8 * slot };
      if (kind === "atomic")
        return { ...i, dst: 10, src: reg(i.src) % 10 === 0 && i.imm === O.ATOMIC_CMPXCHG ? 1 : reg(i.src), off: -8 * slot };
      if (kind === "jcc") return { ...i, dst: reg(i.dst), src: info?.reg ? reg(i.src) : 0 };
      if (kind === "alu" && info?.reg) return { ...i, dst: reg(i.dst), src: reg(i.src) };
      // The verifier refuses constant shifts of the full width or more (the RFC masks them instead).
      const shift = kind === "alu" && (info?.code === O.ALU_LSH || info?.code === O.ALU_RSH || info?.code === O.ALU_ARSH);
      if (shift) return { ...i, dst: reg(i.dst), imm: i.imm & (info?.is32 ? 31 : 63) };
      // Nor a constant zero divisor (the RFC defines the result; the verifier refuses the program).
      const divides = kind === "alu" && (info?.code === O.ALU_DIV || info?.code === O.ALU_MOD);
      if (divides && i.imm === 0) return { ...i, dst: reg(i.dst), imm: 1 };
      return { ...i, dst: reg(i.dst) };
    });
    // Forward jumps only: target somewhere after the jump, up to the final exit.
    const total = fixed.length;
    const result = fixed.map((i, n) => (opInfo(i.op)?.kind === "jcc" ? { ...i, off: (jumps[n] as number) % (total - n) } : i));
    // Slot offsets of jumps count lddw as two; recompute offsets in slots.
    const slotOf: number[] = [];
    let pc = 0;
    for (const i of result) {
      slotOf.push(pc);
      pc += i.op === O.OP_LDDW ? 2 : 1;
    }
    slotOf.push(pc);
    const final = result.map((i, n) => {
      if (opInfo(i.op)?.kind !== "jcc") return i;
      const targetIndex = n + 1 + i.off;
      return { ...i, off: (slotOf[targetIndex] as number) - ((slotOf[n] as number) + 1) };
    });
    return [...out, ...final, insn({ op: O.OP_EXIT })];
  });
