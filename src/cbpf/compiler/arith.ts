/**
 * Arithmetic expressions (`ip[2:2] - len > 4`): each value is computed into a scratch register; a
 * relation loads both sides and compares. Packet accesses such as `tcp[13]` add the protocol test that
 * makes the access meaningful.
 */

import * as C from "../insn.js";
import { type Block, genAnd, genNot, jmp, newBlock, newStmt, type Slist, sappend } from "./blocks.js";
import { Q } from "./constants.js";
import { absOffsetVarpart, genCmp, genCmpGt, genCmpLt, loadxIphdrlen, Off } from "./load.js";
import { genIpfrag, genProtoAbbrev } from "./proto.js";
import { bpfError, type CompilerState, DLT } from "./state.js";

export interface Arth {
  s: Slist;
  b: Block | null;
  regno: number;
}

const xferToX = (a: Arth): Slist => newStmt(C.LDX | C.MEM, a.regno);
const xferToA = (a: Arth): Slist => newStmt(C.LD | C.MEM, a.regno);

/** X = the variable part of `off` plus the index's value, or just the index. */
function indexIntoX(inst: Arth, varpart: Slist | null): Slist {
  if (varpart) {
    sappend(varpart, xferToA(inst));
    sappend(varpart, newStmt(C.ALU | C.ADD | C.X));
    sappend(varpart, newStmt(C.MISC | C.TAX));
    return varpart;
  }
  return xferToX(inst);
}

export function genLoad(cs: CompilerState, proto: number, inst: Arth, size: number): Arth {
  const regno = cs.allocReg();
  cs.freeReg(inst.regno);
  let sz: number;
  switch (size) {
    case 1:
      sz = C.B;
      break;
    case 2:
      sz = C.H;
      break;
    case 4:
      sz = C.W;
      break;
    default:
      return bpfError("data size must be 1, 2, or 4");
  }
  switch (proto) {
    case Q.RADIO: {
      if (cs.linktype !== DLT.IEEE802_11_RADIO_AVS && cs.linktype !== DLT.IEEE802_11_RADIO && cs.linktype !== DLT.PRISM_HEADER)
        bpfError("radio information not present in capture");
      const s = xferToX(inst);
      sappend(s, newStmt(C.LD | C.IND | sz));
      sappend(inst.s, s);
      break;
    }
    case Q.LINK: {
      const s = indexIntoX(inst, absOffsetVarpart(cs, cs.offLinkhdr));
      sappend(s, newStmt(C.LD | C.IND | sz, cs.offLinkhdr.constantPart));
      sappend(inst.s, s);
      break;
    }
    case Q.IP:
    case Q.ARP:
    case Q.RARP:
    case Q.ATALK:
    case Q.DECNET:
    case Q.SCA:
    case Q.LAT:
    case Q.MOPRC:
    case Q.MOPDL:
    case Q.IPV6: {
      const s = indexIntoX(inst, absOffsetVarpart(cs, cs.offLinkpl));
      sappend(s, newStmt(C.LD | C.IND | sz, (cs.offLinkpl.constantPart + cs.offNl) >>> 0));
      sappend(inst.s, s);
      const b = genProtoAbbrev(cs, proto);
      if (inst.b) genAnd(inst.b, b);
      inst.b = b;
      break;
    }
    case Q.SCTP:
    case Q.TCP:
    case Q.UDP:
    case Q.ICMP:
    case Q.IGMP:
    case Q.IGRP:
    case Q.PIM:
    case Q.VRRP:
    case Q.CARP: {
      const s = loadxIphdrlen(cs);
      sappend(s, xferToA(inst));
      sappend(s, newStmt(C.ALU | C.ADD | C.X));
      sappend(s, newStmt(C.MISC | C.TAX));
      sappend(s, newStmt(C.LD | C.IND | sz, (cs.offLinkpl.constantPart + cs.offNl) >>> 0));
      sappend(inst.s, s);
      const pa = genProtoAbbrev(cs, proto);
      const b = genIpfrag(cs);
      genAnd(pa, b);
      if (inst.b) genAnd(inst.b, b);
      genAnd(genProtoAbbrev(cs, Q.IP), b);
      inst.b = b;
      break;
    }
    case Q.ICMPV6: {
      let b = genProtoAbbrev(cs, Q.IPV6);
      if (inst.b) genAnd(inst.b, b);
      inst.b = b;
      b = genCmp(cs, Off.LINKPL, 6, C.B, 58);
      genAnd(inst.b, b);
      inst.b = b;
      const s = indexIntoX(inst, absOffsetVarpart(cs, cs.offLinkpl));
      sappend(s, newStmt(C.LD | C.IND | sz, (cs.offLinkpl.constantPart + cs.offNl + 40) >>> 0));
      sappend(inst.s, s);
      break;
    }
    default:
      return bpfError("unsupported index operation");
  }
  inst.regno = regno;
  sappend(inst.s, newStmt(C.ST, regno));
  return inst;
}

export function genRelation(cs: CompilerState, code: number, a0: Arth, a1: Arth, reversed: boolean): Block {
  const s0 = xferToX(a1);
  const s1 = xferToA(a0);
  let b: Block;
  if (code === C.JEQ) {
    const s2 = newStmt(C.ALU | C.SUB | C.X);
    b = newBlock(jmp(code));
    sappend(s1, s2);
  } else b = newBlock(C.JMP | code | C.X);
  if (reversed) genNot(b);
  sappend(s0, s1);
  sappend(a1.s, s0);
  sappend(a0.s, a1.s);
  b.stmts = a0.s;
  cs.freeReg(a0.regno);
  cs.freeReg(a1.regno);
  let tmp: Block | null;
  if (a0.b) {
    if (a1.b) {
      genAnd(a0.b, a1.b);
      tmp = a1.b;
    } else tmp = a0.b;
  } else tmp = a1.b;
  if (tmp) genAnd(tmp, b);
  return b;
}

export function genLoadlen(cs: CompilerState): Arth {
  const regno = cs.allocReg();
  const s = newStmt(C.LD | C.LEN);
  s.next = newStmt(C.ST, regno);
  return { s, b: null, regno };
}

export function genLoadi(cs: CompilerState, val: number): Arth {
  const regno = cs.allocReg();
  const s = newStmt(C.LD | C.IMM, val >>> 0);
  s.next = newStmt(C.ST, regno);
  return { s, b: null, regno };
}

export function genNeg(a: Arth): Arth {
  sappend(a.s, xferToA(a));
  sappend(a.s, newStmt(C.ALU | C.NEG));
  sappend(a.s, newStmt(C.ST, a.regno));
  return a;
}

export function genArth(cs: CompilerState, code: number, a0: Arth, a1: Arth): Arth {
  // Checked against the right operand's first statement, so `x / ip[0]` (whose index is the constant 0)
  // counts as a division by zero, as in libpcap.
  const first = a1.s.s;
  const isImm = first.code === (C.LD | C.IMM);
  if (code === C.DIV && isImm && first.k === 0) bpfError("division by zero");
  if (code === C.MOD && isImm && first.k === 0) bpfError("modulus by zero");
  if ((code === C.LSH || code === C.RSH) && isImm && first.k > 31) bpfError("shift by more than 31 bits");
  const s0 = xferToX(a1);
  const s1 = xferToA(a0);
  const s2 = newStmt(C.ALU | C.X | code);
  sappend(s1, s2);
  sappend(s0, s1);
  sappend(a1.s, s0);
  sappend(a0.s, a1.s);
  cs.freeReg(a0.regno);
  cs.freeReg(a1.regno);
  const st = newStmt(C.ST);
  a0.regno = st.s.k = cs.allocReg();
  sappend(a0.s, st);
  return a0;
}

function genLen(jtype: number, n: number): Block {
  const b = newBlock(jmp(jtype), n >>> 0);
  b.stmts = newStmt(C.LD | C.LEN);
  return b;
}

export const genGreater = (n: number): Block => genLen(C.JGE, n);

export function genLess(n: number): Block {
  const b = genLen(C.JGT, n);
  genNot(b);
  return b;
}

export function genByteop(cs: CompilerState, op: string, idx: number, val: number): Block {
  switch (op) {
    case "=":
      return genCmp(cs, Off.LINKHDR, idx, C.B, val);
    case "<":
      return genCmpLt(cs, Off.LINKHDR, idx, C.B, val);
    case ">":
      return genCmpGt(cs, Off.LINKHDR, idx, C.B, val);
  }
  const s = newStmt(C.ALU | (op === "|" ? C.OR : C.AND) | C.K, val >>> 0);
  const b = newBlock(jmp(C.JEQ));
  b.stmts = s;
  genNot(b);
  return b;
}
