/**
 * libpcap's optimizer (optimize.c, 1.10): on the acyclic block graph, repeated passes of value numbering
 * with constant folding and peephole rules, dead-store elimination, jump threading along dominating edges
 * (opt_j), and AND/OR pull-ups — first moving only branches, then also rewriting statements — until a pass
 * changes nothing; then identical blocks are merged and a root that always jumps the same way is skipped.
 */

import * as C from "../insn.js";
import { BitsetArena } from "./bitsets.js";
import { type Block, nextMark, type Slist, type Stmt } from "./blocks.js";
import { internBlocks, optRoot } from "./intern.js";
import { A_ATOM, N_ATOMS, NOP, VAL_UNKNOWN, ValueNumbering, X_ATOM } from "./values.js";

const AX_ATOM = N_ATOMS;

const mask = (atom: number): number => 1 << atom;
const elem = (set: number, atom: number): boolean => (set & (1 << atom)) !== 0;

/** An edge of the graph: its successor is the predecessor's jt or jf. */
class Edge {
  id = 0;
  code = 0;
  edom: Uint32Array = new Uint32Array(0);
  next: Edge | null = null;
  constructor(
    readonly pred: Block,
    readonly isTrue: boolean,
  ) {}
  get succ(): Block | null {
    return this.isTrue ? this.pred.jt : this.pred.jf;
  }
  set succ(b: Block | null) {
    if (this.isTrue) this.pred.jt = b;
    else this.pred.jf = b;
  }
}

/** Per-block optimizer state, kept beside the block. */
interface Info {
  level: number;
  link: Block | null;
  dom: Uint32Array;
  closure: Uint32Array;
  et: Edge;
  ef: Edge;
  inEdges: Edge | null;
  val: number[];
  oval: number;
  def: number;
  kill: number;
  inUse: number;
  outUse: number;
}

function atomuse(s: Stmt): number {
  const c = s.code;
  if (c === NOP) return -1;
  switch (C.CLASS(c)) {
    case C.RET:
      return C.RVAL(c) === C.A ? A_ATOM : C.RVAL(c) === C.X ? X_ATOM : -1;
    case C.LD:
    case C.LDX:
      return C.MODE(c) === C.IND ? X_ATOM : C.MODE(c) === C.MEM ? s.k : -1;
    case C.ST:
      return A_ATOM;
    case C.STX:
      return X_ATOM;
    case C.JMP:
    case C.ALU:
      return C.SRC(c) === C.X ? AX_ATOM : A_ATOM;
    default:
      return C.MISCOP(c) === C.TXA ? X_ATOM : A_ATOM;
  }
}

function atomdef(s: Stmt): number {
  if (s.code === NOP) return -1;
  switch (C.CLASS(s.code)) {
    case C.LD:
    case C.ALU:
      return A_ATOM;
    case C.LDX:
      return X_ATOM;
    case C.ST:
    case C.STX:
      return s.k;
    case C.MISC:
      return C.MISCOP(s.code) === C.TAX ? X_ATOM : A_ATOM;
    default:
      return -1;
  }
}

const thisOp = (s: Slist | null): Slist | null => {
  let p = s;
  while (p && p.s.code === NOP) p = p.next;
  return p;
};

class Optimizer {
  done = true;
  nonBranchMovement = false;
  blocks: Block[] = [];
  edges: Edge[] = [];
  levels: (Block | null)[] = [];
  nodewords = 0;
  edgewords = 0;
  /** Each block's state, by block id (ids are given once, in init, and never change). */
  infos: Info[] = [];
  /**
   * Each edge's test without its sense (|edge.code|), by edge id: opt_j looks for a dominating edge with the
   * same test as the block it reaches, and comparing these first rejects the thousands of others in a loop.
   */
  edgeTests = new Int32Array(0);
  /** Edge dominator sets, by edge id. */
  edgeSets = new BitsetArena(0, 0);
  /** Dominator sets by block id, then closures (at block count + id). */
  nodeSets = new BitsetArena(0, 0);
  readonly v = new ValueNumbering(() => this.changed());

  constructor(public root: Block) {}

  I(b: Block): Info {
    return this.infos[b.id] as Info;
  }

  init(): void {
    const mark = nextMark();
    const number = (p: Block | null): void => {
      if (!p || p.mark === mark) return;
      p.mark = mark;
      p.id = this.blocks.length;
      this.blocks.push(p);
      number(p.jt);
      number(p.jf);
    };
    number(this.root);
    const n = this.blocks.length;
    this.nodewords = Math.floor(n / 32) + 1;
    this.edgewords = Math.floor((2 * n) / 32) + 1;
    this.edges = new Array<Edge>(2 * n);
    this.edgeSets = new BitsetArena(2 * n, this.edgewords);
    this.edgeTests = new Int32Array(2 * n);
    this.nodeSets = new BitsetArena(2 * n, this.nodewords);
    this.blocks.forEach((b, i) => {
      const et = new Edge(b, true);
      const ef = new Edge(b, false);
      et.id = i;
      ef.id = n + i;
      et.edom = this.edgeSets.set(i);
      ef.edom = this.edgeSets.set(n + i);
      this.edges[i] = et;
      this.edges[n + i] = ef;
      this.infos[i] = {
        level: 0,
        link: null,
        dom: this.nodeSets.set(i),
        closure: this.nodeSets.set(n + i),
        et,
        ef,
        inEdges: null,
        val: new Array<number>(N_ATOMS).fill(0),
        oval: 0,
        def: 0,
        kill: 0,
        inUse: 0,
        outUse: 0,
      };
    });
  }

  findLevels(): void {
    this.levels = new Array<Block | null>(this.blocks.length).fill(null);
    const mark = nextMark();
    const r = (b: Block): void => {
      if (b.mark === mark) return;
      b.mark = mark;
      const bi = this.I(b);
      bi.link = null;
      let level = 0;
      if (b.jt && b.jf) {
        r(b.jt);
        r(b.jf);
        level = Math.max(this.I(b.jt).level, this.I(b.jf).level) + 1;
      }
      bi.level = level;
      bi.link = this.levels[level] ?? null;
      this.levels[level] = b;
    };
    r(this.root);
  }

  /** Blocks level by level, from the root's level down to `low`. */
  *byLevel(low: number, ascending = false): Generator<Block> {
    const top = this.I(this.root).level;
    if (ascending) {
      for (let i = low; i <= top; i++) for (let b = this.levels[i] ?? null; b; b = this.I(b).link) yield b;
    } else {
      for (let i = top; i >= low; i--) for (let b = this.levels[i] ?? null; b; b = this.I(b).link) yield b;
    }
  }

  findDom(): void {
    const sets = this.nodeSets;
    const n = this.blocks.length;
    sets.begin(0, n);
    sets.init(this.root.id, 0);
    for (const b of this.byLevel(0)) {
      const d = this.I(b).dom;
      d[b.id >>> 5] = (d[b.id >>> 5] ?? 0) | (1 << (b.id & 31));
      if (!b.jt || !b.jf) continue;
      sets.meetAnd(b.jt.id, b.id);
      sets.meetAnd(b.jf.id, b.id);
    }
  }

  findEdom(): void {
    const sets = this.edgeSets;
    const edges = this.edges.length;
    sets.begin(0, edges);
    const ri = this.I(this.root);
    sets.init(ri.et.id, 0);
    sets.init(ri.ef.id, 0);
    const propedom = (ep: Edge): void => {
      ep.edom[ep.id >>> 5] = (ep.edom[ep.id >>> 5] ?? 0) | (1 << (ep.id & 31));
      const succ = ep.succ;
      if (succ) {
        const si = this.I(succ);
        sets.meetAnd(si.et.id, ep.id);
        sets.meetAnd(si.ef.id, ep.id);
      }
    };
    for (const b of this.byLevel(0)) {
      propedom(this.I(b).et);
      propedom(this.I(b).ef);
    }
  }

  findClosure(): void {
    const n = this.blocks.length;
    const sets = this.nodeSets;
    sets.begin(n, n);
    sets.init(n + this.root.id, 0);
    for (const b of this.byLevel(0)) {
      const c = this.I(b).closure;
      c[b.id >>> 5] = (c[b.id >>> 5] ?? 0) | (1 << (b.id & 31));
      if (!b.jt || !b.jf) continue;
      sets.meetOr(n + b.jt.id, n + b.id);
      sets.meetOr(n + b.jf.id, n + b.id);
    }
  }

  computeLocalUd(b: Block): void {
    let def = 0;
    let use = 0;
    let killed = 0;
    const useAtom = (atom: number): void => {
      if (atom < 0) return;
      if (atom === AX_ATOM) {
        if (!elem(def, X_ATOM)) use |= mask(X_ATOM);
        if (!elem(def, A_ATOM)) use |= mask(A_ATOM);
      } else if (atom < N_ATOMS) {
        if (!elem(def, atom)) use |= mask(atom);
      } else throw new Error("optimizer: bad atom");
    };
    for (let s = b.stmts; s; s = s.next) {
      if (s.s.code === NOP) continue;
      useAtom(atomuse(s.s));
      const atom = atomdef(s.s);
      if (atom >= 0) {
        if (!elem(use, atom)) killed |= mask(atom);
        def |= mask(atom);
      }
    }
    if (C.CLASS(b.s.code) === C.JMP) useAtom(atomuse(b.s));
    const bi = this.I(b);
    bi.def = def;
    bi.kill = killed;
    bi.inUse = use;
  }

  findUd(): void {
    for (const p of this.byLevel(0)) {
      this.computeLocalUd(p);
      this.I(p).outUse = 0;
    }
    for (const p of this.byLevel(1, true)) {
      const pi = this.I(p);
      if (!p.jt || !p.jf) continue;
      pi.outUse |= this.I(p.jt).inUse | this.I(p.jf).inUse;
      pi.inUse |= pi.outUse & ~pi.kill;
    }
  }

  changed(nonBranch = true): void {
    if (nonBranch) this.nonBranchMovement = true;
    this.done = false;
  }

  optPeep(b: Block): void {
    const bi = this.I(b);
    let s: Slist | null = b.stmts;
    if (!s) return;
    let last: Slist = s;
    for (;;) {
      s = thisOp(s);
      if (!s) break;
      const next = thisOp(s.next);
      if (!next) break;
      last = next;
      if (s.s.code === C.ST && next.s.code === (C.LDX | C.MEM) && s.s.k === next.s.k) {
        this.changed();
        next.s.code = C.MISC | C.TAX;
      }
      if (s.s.code === (C.LD | C.IMM) && next.s.code === (C.MISC | C.TAX)) {
        s.s.code = C.LDX | C.IMM;
        next.s.code = C.MISC | C.TXA;
        this.changed();
      }
      if (s.s.code === (C.LD | C.IMM)) {
        if (elem(bi.outUse, X_ATOM)) {
          s = next;
          continue;
        }
        const add = next.s.code !== (C.LDX | C.MSH | C.B) ? next : thisOp(next.next);
        if (!add || add.s.code !== (C.ALU | C.ADD | C.X)) {
          s = next;
          continue;
        }
        const tax = thisOp(add.next);
        if (!tax || tax.s.code !== (C.MISC | C.TAX)) {
          s = next;
          continue;
        }
        const ild = thisOp(tax.next);
        if (!ild || C.CLASS(ild.s.code) !== C.LD || C.MODE(ild.s.code) !== C.IND) {
          s = next;
          continue;
        }
        ild.s.k = (ild.s.k + s.s.k) >>> 0;
        s.s.code = NOP;
        add.s.code = NOP;
        tax.s.code = NOP;
        this.changed();
      }
      s = next;
    }
    if (b.s.code === (C.JMP | C.JEQ | C.K) && !elem(bi.outUse, A_ATOM)) {
      if (last.s.code === (C.ALU | C.SUB | C.X)) {
        const v = bi.val[X_ATOM] ?? 0;
        if (this.v.vm(v).isConst) {
          b.s.k = (b.s.k + this.v.vm(v).constVal) >>> 0;
          last.s.code = NOP;
          this.changed();
        } else if (b.s.k === 0) {
          last.s.code = NOP;
          b.s.code = C.JMP | C.JEQ | C.X;
          this.changed();
        }
      } else if (last.s.code === (C.ALU | C.SUB | C.K)) {
        last.s.code = NOP;
        b.s.k = (b.s.k + last.s.k) >>> 0;
        this.changed();
      } else if (last.s.code === (C.ALU | C.AND | C.K) && b.s.k === 0) {
        b.s.k = last.s.k;
        b.s.code = C.JMP | C.K | C.JSET;
        last.s.code = NOP;
        this.changed();
        const t = b.jt;
        b.jt = b.jf;
        b.jf = t;
      }
    }
    if (b.s.code === (C.JMP | C.K | C.JSET)) {
      if (b.s.k === 0) b.jt = b.jf;
      if (b.s.k >>> 0 === 0xffffffff) b.jf = b.jt;
    }
    let v = bi.val[X_ATOM] ?? 0;
    if (this.v.vm(v).isConst && C.SRC(b.s.code) === C.X) {
      b.s.code &= ~C.X;
      b.s.k = this.v.vm(v).constVal;
    }
    v = bi.val[A_ATOM] ?? 0;
    if (this.v.vm(v).isConst && C.SRC(b.s.code) === C.K) {
      const c = this.v.vm(v).constVal >>> 0;
      const k = b.s.k >>> 0;
      let r: number;
      switch (C.OP(b.s.code)) {
        case C.JEQ:
          r = c === k ? 1 : 0;
          break;
        case C.JGT:
          r = c > k ? 1 : 0;
          break;
        case C.JGE:
          r = c >= k ? 1 : 0;
          break;
        case C.JSET:
          r = c & k;
          break;
        default:
          throw new Error("optimizer: bad jump");
      }
      if (b.jf !== b.jt) this.changed();
      if (r) b.jf = b.jt;
      else b.jt = b.jf;
    }
  }

  deadstores(b: Block): void {
    const last: (Stmt | null)[] = new Array(N_ATOMS).fill(null);
    const dead = (s: Stmt): void => {
      let atom = atomuse(s);
      if (atom >= 0) {
        if (atom === AX_ATOM) {
          last[X_ATOM] = null;
          last[A_ATOM] = null;
        } else last[atom] = null;
      }
      atom = atomdef(s);
      if (atom >= 0) {
        const prev = last[atom];
        if (prev) {
          this.changed();
          prev.code = NOP;
        }
        last[atom] = s;
      }
    };
    for (let s = b.stmts; s; s = s.next) dead(s.s);
    dead(b.s);
    const outUse = this.I(b).outUse;
    for (let atom = 0; atom < N_ATOMS; atom++) {
      const l = last[atom];
      if (l && !elem(outUse, atom)) {
        l.code = NOP;
        this.changed();
      }
    }
  }

  optBlk(b: Block, doStmts: boolean): void {
    const bi = this.I(b);
    const p = bi.inEdges;
    if (!p) bi.val.fill(0);
    else {
      const first = this.I(p.pred).val;
      for (let i = 0; i < N_ATOMS; i++) bi.val[i] = first[i] ?? 0;
      for (let e = p.next; e; e = e.next) {
        const pv = this.I(e.pred).val;
        for (let i = 0; i < N_ATOMS; i++) if (bi.val[i] !== pv[i]) bi.val[i] = 0;
      }
    }
    const aval = bi.val[A_ATOM] ?? 0;
    const xval = bi.val[X_ATOM] ?? 0;
    for (let s = b.stmts; s; s = s.next) this.v.optStmt(s.s, bi.val, doStmts);
    if (
      doStmts &&
      ((bi.outUse === 0 && aval !== VAL_UNKNOWN && bi.val[A_ATOM] === aval && xval !== VAL_UNKNOWN && bi.val[X_ATOM] === xval) ||
        C.CLASS(b.s.code) === C.RET)
    ) {
      if (b.stmts) {
        b.stmts = null;
        this.changed();
      }
    } else {
      this.optPeep(b);
      this.deadstores(b);
    }
    bi.oval = C.SRC(b.s.code) === C.K ? this.v.K(b.s.k) : (bi.val[X_ATOM] ?? 0);
    bi.et.code = b.s.code;
    bi.ef.code = -b.s.code;
    this.edgeTests[bi.et.id] = Math.abs(b.s.code);
    this.edgeTests[bi.ef.id] = Math.abs(b.s.code);
  }

  useConflict(b: Block, succ: Block): boolean {
    const use = this.I(succ).outUse;
    if (use === 0) return false;
    const bv = this.I(b).val;
    const sv = this.I(succ).val;
    for (let atom = 0; atom < N_ATOMS; atom++) if (elem(use, atom) && bv[atom] !== sv[atom]) return true;
    return false;
  }

  foldEdge(child: Block, ep: Edge): Block | null {
    let code = ep.code;
    let sense = true;
    if (code < 0) {
      code = -code;
      sense = false;
    }
    if (child.s.code !== code) return null;
    const ci = this.I(child);
    const pi = this.I(ep.pred);
    if (ci.val[A_ATOM] !== pi.val[A_ATOM]) return null;
    if (ci.oval === pi.oval) return sense ? child.jt : child.jf;
    if (sense && code === (C.JMP | C.JEQ | C.K)) return child.jf;
    return null;
  }

  optJ(ep: Edge): void {
    const succ = ep.succ;
    if (!succ?.jt) return;
    if (succ.jt === succ.jf) {
      if (!this.useConflict(ep.pred, succ.jt)) {
        this.changed();
        ep.succ = succ.jt;
      }
    }
    const tests = this.edgeTests;
    const edom = ep.edom;
    // the sets are sparse (a few bits in a thousand words): the arena skips all-zero vectors
    const sets = this.edgeSets;
    const words = this.edgewords;
    top: for (;;) {
      const cur = ep.succ;
      if (!cur) return;
      // foldEdge refuses every edge whose test is not the block's own (and tests[] ends at the last edge)
      const test = cur.s.code;
      for (let v = sets.nextNonzero(ep.id, 0); v < words; v = sets.nextNonzero(ep.id, v + 4)) {
        for (let i = v; i < v + 4 && i < words; i++) {
          let x = edom[i] as number;
          while (x !== 0) {
            const bit = 31 - Math.clz32(x & -x);
            x &= ~(1 << bit);
            const k = bit + i * 32;
            if (tests[k] !== test) continue;
            const target = this.foldEdge(cur, this.edges[k] as Edge);
            if (target && !this.useConflict(ep.pred, target)) {
              this.done = false;
              ep.succ = target;
              if (target.jt) continue top;
              return;
            }
          }
        }
      }
      return;
    }
  }

  /** or_pullup (sense true) and and_pullup (sense false): hoist a repeated test up a chain. */
  pullup(b: Block, isOr: boolean): void {
    const bi = this.I(b);
    let ep = bi.inEdges;
    if (!ep) return;
    const val = this.I(ep.pred).val[A_ATOM];
    for (ep = ep.next; ep; ep = ep.next) if (val !== this.I(ep.pred).val[A_ATOM]) return;
    // A slot is a block's jt or jf, addressed as (owner, isTrue).
    type Slot = [Block, boolean];
    const get = ([o, t]: Slot): Block | null => (t ? o.jt : o.jf);
    const put = ([o, t]: Slot, v: Block | null): void => {
      if (t) o.jt = v;
      else o.jf = v;
    };
    const first = bi.inEdges;
    if (!first) return;
    let diffp: Slot = [first.pred, first.pred.jt === b];
    const same = (x: Block): Block | null => (isOr ? x.jt : x.jf);
    const follow = (x: Block): Slot => [x, !isOr];
    const isDom = (x: Block): boolean => ((this.I(x).dom[b.id >>> 5] ?? 0) & (1 << (b.id & 31))) !== 0;
    let atTop = true;
    for (;;) {
      const d = get(diffp);
      if (!d) return;
      if (same(d) !== same(b)) return;
      if (!isDom(d)) return;
      if (this.I(d).val[A_ATOM] !== val) break;
      diffp = follow(d);
      atTop = false;
    }
    const dBlock = get(diffp);
    if (!dBlock) return;
    let samep: Slot = follow(dBlock);
    for (;;) {
      const sb = get(samep);
      if (!sb) return;
      if (same(sb) !== same(b)) return;
      if (!isDom(sb)) return;
      if (this.I(sb).val[A_ATOM] === val) break;
      samep = follow(sb);
    }
    const pull = get(samep);
    if (!pull) return;
    put(samep, isOr ? pull.jf : pull.jt);
    if (isOr) pull.jf = get(diffp);
    else pull.jt = get(diffp);
    if (atTop) {
      for (let e = bi.inEdges; e; e = e.next) {
        if (e.pred.jt === b) e.pred.jt = pull;
        else e.pred.jf = pull;
      }
    } else put(diffp, pull);
    this.done = false;
  }

  findInedges(): void {
    for (const b of this.blocks) this.I(b).inEdges = null;
    const link = (parent: Edge, child: Block | null): void => {
      if (!child) return;
      const ci = this.I(child);
      parent.next = ci.inEdges;
      ci.inEdges = parent;
    };
    for (const b of this.byLevel(1)) {
      const bi = this.I(b);
      link(bi.et, b.jt);
      link(bi.ef, b.jf);
    }
  }

  optBlks(doStmts: boolean): void {
    this.v.init();
    this.findInedges();
    for (const p of this.byLevel(0)) this.optBlk(p, doStmts);
    if (doStmts) return;
    for (const p of this.byLevel(1, true)) {
      this.optJ(this.I(p).et);
      this.optJ(this.I(p).ef);
    }
    this.findInedges();
    for (const p of this.byLevel(1, true)) {
      this.pullup(p, true);
      this.pullup(p, false);
    }
  }

  loop(doStmts: boolean): void {
    let loopCount = 0;
    for (;;) {
      this.done = true;
      this.nonBranchMovement = false;
      this.findLevels();
      this.findDom();
      this.findClosure();
      this.findUd();
      this.findEdom();
      this.optBlks(doStmts);
      if (this.done) break;
      if (this.nonBranchMovement) loopCount = 0;
      else if (++loopCount >= 100) {
        this.done = true;
        break;
      }
    }
  }
}

/** bpf_optimize: returns the new root. */
export function optimize(root: Block): Block {
  const o = new Optimizer(root);
  o.init();
  o.loop(false);
  o.loop(true);
  internBlocks(o.blocks, o.root);
  return optRoot(root);
}
