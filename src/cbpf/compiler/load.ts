/**
 * Loads and comparisons relative to a header (libpcap's gen_load_a / gen_ncmp family): the primitives every
 * other generator is built from. An offset relative to a variable-length header loads the header's variable
 * part into X from its scratch register and uses an indirect load.
 */

import * as C from "../insn.js";
import { type Block, genAnd, genNot, jmp, newBlock, newStmt, type Slist, sappend } from "./blocks.js";
import type { AbsOffset, CompilerState } from "./state.js";

export enum Off {
  PACKET,
  LINKHDR,
  PREVLINKHDR,
  LLC,
  PREVMPLSHDR,
  LINKTYPE,
  LINKPL,
  LINKPL_NOSNAP,
  TRAN_IPV4,
  TRAN_IPV6,
}

const u32 = (v: number): number => v >>> 0;

/** Code putting the variable part of `off` into X (allocating its register on first use), or null. */
export function absOffsetVarpart(cs: CompilerState, off: AbsOffset): Slist | null {
  if (!off.isVariable) return null;
  if (off.reg === -1) off.reg = cs.allocReg();
  return newStmt(C.LDX | C.MEM, off.reg);
}

function loadAbsOffsetRel(cs: CompilerState, off: AbsOffset, offset: number, size: number): Slist {
  const s = absOffsetVarpart(cs, off);
  if (s) {
    sappend(s, newStmt(C.LD | C.IND | size, u32(off.constantPart + offset)));
    return s;
  }
  return newStmt(C.LD | C.ABS | size, u32(off.constantPart + offset));
}

/** X = length of the IPv4 header (plus the variable part of the link-layer payload's offset). */
export function loadxIphdrlen(cs: CompilerState): Slist {
  const s = absOffsetVarpart(cs, cs.offLinkpl);
  if (s) {
    sappend(s, newStmt(C.LD | C.IND | C.B, u32(cs.offLinkpl.constantPart + cs.offNl)));
    sappend(s, newStmt(C.ALU | C.AND | C.K, 0xf));
    sappend(s, newStmt(C.ALU | C.LSH | C.K, 2));
    sappend(s, newStmt(C.ALU | C.ADD | C.X));
    sappend(s, newStmt(C.MISC | C.TAX));
    return s;
  }
  return newStmt(C.LDX | C.MSH | C.B, u32(cs.offLinkpl.constantPart + cs.offNl));
}

export function loadA(cs: CompilerState, rel: Off, offset: number, size: number): Slist {
  switch (rel) {
    case Off.PACKET:
      return newStmt(C.LD | C.ABS | size, u32(offset));
    case Off.LINKHDR:
      return loadAbsOffsetRel(cs, cs.offLinkhdr, offset, size);
    case Off.PREVLINKHDR:
      return loadAbsOffsetRel(cs, cs.offPrevlinkhdr, offset, size);
    case Off.LLC:
      return loadAbsOffsetRel(cs, cs.offLinkpl, offset, size);
    case Off.PREVMPLSHDR:
      return loadAbsOffsetRel(cs, cs.offLinkpl, cs.offNl - 4 + offset, size);
    case Off.LINKPL:
      return loadAbsOffsetRel(cs, cs.offLinkpl, cs.offNl + offset, size);
    case Off.LINKPL_NOSNAP:
      return loadAbsOffsetRel(cs, cs.offLinkpl, cs.offNlNosnap + offset, size);
    case Off.LINKTYPE:
      return loadAbsOffsetRel(cs, cs.offLinktype, offset, size);
    case Off.TRAN_IPV4: {
      const s = loadxIphdrlen(cs);
      sappend(s, newStmt(C.LD | C.IND | size, u32(cs.offLinkpl.constantPart + cs.offNl + offset)));
      return s;
    }
    case Off.TRAN_IPV6:
      return loadAbsOffsetRel(cs, cs.offLinkpl, cs.offNl + 40 + offset, size);
  }
}

/** (field & mask) jtype v, negated for `reverse` on JGT/JGE. */
export function genNcmp(
  cs: CompilerState,
  rel: Off,
  offset: number,
  size: number,
  mask: number,
  jtype: number,
  reverse: boolean,
  v: number,
): Block {
  const s = loadA(cs, rel, offset, size);
  if (u32(mask) !== 0xffffffff) sappend(s, newStmt(C.ALU | C.AND | C.K, u32(mask)));
  const b = newBlock(jmp(jtype), u32(v));
  b.stmts = s;
  if (reverse && (jtype === C.JGT || jtype === C.JGE)) genNot(b);
  return b;
}

export const genCmp = (cs: CompilerState, rel: Off, offset: number, size: number, v: number): Block =>
  genNcmp(cs, rel, offset, size, 0xffffffff, C.JEQ, false, v);
export const genCmpGt = (cs: CompilerState, rel: Off, offset: number, size: number, v: number): Block =>
  genNcmp(cs, rel, offset, size, 0xffffffff, C.JGT, false, v);
export const genCmpGe = (cs: CompilerState, rel: Off, offset: number, size: number, v: number): Block =>
  genNcmp(cs, rel, offset, size, 0xffffffff, C.JGE, false, v);
export const genCmpLt = (cs: CompilerState, rel: Off, offset: number, size: number, v: number): Block =>
  genNcmp(cs, rel, offset, size, 0xffffffff, C.JGE, true, v);
export const genCmpLe = (cs: CompilerState, rel: Off, offset: number, size: number, v: number): Block =>
  genNcmp(cs, rel, offset, size, 0xffffffff, C.JGT, true, v);
export const genMcmp = (cs: CompilerState, rel: Off, offset: number, size: number, v: number, mask: number): Block =>
  genNcmp(cs, rel, offset, size, mask, C.JEQ, false, v);

/** Compare `bytes` at offset, last word first (libpcap's gen_bcmp). */
export function genBcmp(cs: CompilerState, rel: Off, offset: number, bytes: Uint8Array): Block {
  let size = bytes.length;
  let b: Block | null = null;
  const add = (tmp: Block): void => {
    if (b) genAnd(b, tmp);
    b = tmp;
  };
  while (size >= 4) {
    const p = size - 4;
    const w = ((bytes[p] << 24) | (bytes[p + 1] << 16) | (bytes[p + 2] << 8) | bytes[p + 3]) >>> 0;
    add(genCmp(cs, rel, offset + size - 4, C.W, w));
    size -= 4;
  }
  while (size >= 2) {
    const p = size - 2;
    add(genCmp(cs, rel, offset + size - 2, C.H, (bytes[p] << 8) | bytes[p + 1]));
    size -= 2;
  }
  if (size > 0) add(genCmp(cs, rel, offset, C.B, bytes[0]));
  if (!b) throw new Error("genBcmp: empty comparison");
  return b;
}

function genUncond(rsense: boolean): Block {
  const b = newBlock(jmp(C.JEQ));
  b.stmts = newStmt(C.LD | C.IMM, rsense ? 0 : 1);
  return b;
}

export const genTrue = (): Block => genUncond(true);
export const genFalse = (): Block => genUncond(false);
