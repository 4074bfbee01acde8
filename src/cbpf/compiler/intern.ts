/**
 * The optimizer's last steps: merge identical blocks (libpcap's intern_blocks) and skip a root whose branch
 * cannot matter (opt_root).
 */

import * as C from "../insn.js";
import { type Block, nextMark, type Slist, sappend } from "./blocks.js";
import { NOP } from "./values.js";

function eqSlist(x0: Slist | null, y0: Slist | null): boolean {
  let x = x0;
  let y = y0;
  for (;;) {
    while (x && x.s.code === NOP) x = x.next;
    while (y && y.s.code === NOP) y = y.next;
    if (!x) return !y;
    if (!y) return !x;
    if (x.s.code !== y.s.code || x.s.k >>> 0 !== y.s.k >>> 0) return false;
    x = x.next;
    y = y.next;
  }
}

function eqBlk(b0: Block, b1: Block): boolean {
  return b0.s.code === b1.s.code && b0.s.k >>> 0 === b1.s.k >>> 0 && b0.jt === b1.jt && b0.jf === b1.jf && eqSlist(b0.stmts, b1.stmts);
}

export function internBlocks(blocks: Block[], root: Block): void {
  const link = new Map<Block, Block>();
  for (;;) {
    let done = true;
    link.clear();
    const mark = nextMark();
    const makeMarks = (p: Block | null): void => {
      if (!p || p.mark === mark) return;
      p.mark = mark;
      if (C.CLASS(p.s.code) !== C.RET) {
        makeMarks(p.jt);
        makeMarks(p.jf);
      }
    };
    makeMarks(root);
    const n = blocks.length;
    for (let i = n - 1; i !== 0; ) {
      --i;
      const bi = blocks[i];
      if (!bi || bi.mark !== mark) continue;
      for (let j = i + 1; j < n; j++) {
        const bj = blocks[j];
        if (!bj || bj.mark !== mark) continue;
        if (eqBlk(bi, bj)) {
          link.set(bi, link.get(bj) ?? bj);
          break;
        }
      }
    }
    for (const p of blocks) {
      if (!p.jt || !p.jf) continue;
      const lt = link.get(p.jt);
      if (lt) {
        done = false;
        p.jt = lt;
      }
      const lf = link.get(p.jf);
      if (lf) {
        done = false;
        p.jf = lf;
      }
    }
    if (done) return;
  }
}

/** opt_root: skip a root whose test cannot matter, keeping its statements. */
export function optRoot(root: Block): Block {
  let r = root;
  const s = r.stmts;
  r.stmts = null;
  while (C.CLASS(r.s.code) === C.JMP && r.jt === r.jf && r.jt) r = r.jt;
  const tmp = r.stmts;
  if (tmp && s) sappend(s, tmp);
  r.stmts = s;
  if (C.CLASS(r.s.code) === C.RET) r.stmts = null;
  return r;
}
