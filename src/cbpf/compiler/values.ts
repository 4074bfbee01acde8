/**
 * Value numbering for the optimizer: each computed value gets a number (equal expressions, equal numbers),
 * constants are tracked, and statements are folded or rewritten as their operands become known
 * (libpcap's F/K tables, fold_op and opt_stmt).
 */

import * as C from "../insn.js";
import type { Stmt } from "./blocks.js";
import { bpfError } from "./state.js";

export const NOP = -1;
export const A_ATOM = C.MEMWORDS;
export const X_ATOM = C.MEMWORDS + 1;
export const N_ATOMS = C.MEMWORDS + 2;
export const VAL_UNKNOWN = 0;
const MODULUS = 213;

interface ValNode {
  code: number;
  v0: number;
  v1: number;
  val: number;
  next: ValNode | null;
}

export class ValueNumbering {
  private readonly hashtbl: (ValNode | null)[] = new Array(MODULUS).fill(null);
  private curval = 0;
  private vmap: { isConst: boolean; constVal: number }[] = [];

  /** `onChange` records that a pass changed the code (statements, not only branches). */
  constructor(private readonly onChange: () => void) {}

  init(): void {
    this.curval = 0;
    this.vmap = [{ isConst: false, constVal: 0 }];
    this.hashtbl.fill(null);
  }

  F(code: number, v0: number, v1: number): number {
    const hash = ((code ^ (v0 << 4) ^ (v1 << 8)) >>> 0) % MODULUS;
    for (let p = this.hashtbl[hash] ?? null; p; p = p.next) if (p.code === code && p.v0 === v0 && p.v1 === v1) return p.val;
    const val = ++this.curval;
    const isImm = C.MODE(code) === C.IMM && (C.CLASS(code) === C.LD || C.CLASS(code) === C.LDX);
    this.vmap[val] = { isConst: isImm, constVal: isImm ? v0 >>> 0 : 0 };
    this.hashtbl[hash] = { code, v0, v1, val, next: this.hashtbl[hash] ?? null };
    return val;
  }

  K(i: number): number {
    return this.F(C.LD | C.IMM | C.W, i >>> 0, 0);
  }

  vm(v: number): { isConst: boolean; constVal: number } {
    return this.vmap[v] ?? { isConst: false, constVal: 0 };
  }

  vstore(s: Stmt, val: number[], atom: number, newval: number, alter: boolean): void {
    if (alter && newval !== VAL_UNKNOWN && val[atom] === newval) s.code = NOP;
    else val[atom] = newval;
  }

  foldOp(s: Stmt, v0: number, v1: number): void {
    let a = this.vm(v0).constVal >>> 0;
    const b = this.vm(v1).constVal >>> 0;
    switch (C.OP(s.code)) {
      case C.ADD:
        a = (a + b) >>> 0;
        break;
      case C.SUB:
        a = (a - b) >>> 0;
        break;
      case C.MUL:
        a = Math.imul(a, b) >>> 0;
        break;
      case C.DIV:
        if (b === 0) bpfError("division by zero");
        a = Math.floor(a / b) >>> 0;
        break;
      case C.MOD:
        if (b === 0) bpfError("modulus by zero");
        a = (a % b) >>> 0;
        break;
      case C.AND:
        a = (a & b) >>> 0;
        break;
      case C.OR:
        a = (a | b) >>> 0;
        break;
      case C.XOR:
        a = (a ^ b) >>> 0;
        break;
      case C.LSH:
        a = b < 32 ? (a << b) >>> 0 : 0;
        break;
      case C.RSH:
        a = b < 32 ? a >>> b : 0;
        break;
      default:
        throw new Error("optimizer: bad fold");
    }
    s.k = a;
    s.code = C.LD | C.IMM;
    this.onChange();
  }

  optStmt(s: Stmt, val: number[], alter: boolean): void {
    const code = s.code;
    switch (code) {
      case C.LD | C.ABS | C.W:
      case C.LD | C.ABS | C.H:
      case C.LD | C.ABS | C.B:
        this.vstore(s, val, A_ATOM, this.F(code, s.k, 0), alter);
        return;
      case C.LD | C.IND | C.W:
      case C.LD | C.IND | C.H:
      case C.LD | C.IND | C.B: {
        let v = val[X_ATOM] ?? 0;
        if (alter && this.vm(v).isConst) {
          s.code = C.LD | C.ABS | C.SIZE(s.code);
          s.k = (s.k + this.vm(v).constVal) >>> 0;
          v = this.F(s.code, s.k, 0);
          this.onChange();
        } else v = this.F(s.code, s.k, v);
        this.vstore(s, val, A_ATOM, v, alter);
        return;
      }
      case C.LD | C.LEN:
        this.vstore(s, val, A_ATOM, this.F(code, 0, 0), alter);
        return;
      case C.LD | C.IMM:
        this.vstore(s, val, A_ATOM, this.K(s.k), alter);
        return;
      case C.LDX | C.IMM:
        this.vstore(s, val, X_ATOM, this.K(s.k), alter);
        return;
      case C.LDX | C.MSH | C.B:
        this.vstore(s, val, X_ATOM, this.F(code, s.k, 0), alter);
        return;
      case C.ALU | C.NEG: {
        const a = val[A_ATOM] ?? 0;
        if (alter && this.vm(a).isConst) {
          s.code = C.LD | C.IMM;
          s.k = (0 - this.vm(a).constVal) >>> 0;
          val[A_ATOM] = this.K(s.k);
        } else val[A_ATOM] = this.F(code, a, 0);
        return;
      }
      case C.MISC | C.TXA:
        this.vstore(s, val, A_ATOM, val[X_ATOM] ?? 0, alter);
        return;
      case C.LD | C.MEM:
      case C.LDX | C.MEM: {
        const v = val[s.k] ?? 0;
        const isX = code === (C.LDX | C.MEM);
        if (alter && this.vm(v).isConst) {
          s.code = isX ? C.LDX | C.IMM : C.LD | C.IMM;
          s.k = this.vm(v).constVal;
          this.onChange();
        }
        this.vstore(s, val, isX ? X_ATOM : A_ATOM, v, alter);
        return;
      }
      case C.MISC | C.TAX:
        this.vstore(s, val, X_ATOM, val[A_ATOM] ?? 0, alter);
        return;
      case C.ST:
        this.vstore(s, val, s.k, val[A_ATOM] ?? 0, alter);
        return;
      case C.STX:
        this.vstore(s, val, s.k, val[X_ATOM] ?? 0, alter);
        return;
    }
    if (C.CLASS(code) !== C.ALU) return;
    const op = C.OP(code);
    if (op === C.NEG) return;
    if (C.SRC(code) === C.K) {
      if (alter) {
        if (s.k === 0) {
          if (op === C.ADD || op === C.LSH || op === C.RSH || op === C.OR || op === C.XOR) {
            s.code = NOP;
            return;
          }
          if (op === C.MUL || op === C.AND) {
            s.code = C.LD | C.IMM;
            val[A_ATOM] = this.K(s.k);
            return;
          }
          if (op === C.DIV) bpfError("division by zero");
          if (op === C.MOD) bpfError("modulus by zero");
        }
        if (this.vm(val[A_ATOM] ?? 0).isConst) {
          this.foldOp(s, val[A_ATOM] ?? 0, this.K(s.k));
          val[A_ATOM] = this.K(s.k);
          return;
        }
      }
      val[A_ATOM] = this.F(s.code, val[A_ATOM] ?? 0, this.K(s.k));
      return;
    }
    const a = val[A_ATOM] ?? 0;
    const x = val[X_ATOM] ?? 0;
    if (alter && this.vm(x).isConst) {
      if (this.vm(a).isConst) {
        this.foldOp(s, a, x);
        val[A_ATOM] = this.K(s.k);
      } else {
        s.code = C.ALU | C.K | op;
        s.k = this.vm(x).constVal;
        if ((op === C.LSH || op === C.RSH) && s.k > 31) bpfError("shift by more than 31 bits");
        this.onChange();
        val[A_ATOM] = this.F(s.code, a, this.K(s.k));
      }
      return;
    }
    if (alter && this.vm(a).isConst && this.vm(a).constVal === 0) {
      if (op === C.ADD || op === C.OR || op === C.XOR) {
        s.code = C.MISC | C.TXA;
        this.vstore(s, val, A_ATOM, x, alter);
        return;
      }
      if (op === C.MUL || op === C.DIV || op === C.MOD || op === C.AND || op === C.LSH || op === C.RSH) {
        s.code = C.LD | C.IMM;
        s.k = 0;
        this.vstore(s, val, A_ATOM, this.K(s.k), alter);
        return;
      }
    }
    val[A_ATOM] = this.F(s.code, a, x);
  }
}
