/**
 * Closing the program and laying it out: the code that computes variable header lengths goes in front of
 * the first block, the true and false exits become `ret #snaplen` and `ret #0`, and the block graph is
 * linearized as libpcap's icode_to_fcode does (depth-first, false branch first, filling from the end;
 * a branch too long for 8 bits gets an extra `ja`).
 */

import type { CbpfInsn } from "../insn.js";
import * as C from "../insn.js";
import { type Block, backpatch, genAnd, newBlock, newStmt, nextMark, type Slist, sappend } from "./blocks.js";
import { swap32 } from "./linktype.js";
import { bpfError, type CompilerState, DLT } from "./state.js";

/** Radiotap and PPI: the header's length is the little-endian 16-bit field at bytes 2-3, built a byte at a time. */
function littleEndianPrefixLen(cs: CompilerState): Slist | null {
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

/** AVS: the header's length is the big-endian word at byte 4. */
function avsPrefixLen(cs: CompilerState): Slist | null {
  if (cs.offLinkhdr.reg === -1) return null;
  const s = newStmt(C.LD | C.W | C.ABS, 4);
  sappend(s, newStmt(C.ST, cs.offLinkhdr.reg));
  sappend(s, newStmt(C.MISC | C.TAX));
  return s;
}

/**
 * Prism: 144 bytes — unless the first word, masked with 0xfffff000, is AVS's cookie 0x80211000 (some Linux
 * drivers put an AVS header behind ARPHRD_IEEE80211_PRISM), and then AVS's length. The jumps inside the
 * statement list keep the optimizer off.
 */
function prismPrefixLen(cs: CompilerState): Slist | null {
  cs.noOptimize = true; // libpcap sets it before asking whether the length is needed: no Prism program is optimized
  if (cs.offLinkhdr.reg === -1) return null;
  const s = newStmt(C.LD | C.W | C.ABS, 0);
  sappend(s, newStmt(C.ALU | C.AND | C.K, 0xfffff000));
  const avsCookie = newStmt(C.JMP | C.JEQ | C.K, 0x80211000);
  sappend(s, avsCookie);
  avsCookie.s.jt = newStmt(C.LD | C.W | C.ABS, 4);
  sappend(s, avsCookie.s.jt);
  // over the Prism length to the store (a `ja` keeps its k; jf names the target for the layout's checks)
  const toStore = newStmt(C.JMP | C.JA, 1);
  sappend(s, toStore);
  avsCookie.s.jf = newStmt(C.LD | C.W | C.IMM, 144);
  sappend(s, avsCookie.s.jf);
  toStore.s.jf = newStmt(C.ST, cs.offLinkhdr.reg);
  sappend(s, toStore.s.jf);
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
    const flags = add(C.JMP | C.JSET | C.K, swap32(0x00000002));
    flags.s.jf = snext;
    const ext = add(C.JMP | C.JSET | C.K, swap32(0x80000000));
    flags.s.jt = ext;
    ext.s.jt = snext;
    const tsft = add(C.JMP | C.JSET | C.K, swap32(0x00000001));
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
    case DLT.PRISM_HEADER:
      s = prismPrefixLen(cs);
      break;
    case DLT.IEEE802_11_RADIO_AVS:
      s = avsPrefixLen(cs);
      break;
    case DLT.IEEE802_11_RADIO:
    case DLT.PPI:
      s = littleEndianPrefixLen(cs);
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
    const b = newBlock(C.JMP | C.JEQ | C.K, swap32(105));
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

/** Every block reachable from `root`, depth first (iteratively: long filters make deep graphs). */
function reachable(root: Block): Block[] {
  const mark = nextMark();
  const out: Block[] = [];
  const stack: Block[] = [root];
  while (stack.length > 0) {
    const p = stack.pop() as Block;
    if (p.mark === mark) continue;
    p.mark = mark;
    out.push(p);
    if (p.jf) stack.push(p.jf);
    if (p.jt) stack.push(p.jt);
  }
  return out;
}

/** Blocks in libpcap's emission order: post-order, false branch before true (convert_code_r's recursion). */
function postOrder(root: Block): Block[] {
  const mark = nextMark();
  const order: Block[] = [];
  const stack: Array<[Block, number]> = [[root, 0]];
  root.mark = mark;
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as [Block, number];
    const [p, state] = top;
    const next = state === 0 ? p.jf : state === 1 ? p.jt : null;
    if (state < 2) {
      top[1]++;
      if (next && next.mark !== mark) {
        next.mark = mark;
        stack.push([next, 0]);
      }
      continue;
    }
    stack.pop();
    order.push(p);
  }
  return order;
}

/** Lay the blocks out as classic BPF (libpcap's icode_to_fcode with its retry on long branches). */
export function linearize(root: Block): CbpfInsn[] {
  for (;;) {
    let n = 0;
    for (const p of reachable(root)) n += slength(p.stmts) + 1 + p.longjt + p.longjf;
    const code = new Uint16Array(n);
    const jts = new Uint8Array(n);
    const jfs = new Uint8Array(n);
    const ks = new Uint32Array(n);
    let ftail = n;
    let retry = false;
    for (const p of postOrder(root)) {
      const slen = slength(p.stmts);
      ftail -= slen + 1 + p.longjt + p.longjf;
      let dst = ftail;
      p.offset = dst;
      const offsets: Slist[] = [];
      for (let src = p.stmts; src && offsets.length < slen; src = src.next) offsets.push(src);
      let off = 0;
      for (let src = p.stmts; src; src = src.next) {
        if (src.s.code === -1) continue;
        code[dst] = src.s.code;
        ks[dst] = src.s.k >>> 0;
        if (C.CLASS(src.s.code) === C.JMP && src.s.code !== (C.JMP | C.JA) && off !== slen - 2) {
          let jt = 0;
          let jf = 0;
          for (let i = 0; i < slen; i++) {
            if (offsets[i] === src.s.jt) {
              if (jt) bpfError(`multiple matches for block-local relative jump: off=${off}`);
              if (i - off - 1 >= 256) bpfError(`out-of-range jump for block-local relative jump: off=${off}`);
              jts[dst] = i - off - 1;
              jt++;
            }
            if (offsets[i] === src.s.jf) {
              if (jf) bpfError(`multiple matches for block-local relative jump: off=${off}`);
              if (i - off - 1 >= 256) bpfError(`out-of-range jump for block-local relative jump: off=${off}`);
              jfs[dst] = i - off - 1;
              jf++;
            }
          }
          if (!jt || !jf) bpfError(`no destination found for block-local relative jump: off=${off}`);
        }
        dst++;
        off++;
      }
      code[dst] = p.s.code;
      ks[dst] = p.s.k >>> 0;
      if (p.jt && p.jf) {
        let extrajmps = 0;
        let o = p.jt.offset - (p.offset + slen) - 1;
        if (o >= 256) {
          if (p.longjt === 0) {
            // Mark it and lay out again. (Every branch found too long in this pass is marked at once: distances
            // only grow as branches get longer, so this reaches libpcap's one-at-a-time fixed point.)
            p.longjt++;
            retry = true;
            continue;
          }
          jts[dst] = extrajmps;
          extrajmps++;
          code[dst + extrajmps] = C.JMP | C.JA;
          ks[dst + extrajmps] = o - extrajmps;
        } else jts[dst] = o;
        o = p.jf.offset - (p.offset + slen) - 1;
        if (o >= 256) {
          if (p.longjf === 0) {
            p.longjf++;
            retry = true;
            continue;
          }
          jfs[dst] = extrajmps;
          extrajmps++;
          code[dst + extrajmps] = C.JMP | C.JA;
          ks[dst + extrajmps] = o - extrajmps;
        } else jfs[dst] = o;
      }
    }
    if (!retry) return Array.from({ length: n }, (_, i) => ({ code: code[i] ?? 0, jt: jts[i] ?? 0, jf: jfs[i] ?? 0, k: ks[i] ?? 0 }));
  }
}
