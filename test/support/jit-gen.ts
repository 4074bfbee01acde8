/**
 * Programs for the interpreter-vs-JIT differential: every instruction class, loads and stores into the input
 * (r9 holds its address) and the stack — mostly in bounds, sometimes not —, backward jumps (loops, some of which
 * run into the budget), helper calls (conformance helper 5, which may end the program), and bpf2bpf calls to
 * up to two subprograms with their own stacks. Jump offsets count slots (lddw takes two).
 */
import fc from "fast-check";
import { type Instruction, insn } from "../../src/isa/instruction.js";
import * as O from "../../src/isa/opcodes.js";
import { opInfo, validOpcodes } from "../../src/isa/table.js";
import { instructionWithOpcode } from "./gen.js";

/** Input bytes each program gets (r1/r9 point at them). */
export const INPUT_SIZE = 64;

const byKind = (...kinds: string[]): number[] => validOpcodes().filter((op) => kinds.includes(opInfo(op)?.kind ?? ""));
const ALU = byKind("alu", "neg", "end");
const JUMPS = byKind("jcc", "ja", "ja32");
const MEM = byKind("ldx", "ldxs", "stx", "st", "atomic");
const LDDW = [O.OP_LDDW];

/** One body instruction; `mem` ones are re-aimed at the input or the stack. */
const bodyInsn = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...ALU).chain(instructionWithOpcode) },
  { weight: 3, arbitrary: fc.constantFrom(...JUMPS).chain(instructionWithOpcode) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom(...MEM).chain(instructionWithOpcode), fc.boolean(), fc.integer({ min: -8, max: INPUT_SIZE + 8 }), fc.nat(9))
      .map(([i, input, where, other]) => {
        const kind = opInfo(i.op)?.kind;
        const base = input ? 9 : 10;
        const off = input ? where : -8 - ((where & 0x3f) % 64) * 8;
        const value = other % 9; // any register but r9 and r10 as the value
        if (kind === "ldx" || kind === "ldxs") return { ...i, dst: other % 9, src: base, off };
        return { ...i, dst: base, src: kind === "st" ? 0 : value, off };
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(...LDDW)
      .chain(instructionWithOpcode)
      .map((i) => ({ ...i, src: 0, dst: i.dst % 9 })),
  },
  { weight: 1, arbitrary: fc.nat(8).map((r) => [insn({ op: 0xbf, dst: 1, src: r }), insn({ op: 0x85, imm: 5 })]) },
);

type Piece = Instruction | Instruction[];

/** A function body: instructions (jumps aimed inside it) ending with exit; calls to `callees` spliced in. */
function functionBody(pieces: Piece[], targets: number[], calls: number[], callees: number): Instruction[] {
  const flat: Instruction[] = [];
  pieces.forEach((p, n) => {
    if (callees > 0 && (calls[n] ?? 0) % 7 === 0) flat.push(insn({ op: 0x85, src: 1, imm: (calls[n] ?? 0) % callees })); // placeholder: callee index
    for (const i of Array.isArray(p) ? p : [p])
      flat.push(
        opInfo(i.op)?.kind === "alu" || opInfo(i.op)?.kind === "neg" || opInfo(i.op)?.kind === "end" ? { ...i, dst: i.dst % 9 } : i,
      );
  });
  flat.push(insn({ op: O.OP_EXIT }));
  // aim jumps at instruction starts of this function
  const slots: number[] = [];
  let pc = 0;
  for (const i of flat) {
    slots.push(pc);
    pc += i.op === O.OP_LDDW ? 2 : 1;
  }
  return flat.map((i, n) => {
    const kind = opInfo(i.op)?.kind;
    if (kind !== "jcc" && kind !== "ja" && kind !== "ja32") return i;
    const t = slots[(targets[n] ?? 0) % flat.length] as number;
    const rel = t - ((slots[n] as number) + 1);
    return kind === "ja32" ? { ...i, imm: rel } : { ...i, off: rel };
  });
}

const fn = (callees: number) =>
  fc
    .tuple(
      fc.array(bodyInsn as fc.Arbitrary<Piece>, { minLength: 1, maxLength: 24 }),
      fc.array(fc.nat(), { minLength: 40, maxLength: 40 }),
      fc.array(fc.nat(), { minLength: 40, maxLength: 40 }),
    )
    .map(([pieces, targets, calls]) => functionBody(pieces, targets, calls, callees));

/** A whole program: `r9 = r1`, a main function, and up to two subprograms it (and the first) may call. */
export const jitProgram: fc.Arbitrary<Instruction[]> = fc.integer({ min: 0, max: 2 }).chain((subs) =>
  fc.tuple(fn(subs), fc.array(fn(0), { minLength: subs, maxLength: subs })).map(([main, subprograms]) => {
    const prologue = [insn({ op: 0xbf, dst: 9, src: 1 })];
    const parts = [[...prologue, ...main], ...subprograms];
    const starts: number[] = [];
    let pc = 0;
    for (const p of parts) {
      starts.push(pc);
      for (const i of p) pc += i.op === O.OP_LDDW ? 2 : 1;
    }
    const out: Instruction[] = [];
    pc = 0;
    for (const p of parts)
      for (const i of p) {
        // placeholder calls name a callee by index: point them at its first slot
        out.push(i.op === 0x85 && i.src === 1 ? { ...i, imm: (starts[1 + i.imm] as number) - (pc + 1) } : i);
        pc += i.op === O.OP_LDDW ? 2 : 1;
      }
    return out;
  }),
);
