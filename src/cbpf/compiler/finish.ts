/**
 * Closing the program and laying it out: the code that computes variable header lengths goes in front of
 * the first block, the true and false exits become `ret #snaplen` and `ret #0`, and the block graph is
 * linearized as libpcap's icode_to_fcode does (depth-first, false branch first, filling from the end;
 * a branch too long for 8 bits gets an extra `ja`).
 */

import type { CbpfInsn } from "../insn.js";
import * as C from "../insn.js";
import { type Block, backpatch, genAnd, newBlock, newStmt, nextMark, type Slist, sappend } from "./blocks.js";
import { bpfError, type CompilerState, DLT } from "./state.js";

function radiotapPrefixLen(cs: CompilerState): Slist | null {
  if (cs.offLinkhdr.reg === -1) return null;
  const s = newStmt(C.LD | C.B | C.ABS, 3);
  sappend(s, newStmt(C.ALU | C.LSH | C.K, 8));
  sappend(s, newStmt(C.MISC | C.TAX));
  sappend(s, newStmt(C.LD | C.B | C.ABS, 2));
  sappend(s, newStmt(C.ALU | C.OR | C.X));
  sappend(s, newStmt(C.ST, cs.offLinkhdr.reg));
  sappend(s, newStmt(C.MISC | C.TAX));
  return s;
}

function pflogPrefixLen(cs: CompilerState): Slist | null {
  if (cs.offLinkpl.reg === -1) return null;
  const s = newStmt(C.LD | C.B | C.ABS, 0);
  sappend(s, newStmt(C.ALU | C.ADD | C.K, 3));
  sappend(s, newStmt(C.ALU | C.AND | C.K, 0xfffffffc));
  sappend(s, newStmt(C.ST, cs.offLinkpl.reg));
  sappend(s, newStmt(C.MISC | C.TAX));
  return s;
}

const SWAP = (y: number): number => (((y & 0xff) << 24) | ((y & 0xff00) << 8) | ((y >>> 8) & 0xff00) | ((y >>> 24) & 0xff)) >>> 0;

/** The 802.11 header length (24, +2 with QoS, rounded up for Atheros padding) into off_linkpl's register. */
function load80211HeaderLen(cs: CompilerState, prefix: Slist | null, snext: Slist | null): Slist | null {
  if (cs.offLinkpl.reg === -1) return prefix;
  cs.noOptimize = true;
  const s = prefix ?? newStmt(C.LDX | C.IMM, cs.offOutermostlinkhdr.constantPart);
  const add = (code: number, k = 0): Slist => {
    const x = newStmt(code, k);
    sappend(s, x);
    return x;
  };
  add(C.MISC | C.TXA);
  add(C.ALU | C.ADD | C.K, 24);
  add(C.ST, cs.offLinkpl.reg);
  add(C.LD | C.IND | C.B, 0);
  const data1 = add(C.JMP | C.JSET | C.K, 0x08);
  const data2 = add(C.JMP | C.JSET | C.K, 0x04);
  data1.s.jt = data2;
  data1.s.jf = snext;
  data2.s.jt = snext;
  const qos = add(C.JMP | C.JSET | C.K, 0x80);
  data2.s.jf = qos;
  qos.s.jt = add(C.LD | C.MEM, cs.offLinkpl.reg);
  add(C.ALU | C.ADD | C.K, 2);
  add(C.ST, cs.offLinkpl.reg);
  if (cs.linktype === DLT.IEEE802_11_RADIO) {
    qos.s.jf = add(C.LD | C.ABS | C.W, 4);
    const flags = add(C.JMP | C.JSET | C.K, SWAP(0x00000002));
    flags.s.jf = snext;
    const ext = add(C.JMP | C.JSET | C.K, SWAP(0x80000000));
    flags.s.jt = ext;
    ext.s.jt = snext;
    const tsft = add(C.JMP | C.JSET | C.K, SWAP(0x00000001));
    ext.s.jf = tsft;
    tsft.s.jt = add(C.LD | C.ABS | C.B, 16);
    const tsftPad = add(C.JMP | C.JSET | C.K, 0x20);
    tsft.s.jf = add(C.LD | C.ABS | C.B, 8);
    const noTsftPad = add(C.JMP | C.JSET | C.K, 0x20);
    const roundup = add(C.LD | C.MEM, cs.offLinkpl.reg);
    add(C.ALU | C.ADD | C.K, 3);
    add(C.ALU | C.AND | C.K, ~3 >>> 0);
    add(C.ST, cs.offLinkpl.reg);
    tsftPad.s.jt = roundup;
    tsftPad.s.jf = snext;
    noTsftPad.s.jt = roundup;
    noTsftPad.s.jf = snext;
  } else qos.s.jf = snext;
  return s;
}

function insertComputeVloffsets(cs: CompilerState, b: Block): void {
  if (cs.offLinkpl.reg !== -1 && cs.offLinkhdr.isVariable && cs.offLinkhdr.reg === -1) cs.offLinkhdr.reg = cs.allocReg();
  let s: Slist | null = null;
  switch (cs.outermostlinktype) {
    case DLT.IEEE802_11_RADIO:
      s = radiotapPrefixLen(cs);
      break;
    case DLT.PRISM_HEADER:
    case DLT.IEEE802_11_RADIO_AVS:
    case DLT.PPI:
      if (cs.offLinkhdr.reg !== -1) bpfError("radio headers other than radiotap are not implemented in tsbpf");
      break;
  }
  switch (cs.outermostlinktype) {
    case DLT.IEEE802_11:
    case DLT.PRISM_HEADER:
    case DLT.IEEE802_11_RADIO_AVS:
    case DLT.IEEE802_11_RADIO:
    case DLT.PPI:
      s = load80211HeaderLen(cs, s, b.stmts);
      break;
    case DLT.PFLOG:
      s = pflogPrefixLen(cs);
      break;
  }
  if (s === null && cs.isVlanVloffset) {
    if (cs.offLinkpl.reg === -1) cs.offLinkpl.reg = cs.allocReg();
    if (cs.offLinktype.reg === -1) cs.offLinktype.reg = cs.allocReg();
    s = newStmt(C.LD | C.W | C.IMM, 0);
    sappend(s, newStmt(C.ST, cs.offLinkpl.reg));
    sappend(s, newStmt(C.ST, cs.offLinktype.reg));
  }
  if (s) {
    sappend(s, b.stmts);
    b.stmts = s;
  }
}

/** finish_parse: prefix code, exits, and the root block. */
export function finishParse(cs: CompilerState, p: Block): Block {
  insertComputeVloffsets(cs, p.head);
  if (cs.linktype === DLT.PPI) {
    const b = newBlock(C.JMP | C.JEQ | C.K, SWAP(105));
    b.stmts = newStmt(C.LD | C.W | C.ABS, 4);
    genAnd(b, p);
  }
  backpatch(p, newBlock(C.RET | C.K, cs.snaplen));
  p.sense = !p.sense;
  backpatch(p, newBlock(C.RET | C.K, 0));
  return p.head;
}

function slength(s: Slist | null): number {
  let n = 0;
  for (let p = s; p; p = p.next) if (p.s.code !== -1) n++;
  return n;
}

/** Lay the blocks out as classic BPF (libpcap's icode_to_fcode with its retry on long branches). */
export function linearize(root: Block): CbpfInsn[] {
  for (;;) {
    const countMark = nextMark();
    const count = (p: Block | null): number => {
      if (!p || p.mark === countMark) return 0;
      p.mark = countMark;
      const n = count(p.jt) + count(p.jf);
      return slength(p.stmts) + n + 1 + p.longjt + p.longjf;
    };
    const n = count(root);
    const out: CbpfInsn[] = Array.from({ length: n }, () => ({ code: 0, jt: 0, jf: 0, k: 0 }));
    let ftail = n;
    const convMark = nextMark();
    const convert = (p: Block | null): boolean => {
      if (!p || p.mark === convMark) return true;
      p.mark = convMark;
      if (!convert(p.jf)) return false;
      if (!convert(p.jt)) return false;
      const slen = slength(p.stmts);
      ftail -= slen + 1 + p.longjt + p.longjf;
      let dst = ftail;
      p.offset = dst;
      const offsets: Slist[] = [];
      for (let src = p.stmts; src && offsets.length < slen; src = src.next) offsets.push(src);
      let off = 0;
      for (let src = p.stmts; src; src = src.next) {
        if (src.s.code === -1) continue;
        const insn = out[dst];
        insn.code = src.s.code;
        insn.k = src.s.k >>> 0;
        if (C.CLASS(src.s.code) === C.JMP && src.s.code !== (C.JMP | C.JA) && off !== slen - 2) {
          let jt = 0;
          let jf = 0;
          for (let i = 0; i < slen; i++) {
            if (offsets[i] === src.s.jt) {
              if (jt) bpfError(`multiple matches for block-local relative jump: off=${off}`);
              if (i - off - 1 >= 256) bpfError(`out-of-range jump for block-local relative jump: off=${off}`);
              insn.jt = i - off - 1;
              jt++;
            }
            if (offsets[i] === src.s.jf) {
              if (jf) bpfError(`multiple matches for block-local relative jump: off=${off}`);
              if (i - off - 1 >= 256) bpfError(`out-of-range jump for block-local relative jump: off=${off}`);
              insn.jf = i - off - 1;
              jf++;
            }
          }
          if (!jt || !jf) bpfError(`no destination found for block-local relative jump: off=${off}`);
        }
        dst++;
        off++;
      }
      const insn = out[dst];
      insn.code = p.s.code;
      insn.k = p.s.k >>> 0;
      if (p.jt && p.jf) {
        let extrajmps = 0;
        let o = p.jt.offset - (p.offset + slen) - 1;
        if (o >= 256) {
          if (p.longjt === 0) {
            p.longjt++;
            return false;
          }
          insn.jt = extrajmps;
          extrajmps++;
          out[dst + extrajmps] = { code: C.JMP | C.JA, jt: 0, jf: 0, k: o - extrajmps };
        } else insn.jt = o;
        o = p.jf.offset - (p.offset + slen) - 1;
        if (o >= 256) {
          if (p.longjf === 0) {
            p.longjf++;
            return false;
          }
          insn.jf = extrajmps;
          extrajmps++;
          out[dst + extrajmps] = { code: C.JMP | C.JA, jt: 0, jf: 0, k: o - extrajmps };
        } else insn.jf = o;
      }
      return true;
    };
    if (convert(root)) return out;
  }
}
