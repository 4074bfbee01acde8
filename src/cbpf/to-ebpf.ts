/**
 * Classic BPF → eBPF, as the kernel's converter does it, so filters run on tsbpf's interpreter and JIT with
 * libpcap's semantics: A is r0 and X r7 (32-bit values), M[0..15] sit on the stack below r10 (zeroed first),
 * r9 holds the wire length (r2 at entry) for `#pktlen`, packet loads become LD_ABS/LD_IND (out of the packet
 * ends the program with 0, as in cBPF), division or modulo by a zero X returns 0, shifts by 32 or more give
 * 0, and each conditional jump becomes a JMP32 compare plus, where needed, a jump for the false branch.
 */
import { type Instruction, insn } from "../isa/instruction.js";
import type { CbpfInsn } from "./insn.js";
import * as C from "./insn.js";

const A = 0;
const X = 7;
const TMP = 8;
const LEN = 9;
const MEM_BASE = -64; // M[k] at r10 - 64 + 4k

const mov32k = (dst: number, imm: number): Instruction => insn({ op: 0xb4, dst, imm: imm | 0 });
const mov32x = (dst: number, src: number): Instruction => insn({ op: 0xbc, dst, src });
const exit = (): Instruction => insn({ op: 0x95 });
const ret0 = (): Instruction[] => [mov32k(A, 0), exit()];

/** A jump whose target is a cBPF instruction index, resolved once every instruction's position is known. */
interface Pending {
  insn: Instruction;
  /** cBPF index the jump goes to (the eBPF offset is filled in later), or a relative eBPF offset already set. */
  to?: number;
}

const JMP32: Record<number, number> = { [C.JEQ]: 0x16, [C.JGT]: 0x26, [C.JGE]: 0x36, [C.JSET]: 0x46 };
const ALU32: Record<number, number> = {
  [C.ADD]: 0x04,
  [C.SUB]: 0x14,
  [C.MUL]: 0x24,
  [C.DIV]: 0x34,
  [C.OR]: 0x44,
  [C.AND]: 0x54,
  [C.LSH]: 0x64,
  [C.RSH]: 0x74,
  [C.MOD]: 0x94,
  [C.XOR]: 0xa4,
};

/** Translates a validated cBPF program. Run it with r2 = the packet's length on the wire. */
export function cbpfToEbpf(program: readonly CbpfInsn[]): Instruction[] {
  const out: Pending[] = [];
  const emit = (...xs: Instruction[]): void => {
    for (const x of xs) out.push({ insn: x });
  };
  // prologue: A = X = 0, the wire length kept, scratch memory zeroed
  emit(mov32k(A, 0), mov32k(X, 0), insn({ op: 0xbf, dst: LEN, src: 2 }));
  for (let k = 0; k < C.MEMWORDS; k++) emit(insn({ op: 0x62, dst: 10, off: MEM_BASE + 4 * k, imm: 0 }));
  const start: number[] = [];
  program.forEach((p, n) => {
    start.push(out.length);
    const { code, k } = p;
    const size = C.SIZE(code);
    const sizeBits = size === C.W ? 0x00 : size === C.H ? 0x08 : 0x10;
    switch (C.CLASS(code)) {
      case C.LD:
        switch (C.MODE(code)) {
          case C.ABS:
            if (k > 0x7fffffff)
              emit(...ret0()); // past any packet (and not one of the kernel's SKF_ offsets)
            else emit(insn({ op: 0x20 | sizeBits, imm: k }));
            return;
          case C.IND:
            // x + k must stay a non-negative 32-bit offset, or the load is outside the packet
            emit(mov32x(TMP, X), insn({ op: 0x04, dst: TMP, imm: k | 0 }), insn({ op: 0xc6, dst: TMP, imm: 0, off: 2 }));
            emit(insn({ op: 0x40 | sizeBits, src: X, imm: k | 0 }), insn({ op: 0x05, off: 2 }), ...ret0());
            return;
          case C.IMM:
            emit(mov32k(A, k));
            return;
          case C.LEN:
            emit(mov32x(A, LEN));
            return;
          case C.MEM:
            emit(insn({ op: 0x61, dst: A, src: 10, off: MEM_BASE + 4 * k }));
            return;
        }
        break;
      case C.LDX:
        switch (C.MODE(code)) {
          case C.IMM:
            emit(mov32k(X, k));
            return;
          case C.LEN:
            emit(mov32x(X, LEN));
            return;
          case C.MEM:
            emit(insn({ op: 0x61, dst: X, src: 10, off: MEM_BASE + 4 * k }));
            return;
          case C.MSH:
            // X = 4 * ([k] & 0xf), A kept
            if (k > 0x7fffffff) {
              emit(...ret0());
              return;
            }
            emit(mov32x(TMP, A), insn({ op: 0x30, imm: k }), insn({ op: 0x54, dst: A, imm: 0xf }), insn({ op: 0x64, dst: A, imm: 2 }));
            emit(mov32x(X, A), mov32x(A, TMP));
            return;
        }
        break;
      case C.ST:
        emit(insn({ op: 0x63, dst: 10, src: A, off: MEM_BASE + 4 * k }));
        return;
      case C.STX:
        emit(insn({ op: 0x63, dst: 10, src: X, off: MEM_BASE + 4 * k }));
        return;
      case C.ALU: {
        const operation = C.OP(code);
        if (operation === C.NEG) {
          emit(insn({ op: 0x84, dst: A }));
          return;
        }
        const op = ALU32[operation] as number;
        const shift = operation === C.LSH || operation === C.RSH;
        if (C.SRC(code) === C.K) {
          if (shift && k >>> 0 >= 32) emit(mov32k(A, 0));
          else emit(insn({ op, dst: A, imm: k | 0 }));
          return;
        }
        if (operation === C.DIV || operation === C.MOD) {
          // by a zero X the filter returns 0
          emit(insn({ op: 0x56, dst: X, imm: 0, off: 2 }), ...ret0(), insn({ op: op | 0x08, dst: A, src: X }));
          return;
        }
        if (shift) {
          // by 32 or more: 0
          emit(
            insn({ op: 0xa6, dst: X, imm: 32, off: 2 }),
            mov32k(A, 0),
            insn({ op: 0x05, off: 1 }),
            insn({ op: op | 0x08, dst: A, src: X }),
          );
          return;
        }
        emit(insn({ op: op | 0x08, dst: A, src: X }));
        return;
      }
      case C.JMP: {
        if (C.OP(code) === C.JA) {
          out.push({ insn: insn({ op: 0x05 }), to: (n + 1 + k) >>> 0 });
          return;
        }
        const jop = (JMP32[C.OP(code)] as number) | (C.SRC(code) === C.X ? 0x08 : 0);
        const operand = C.SRC(code) === C.X ? { src: X } : { imm: k | 0 };
        out.push({ insn: insn({ op: jop, dst: A, ...operand }), to: n + 1 + p.jt });
        if (p.jf !== 0) out.push({ insn: insn({ op: 0x05 }), to: n + 1 + p.jf });
        return;
      }
      case C.RET:
        if (C.RVAL(code) === C.K) emit(mov32k(A, k), exit());
        else emit(exit()); // A, already a zero-extended 32-bit value
        return;
      case C.MISC:
        emit(code === (C.MISC | C.TAX) ? mov32x(X, A) : mov32x(A, X));
        return;
    }
    throw new Error(`cBPF instruction ${n} (0x${code.toString(16)}) cannot be translated (validate first)`);
  });
  // resolve jumps to cBPF targets (every eBPF instruction here takes one slot)
  return out.map((p, i) => (p.to === undefined ? p.insn : { ...p.insn, off: (start[p.to] as number) - (i + 1) }));
}
