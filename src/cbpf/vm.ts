/**
 * The classic BPF machine with libpcap's bpf_filter semantics: A, X and M[0..15] (32-bit), packet loads in
 * network byte order that end the filter with 0 when they fall outside the captured bytes, `#pktlen` as the
 * packet's length on the wire, division or modulo by zero ending the filter with 0. `validate` refuses what
 * bpf_validate refuses (unknown codes, jumps out of the program, scratch indexes past 15, constant division
 * by zero, a program that does not end in a return).
 */
import { TsbpfError } from "../errors.js";
import type { CbpfInsn } from "./insn.js";
import * as C from "./insn.js";

export class CbpfValidationError extends TsbpfError {
  constructor(
    message: string,
    readonly pc: number,
  ) {
    super("ECBPF", `instruction ${pc}: ${message}`);
  }
}

const MAX_INSNS = 4096;

export function validateCbpf(program: readonly CbpfInsn[]): void {
  if (program.length === 0 || program.length > MAX_INSNS)
    throw new CbpfValidationError(`${program.length} instructions (1-${MAX_INSNS})`, 0);
  program.forEach((p, pc) => {
    const code = p.code;
    const bad = (why: string): never => {
      throw new CbpfValidationError(why, pc);
    };
    switch (C.CLASS(code)) {
      case C.LD:
      case C.LDX:
        switch (C.MODE(code)) {
          case C.IMM:
          case C.ABS:
          case C.IND:
          case C.LEN:
          case C.MSH:
            break;
          case C.MEM:
            if (p.k >= C.MEMWORDS) bad(`scratch index ${p.k} (0-15)`);
            break;
          default:
            bad(`unknown load mode 0x${C.MODE(code).toString(16)}`);
        }
        break;
      case C.ST:
      case C.STX:
        if (p.k >= C.MEMWORDS) bad(`scratch index ${p.k} (0-15)`);
        break;
      case C.ALU:
        switch (C.OP(code)) {
          case C.ADD:
          case C.SUB:
          case C.MUL:
          case C.OR:
          case C.AND:
          case C.XOR:
          case C.LSH:
          case C.RSH:
          case C.NEG:
            break;
          case C.DIV:
          case C.MOD:
            if (C.SRC(code) === C.K && p.k === 0) bad("division by constant zero");
            break;
          default:
            bad(`unknown ALU operation 0x${code.toString(16)}`);
        }
        break;
      case C.JMP: {
        const from = pc + 1;
        if (C.OP(code) === C.JA) {
          // in 32-bit arithmetic, as libpcap checks it (its unoptimized code holds unreachable jumps that wrap)
          if ((from + p.k) >>> 0 >= program.length) bad(`jump of ${p.k} past the end`);
        } else if (from + p.jt >= program.length || from + p.jf >= program.length) bad("conditional jump past the end");
        else if (![C.JEQ, C.JGT, C.JGE, C.JSET].includes(C.OP(code))) bad(`unknown jump 0x${code.toString(16)}`);
        break;
      }
      case C.RET:
      case C.MISC:
        break;
    }
  });
  const last = program[program.length - 1] as CbpfInsn;
  if (C.CLASS(last.code) !== C.RET) throw new CbpfValidationError("the program must end with a return", program.length - 1);
}

/**
 * Runs a validated filter on a packet: `packet` holds the captured bytes, `wirelen` the length on the wire.
 * Returns the filter's result (0: drop; otherwise the number of bytes to keep).
 */
export function runCbpf(program: readonly CbpfInsn[], packet: Uint8Array, wirelen = packet.length): number {
  const buflen = packet.length;
  const view = new DataView(packet.buffer, packet.byteOffset, packet.length);
  const mem = new Uint32Array(C.MEMWORDS);
  let a = 0;
  let x = 0;
  let pc = 0;
  for (;;) {
    const p = program[pc++] as CbpfInsn;
    const k = p.k;
    switch (p.code) {
      case C.RET | C.K:
        return k >>> 0;
      case C.RET | C.A:
        return a >>> 0;
      case C.LD | C.W | C.ABS:
        if (k > buflen - 4 || buflen < 4) return 0;
        a = view.getUint32(k);
        break;
      case C.LD | C.H | C.ABS:
        if (k > buflen - 2 || buflen < 2) return 0;
        a = view.getUint16(k);
        break;
      case C.LD | C.B | C.ABS:
        if (k >= buflen) return 0;
        a = packet[k] as number;
        break;
      case C.LD | C.W | C.LEN:
        a = wirelen;
        break;
      case C.LDX | C.W | C.LEN:
        x = wirelen;
        break;
      case C.LD | C.W | C.IND: {
        const at = (x >>> 0) + k;
        if (at > buflen - 4 || buflen < 4 || at > 0xffffffff) return 0;
        a = view.getUint32(at);
        break;
      }
      case C.LD | C.H | C.IND: {
        const at = (x >>> 0) + k;
        if (at > buflen - 2 || buflen < 2 || at > 0xffffffff) return 0;
        a = view.getUint16(at);
        break;
      }
      case C.LD | C.B | C.IND: {
        const at = (x >>> 0) + k;
        if (at >= buflen) return 0;
        a = packet[at] as number;
        break;
      }
      case C.LDX | C.B | C.MSH:
        if (k >= buflen) return 0;
        x = ((packet[k] as number) & 0xf) << 2;
        break;
      case C.LD | C.IMM:
        a = k;
        break;
      case C.LDX | C.IMM:
        x = k;
        break;
      case C.LD | C.MEM:
        a = mem[k] as number;
        break;
      case C.LDX | C.MEM:
        x = mem[k] as number;
        break;
      case C.ST:
        mem[k] = a;
        break;
      case C.STX:
        mem[k] = x;
        break;
      case C.JMP | C.JA:
        pc = (pc + k) >>> 0;
        break;
      case C.JMP | C.JGT | C.K:
        pc += a >>> 0 > k >>> 0 ? p.jt : p.jf;
        break;
      case C.JMP | C.JGE | C.K:
        pc += a >>> 0 >= k >>> 0 ? p.jt : p.jf;
        break;
      case C.JMP | C.JEQ | C.K:
        pc += a >>> 0 === k >>> 0 ? p.jt : p.jf;
        break;
      case C.JMP | C.JSET | C.K:
        pc += (a & k) !== 0 ? p.jt : p.jf;
        break;
      case C.JMP | C.JGT | C.X:
        pc += a >>> 0 > x >>> 0 ? p.jt : p.jf;
        break;
      case C.JMP | C.JGE | C.X:
        pc += a >>> 0 >= x >>> 0 ? p.jt : p.jf;
        break;
      case C.JMP | C.JEQ | C.X:
        pc += a >>> 0 === x >>> 0 ? p.jt : p.jf;
        break;
      case C.JMP | C.JSET | C.X:
        pc += (a & x) !== 0 ? p.jt : p.jf;
        break;
      case C.ALU | C.ADD | C.X:
        a = (a + x) >>> 0;
        break;
      case C.ALU | C.SUB | C.X:
        a = (a - x) >>> 0;
        break;
      case C.ALU | C.MUL | C.X:
        a = Math.imul(a, x) >>> 0;
        break;
      case C.ALU | C.DIV | C.X:
        if (x >>> 0 === 0) return 0;
        a = Math.floor((a >>> 0) / (x >>> 0)) >>> 0;
        break;
      case C.ALU | C.MOD | C.X:
        if (x >>> 0 === 0) return 0;
        a = (a >>> 0) % (x >>> 0);
        break;
      case C.ALU | C.AND | C.X:
        a = (a & x) >>> 0;
        break;
      case C.ALU | C.OR | C.X:
        a = (a | x) >>> 0;
        break;
      case C.ALU | C.XOR | C.X:
        a = (a ^ x) >>> 0;
        break;
      case C.ALU | C.LSH | C.X:
        a = x >>> 0 >= 32 ? 0 : (a << x) >>> 0;
        break;
      case C.ALU | C.RSH | C.X:
        a = x >>> 0 >= 32 ? 0 : a >>> x;
        break;
      case C.ALU | C.ADD | C.K:
        a = (a + k) >>> 0;
        break;
      case C.ALU | C.SUB | C.K:
        a = (a - k) >>> 0;
        break;
      case C.ALU | C.MUL | C.K:
        a = Math.imul(a, k) >>> 0;
        break;
      case C.ALU | C.DIV | C.K:
        a = Math.floor((a >>> 0) / (k >>> 0)) >>> 0;
        break;
      case C.ALU | C.MOD | C.K:
        a = (a >>> 0) % (k >>> 0);
        break;
      case C.ALU | C.AND | C.K:
        a = (a & k) >>> 0;
        break;
      case C.ALU | C.OR | C.K:
        a = (a | k) >>> 0;
        break;
      case C.ALU | C.XOR | C.K:
        a = (a ^ k) >>> 0;
        break;
      case C.ALU | C.LSH | C.K:
        a = k >>> 0 >= 32 ? 0 : (a << k) >>> 0;
        break;
      case C.ALU | C.RSH | C.K:
        a = k >>> 0 >= 32 ? 0 : a >>> k;
        break;
      case C.ALU | C.NEG:
        a = -a >>> 0;
        break;
      case C.MISC | C.TAX:
        x = a;
        break;
      case C.MISC | C.TXA:
        a = x;
        break;
      default:
        throw new CbpfValidationError(`unknown instruction 0x${p.code.toString(16)} (validate the program first)`, pc - 1);
    }
  }
}
