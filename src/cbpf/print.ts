/**
 * Program listings as tcpdump prints them: `-d` (one instruction per line in libpcap's notation),
 * `-dd` (C initializers) and `-ddd` (decimal numbers). The formats are checked against tcpdump 4.99.3 /
 * libpcap 1.10.3 output for every expression of ../shared/pcap-filter.
 */

import type { CbpfInsn } from "./insn.js";
import * as C from "./insn.js";

const hex = (v: number): string => `#0x${(v >>> 0).toString(16)}`;
const dec = (v: number): string => `#${v | 0}`;

/** One instruction's mnemonic and operand (libpcap's bpf_image). */
function image(insn: CbpfInsn, n: number): { op: string; operand: string; jump?: [number, number] } {
  const { code, k } = insn;
  const size = C.SIZE(code);
  const ldName = size === C.W ? "ld" : size === C.H ? "ldh" : size === C.B ? "ldb" : "";
  switch (C.CLASS(code)) {
    case C.RET:
      if (C.RVAL(code) === C.K) return { op: "ret", operand: dec(k) };
      if (C.RVAL(code) === C.A) return { op: "ret", operand: "" };
      break;
    case C.LD:
      if (!ldName && C.MODE(code) !== C.IMM && C.MODE(code) !== C.MEM && C.MODE(code) !== C.LEN) break;
      switch (C.MODE(code)) {
        case C.ABS:
          return { op: ldName, operand: `[${k | 0}]` };
        case C.IND:
          return { op: ldName, operand: `[x + ${k | 0}]` };
        case C.IMM:
          if (size === C.W) return { op: "ld", operand: hex(k) };
          break;
        case C.LEN:
          if (size === C.W) return { op: "ld", operand: "#pktlen" };
          break;
        case C.MEM:
          if (size === C.W) return { op: "ld", operand: `M[${k | 0}]` };
          break;
      }
      break;
    case C.LDX:
      if (code === (C.LDX | C.W | C.IMM)) return { op: "ldx", operand: hex(k) };
      if (code === (C.LDX | C.W | C.MEM)) return { op: "ldx", operand: `M[${k | 0}]` };
      if (code === (C.LDX | C.W | C.LEN)) return { op: "ldx", operand: "#pktlen" };
      if (code === (C.LDX | C.B | C.MSH)) return { op: "ldxb", operand: `4*([${k | 0}]&0xf)` };
      break;
    case C.ST:
      if (code === C.ST) return { op: "st", operand: `M[${k | 0}]` };
      break;
    case C.STX:
      if (code === C.STX) return { op: "stx", operand: `M[${k | 0}]` };
      break;
    case C.JMP: {
      const names: Record<number, string> = { [C.JEQ]: "jeq", [C.JGT]: "jgt", [C.JGE]: "jge", [C.JSET]: "jset" };
      if (C.OP(code) === C.JA && C.SRC(code) === C.K) return { op: "ja", operand: String((n + 1 + k) | 0) };
      const name = names[C.OP(code)];
      if (name) return { op: name, operand: C.SRC(code) === C.X ? "x" : hex(k), jump: [n + 1 + insn.jt, n + 1 + insn.jf] };
      break;
    }
    case C.ALU: {
      const names: Record<number, [string, (v: number) => string]> = {
        [C.ADD]: ["add", dec],
        [C.SUB]: ["sub", dec],
        [C.MUL]: ["mul", dec],
        [C.DIV]: ["div", dec],
        [C.MOD]: ["mod", dec],
        [C.AND]: ["and", hex],
        [C.OR]: ["or", hex],
        [C.XOR]: ["xor", hex],
        [C.LSH]: ["lsh", dec],
        [C.RSH]: ["rsh", dec],
      };
      if (code === (C.ALU | C.NEG)) return { op: "neg", operand: "" };
      const entry = names[C.OP(code)];
      if (entry) return { op: entry[0], operand: C.SRC(code) === C.X ? "x" : entry[1](k) };
      break;
    }
    case C.MISC:
      if (code === (C.MISC | C.TAX)) return { op: "tax", operand: "" };
      if (code === (C.MISC | C.TXA)) return { op: "txa", operand: "" };
      break;
  }
  return { op: "unimp", operand: `0x${code.toString(16)}` };
}

/** `tcpdump -d`: `(000) ldh      [12]` …, jumps with their absolute targets. */
export function formatD(program: readonly CbpfInsn[]): string {
  return program
    .map((insn, n) => {
      const { op, operand, jump } = image(insn, n);
      const index = `(${String(n).padStart(3, "0")})`;
      return jump
        ? `${index} ${op.padEnd(8)} ${operand.padEnd(16)} jt ${jump[0]}\tjf ${jump[1]}\n`
        : `${index} ${op.padEnd(8)} ${operand}\n`;
    })
    .join("");
}

/** `tcpdump -dd`: `{ 0x28, 0, 0, 0x0000000c },` per instruction. */
export function formatDD(program: readonly CbpfInsn[]): string {
  return program.map((i) => `{ 0x${i.code.toString(16)}, ${i.jt}, ${i.jf}, 0x${(i.k >>> 0).toString(16).padStart(8, "0")} },\n`).join("");
}

/** `tcpdump -ddd`: the count, then `code jt jf k` in decimal per instruction. */
export function formatDDD(program: readonly CbpfInsn[]): string {
  return `${program.length}\n${program.map((i) => `${i.code} ${i.jt} ${i.jf} ${i.k >>> 0}\n`).join("")}`;
}
