/**
 * The pcap-filter grammar (libpcap 1.10's grammar.y) as a backtracking recursive-descent parser. Parsing
 * has no side effects: it builds closures, and running them afterwards performs libpcap's semantic actions
 * in yacc's reduction order (left to right, children first), passing down the qualifiers that yacc's
 * `$<blk>0` inherits (`host a or b` applies `host` to `b`).
 */

import * as C from "../insn.js";
import { type Arth, genArth, genByteop, genGreater, genLess, genLoad, genLoadi, genLoadlen, genNeg, genRelation } from "./arith.js";
import * as AS from "./atm-ss7.js";
import { type Block, genAnd, genNot, genOr } from "./blocks.js";
import { Q, QERR, type Qual } from "./constants.js";
import {
  AQUALS,
  ATMMULTI,
  ATMTYPES,
  BINOPS,
  DQUALS,
  lookupCi,
  MTP2,
  MTP3,
  PNAMES,
  RELOPS,
  UMINUS,
  WLAN_SUBTYPES,
  WLAN_TYPES,
} from "./grammar-tables.js";
import type { Token } from "./lexer.js";
import * as M from "./misc.js";
import { parseMac } from "./names.js";
import { genProtoAbbrev } from "./proto.js";
import { genEcode, genMcode, genMcode6, genNcode, genScode } from "./scode.js";
import { bpfError, type CompilerState } from "./state.js";

interface Blk {
  b: Block;
  q: Qual;
}
/** A parsed expression or id: runs its actions given the inherited qualifiers. */
type Node = (cs: CompilerState, inh: Qual) => Blk;
type ArthNode = (cs: CompilerState) => Arth;

/**
 * A syntax error at token `at`. `partial` runs the semantic actions of what was complete before it: yacc
 * reduces those (and libpcap reports their errors) before it notices the syntax error.
 */
class SyntaxFail extends Error {
  partial: ((cs: CompilerState, inh: Qual) => void) | undefined;
  constructor(readonly at: number) {
    super("syntax error");
  }
}

const set = (b: Block, q: Qual): Blk => ({ b, q });

/** `l and r` / `l or r`: r inherits the qualifiers l ends with (yacc's `$<blk>0`); the result is r's. */
const combine =
  (l: Node, r: Node, isAnd: boolean): Node =>
  (cs, inh) => {
    const a = l(cs, inh);
    const b = r(cs, a.q);
    if (isAnd) genAnd(a.b, b.b);
    else genOr(a.b, b.b);
    return b;
  };

export class Parser {
  private pos = 0;
  /** Furthest token any alternative failed at: where yacc would report the error. */
  failPos = 0;

  constructor(private readonly toks: Token[]) {}

  private peek(o = 0): Token {
    return this.toks[Math.min(this.pos + o, this.toks.length - 1)];
  }
  private isKw(t: Token, ...kw: string[]): boolean {
    return t.kind === "KW" && kw.includes(t.text);
  }
  private isOp(t: Token, ...op: string[]): boolean {
    return t.kind === "OP" && op.includes(t.text);
  }
  private fail(): never {
    this.failPos = Math.max(this.failPos, this.pos);
    throw new SyntaxFail(this.pos);
  }
  /** Fail at an already-consumed token (yacc stops at the token it cannot shift). */
  private reject(t: Token): never {
    const at = this.toks.indexOf(t);
    this.failPos = Math.max(this.failPos, at);
    throw new SyntaxFail(at);
  }
  private next(): Token {
    const t = this.peek();
    if (t.kind === "END" || t.kind === "ERROR") this.fail();
    this.pos++;
    return t;
  }
  private expectOp(op: string): void {
    if (!this.isOp(this.peek(), op)) this.fail();
    this.pos++;
  }
  private expectKind(kind: Token["kind"]): Token {
    if (this.peek().kind !== kind) this.fail();
    return this.next();
  }
  /** Try alternatives in order; the first that parses wins. */
  private alt<T>(...fns: (() => T)[]): T {
    const start = this.pos;
    // the alternative that got furthest is the one yacc was following when it hit the error
    let furthest: SyntaxFail | undefined;
    for (const fn of fns) {
      try {
        return fn();
      } catch (e) {
        if (!(e instanceof SyntaxFail)) throw e;
        this.pos = start;
        if (!furthest || e.at > furthest.at || (e.at === furthest.at && !furthest.partial && e.partial)) furthest = e;
      }
    }
    throw furthest ?? new SyntaxFail(start);
  }

  /** prog: the whole expression, or null for an empty one. */
  parseProgram(): Node | null {
    if (this.peek().kind === "END") return null;
    const e = this.expr();
    if (this.peek().kind !== "END") {
      const f = new SyntaxFail(this.pos);
      this.failPos = Math.max(this.failPos, this.pos);
      f.partial = (cs, inh) => void e(cs, inh);
      throw f;
    }
    return e;
  }

  private expr(): Node {
    let left = this.term();
    for (;;) {
      const t = this.peek();
      if (!this.isKw(t, "and", "or")) return left;
      this.pos++;
      const l = left;
      let right: Node;
      try {
        right = this.alt(
          () => this.term(),
          () => this.id(),
        );
      } catch (e) {
        if (e instanceof SyntaxFail) {
          const inner = e.partial;
          e.partial = (cs, inh) => {
            const done = l(cs, inh); // (evaluated even when nothing after it was complete)
            inner?.(cs, done.q);
          };
        }
        throw e;
      }
      const isAnd = t.text === "and";
      left = combine(l, right, isAnd);
    }
  }

  private term(): Node {
    if (this.isKw(this.peek(), "not") || this.isOp(this.peek(), "!")) {
      this.pos++;
      const t = this.term();
      return (cs, inh) => {
        const r = t(cs, inh);
        genNot(r.b);
        return r;
      };
    }
    return this.rterm();
  }

  private pnum(): number {
    if (this.isOp(this.peek(), "(")) {
      this.pos++;
      const v = this.pnum();
      this.expectOp(")");
      return v;
    }
    return this.expectKind("NUM").value;
  }

  /** head: pqual dqual? aqual? | pqual proto | pqual protochain | pqual gateway — null if none. */
  private head(): Qual | null {
    const start = this.pos;
    let proto: number = Q.DEFAULT;
    const t = this.peek();
    if (t.kind === "KW" && t.text in PNAMES) {
      proto = PNAMES[t.text];
      this.pos++;
    }
    let dir: number | null = null;
    const d = this.peek();
    if (this.isKw(d, "src", "dst")) {
      this.pos++;
      dir = d.text === "src" ? Q.SRC : Q.DST;
      const c = this.peek();
      const other = d.text === "src" ? "dst" : "src";
      if (this.isKw(c, "or", "and") && this.isKw(this.peek(1), other)) {
        this.pos += 2;
        dir = c.text === "or" ? Q.OR : Q.AND;
      }
    } else if (d.kind === "KW" && d.text in DQUALS) {
      this.pos++;
      dir = DQUALS[d.text];
    }
    const a = this.peek();
    if (a.kind === "KW" && a.text in AQUALS) {
      this.pos++;
      return { proto, dir: dir ?? Q.DEFAULT, addr: AQUALS[a.text] };
    }
    if (dir !== null) return { proto, dir, addr: Q.DEFAULT };
    if (this.isKw(a, "proto", "protochain", "gateway")) {
      this.pos++;
      const addr = a.text === "proto" ? Q.PROTO : a.text === "protochain" ? Q.PROTOCHAIN : Q.GATEWAY;
      return { proto, dir: Q.DEFAULT, addr };
    }
    this.pos = start;
    return null;
  }

  private rterm(): Node {
    const t = this.peek();
    return this.alt(
      () => {
        const q = this.head();
        if (!q) this.fail();
        const id = this.id();
        return (cs) => id(cs, q);
      },
      () => {
        if (!this.isOp(t, "(")) this.fail();
        this.pos++;
        const e = this.expr();
        if (!this.isOp(this.peek(), ")")) {
          const f = new SyntaxFail(this.pos);
          this.failPos = Math.max(this.failPos, this.pos);
          f.partial = (cs, inh) => void e(cs, inh);
          throw f;
        }
        this.pos++;
        return (cs, inh) => set(e(cs, inh).b, inh);
      },
      () => {
        const a0 = this.arth();
        const r = this.peek();
        if (r.kind !== "OP" || !(r.text in RELOPS)) this.fail();
        this.pos++;
        const [code, reversed] = RELOPS[r.text];
        const a1 = this.arth();
        return (cs) => set(genRelation(cs, code, a0(cs), a1(cs), reversed), QERR);
      },
      () => this.other(),
      () => {
        if (t.kind !== "KW" || !(t.text in PNAMES)) this.fail();
        this.pos++;
        // After a protocol name yacc shifts a qualifier (head: pqual dqual aqual...) rather than reduce the name
        // to a term: `ether proto` is a syntax error at its end, never "link layer applied in wrong context".
        const n = this.peek();
        if (n.kind === "KW" && (n.text in DQUALS || n.text in AQUALS || this.isKw(n, "src", "dst", "proto", "protochain", "gateway")))
          this.fail();
        const p = PNAMES[t.text];
        return (cs) => set(genProtoAbbrev(cs, p), QERR);
      },
    );
  }

  private other(): Node {
    const t = this.next();
    const kw = t.kind === "KW" ? t.text : "";
    const optPnum = (): number | null =>
      this.peek().kind === "NUM" || this.isOp(this.peek(), "(")
        ? this.alt(
            () => this.pnum(),
            () => null,
          )
        : null;
    const leaf =
      (gen: (cs: CompilerState) => Block): Node =>
      (cs) =>
        set(gen(cs), QERR);
    if (kw in PNAMES || kw === "broadcast" || kw === "multicast" || kw === "type" || kw === "subtype" || kw === "dir") {
      let proto: number = Q.DEFAULT;
      let w = t;
      if (kw in PNAMES) {
        proto = PNAMES[kw];
        w = this.next();
      }
      if (this.isKw(w, "broadcast")) return leaf((cs) => M.genBroadcast(cs, proto));
      if (this.isKw(w, "multicast")) return leaf((cs) => M.genMulticast(cs, proto));
      return this.p80211(w);
    }
    switch (kw) {
      case "less":
      case "greater": {
        const n = this.expectKind("NUM").value;
        return leaf(() => (kw === "less" ? genLess(n) : genGreater(n)));
      }
      case "byte": {
        const idx = this.expectKind("NUM").value;
        const op = this.next();
        if (!this.isOp(op, "&", "|", "<", ">", "=")) this.reject(op);
        const val = this.expectKind("NUM").value;
        return leaf((cs) => genByteop(cs, op.text, idx, val));
      }
      case "inbound":
      case "outbound":
        return leaf((cs) => M.genInbound(cs, kw === "outbound"));
      case "ifindex": {
        const n = this.expectKind("NUM").value;
        return leaf((cs) => M.genIfindex(cs, n));
      }
      case "vlan":
      case "mpls":
      case "pppoes":
      case "geneve": {
        const n = optPnum();
        const has = n !== null;
        const v = n ?? 0;
        if (kw === "vlan") return leaf((cs) => M.genVlan(cs, v, has));
        if (kw === "mpls") return leaf((cs) => M.genMpls(cs, v, has));
        if (kw === "pppoes") return leaf((cs) => M.genPppoes(cs, v, has));
        return leaf((cs) => M.genGeneve(cs, v, has));
      }
      case "pppoed":
        return leaf((cs) => M.genPppoed(cs));
      case "ifname":
      case "rset": {
        const id = this.expectKind("ID").text;
        return leaf((cs) => (kw === "ifname" ? M.genPfIfname(cs, id) : M.genPfRuleset(cs, id)));
      }
      case "rnr":
      case "srnr": {
        const n = this.expectKind("NUM").value;
        return leaf((cs) => M.genPfField(cs, kw, n));
      }
      case "reason": {
        const r = this.next();
        if (r.kind === "NUM") return leaf((cs) => M.genPfField(cs, "reason", r.value));
        if (r.kind !== "ID") this.reject(r);
        return leaf((cs) => M.genPfField(cs, "reason", M.pfReason(r.text)));
      }
      case "action": {
        const r = this.expectKind("ID");
        return leaf((cs) => M.genPfField(cs, "action", M.pfAction(r.text)));
      }
      case "llc":
        return this.llc();
    }
    if (kw in ATMTYPES) return leaf((cs) => AS.genAtmtypeAbbrev(cs, ATMTYPES[kw]));
    if (kw in ATMMULTI) return leaf((cs) => AS.genAtmmultiAbbrev(cs, ATMMULTI[kw]));
    if (kw in MTP2) return leaf((cs) => AS.genMtp2typeAbbrev(cs, MTP2[kw]));
    if (kw === "vpi" || kw === "vci")
      return this.fieldValue((cs, v, code, rev) => AS.genAtmfieldCode(cs, kw === "vpi" ? AS.A.VPI : AS.A.VCI, v, code, rev));
    if (kw in MTP3) return this.fieldValue((cs, v, code, rev) => AS.genMtp3fieldCode(cs, MTP3[kw], v, code, rev));
    this.reject(t);
  }

  /** atmvalue / mtp3value: NUM | relop NUM | irelop NUM | ( NUM or NUM ... ). */
  private fieldValue(gen: (cs: CompilerState, v: number, code: number, reverse: boolean) => Block): Node {
    const t = this.peek();
    if (t.kind === "NUM") {
      this.pos++;
      return (cs) => set(gen(cs, t.value, C.JEQ, false), QERR);
    }
    if (t.kind === "OP" && t.text in RELOPS) {
      this.pos++;
      const [code, rev] = RELOPS[t.text];
      const n = this.expectKind("NUM").value;
      return (cs) => set(gen(cs, n, code, rev), QERR);
    }
    this.expectOp("(");
    const values = [this.expectKind("NUM").value];
    while (this.isKw(this.peek(), "or")) {
      this.pos++;
      values.push(this.expectKind("NUM").value);
    }
    this.expectOp(")");
    return (cs) => {
      let b = gen(cs, values[0], C.JEQ, false);
      for (const v of values.slice(1)) {
        const nb = gen(cs, v, C.JEQ, false);
        genOr(b, nb);
        b = nb;
      }
      return set(b, QERR);
    };
  }

  private p80211(w: Token): Node {
    const leaf =
      (gen: (cs: CompilerState) => Block): Node =>
      (cs) =>
        set(gen(cs), QERR);
    const word = (): Token => {
      const t = this.next();
      if (t.kind !== "NUM" && t.kind !== "ID") this.reject(t);
      return t;
    };
    if (this.isKw(w, "type")) {
      const ty = word();
      const typeVal = (): number => {
        if (ty.kind === "NUM") return ty.value;
        const v = lookupCi(WLAN_TYPES, ty.text);
        if (v === -1) bpfError("unknown 802.11 type name");
        return v;
      };
      if (this.isKw(this.peek(), "subtype")) {
        this.pos++;
        const st = word();
        return leaf((cs) => {
          const tv = typeVal();
          let sv: number;
          if (st.kind === "NUM") sv = st.value;
          else {
            const table = WLAN_SUBTYPES.find(([t]) => t === tv);
            if (!table) bpfError("unknown 802.11 type");
            sv = lookupCi(table[1], st.text);
            if (sv === -1) bpfError("unknown 802.11 subtype name");
          }
          return M.genP80211Type(cs, tv | sv, 0x0c | 0xf0);
        });
      }
      return leaf((cs) => M.genP80211Type(cs, typeVal(), 0x0c));
    }
    if (this.isKw(w, "subtype")) {
      const st = this.expectKind("ID");
      return leaf((cs) => {
        for (const [type, table] of WLAN_SUBTYPES) {
          const v = lookupCi(table, st.text);
          if (v !== -1) return M.genP80211Type(cs, v | type, 0x0c | 0xf0);
        }
        bpfError("unknown 802.11 type name");
      });
    }
    if (this.isKw(w, "dir")) {
      const d = word();
      return leaf((cs) => {
        if (d.kind === "NUM") return M.genP80211Fcdir(cs, d.value);
        const v = lookupCi({ nods: 0, tods: 1, fromds: 2, dstods: 3 }, d.text);
        if (v === -1) bpfError("unknown 802.11 direction");
        return M.genP80211Fcdir(cs, v);
      });
    }
    this.reject(w);
  }

  private llc(): Node {
    const leaf =
      (gen: (cs: CompilerState) => Block): Node =>
      (cs) =>
        set(gen(cs), QERR);
    const t = this.peek();
    if (this.isKw(t, "rnr")) {
      this.pos++;
      return leaf((cs) => M.genLlcMasked(cs, M.LLC_S.rnr, 0x0f));
    }
    if (t.kind !== "ID") return leaf((cs) => M.genLlc(cs));
    this.pos++;
    const name = t.text.toLowerCase();
    return leaf((cs) => {
      if (name === "i") return M.genLlcI(cs);
      if (name === "s") return M.genLlcMasked(cs, 0x01, 0x03);
      if (name === "u") return M.genLlcMasked(cs, 0x03, 0x03);
      if (name in M.LLC_S) return M.genLlcMasked(cs, M.LLC_S[name], 0x0f);
      if (name in M.LLC_U) return M.genLlcMasked(cs, M.LLC_U[name], 0xef);
      bpfError(`unknown LLC type name "${t.text}"`);
    });
  }

  /** id: nid | pnum | ( pid ). */
  private id(): Node {
    return this.alt(
      () => this.nid(),
      () => {
        const v = this.pnum();
        return (cs, inh) => set(genNcode(cs, null, v, inh), inh);
      },
      () => {
        this.expectOp("(");
        const p = this.pid();
        this.expectOp(")");
        return p;
      },
    );
  }

  private nid(): Node {
    const t = this.next();
    switch (t.kind) {
      case "ID":
        return (cs, inh) => set(genScode(cs, t.text, inh), inh);
      case "HID": {
        if (this.isOp(this.peek(), "/")) {
          this.pos++;
          const n = this.expectKind("NUM").value;
          return (cs, inh) => set(genMcode(cs, t.text, null, n, inh), inh);
        }
        if (this.isKw(this.peek(), "mask")) {
          this.pos++;
          const m = this.expectKind("HID").text;
          return (cs, inh) => set(genMcode(cs, t.text, m, 0, inh), inh);
        }
        return (cs, inh) => {
          const names: Record<number, string> = {
            [Q.PORT]: "port",
            [Q.PORTRANGE]: "portrange",
            [Q.PROTO]: "proto",
            [Q.PROTOCHAIN]: "protochain",
          };
          const bad = names[inh.addr];
          if (bad) bpfError(`'${bad}' modifier applied to ip host`);
          return set(genNcode(cs, t.text, 0, inh), inh);
        };
      }
      case "HID6": {
        let len = 128;
        if (this.isOp(this.peek(), "/")) {
          this.pos++;
          len = this.expectKind("NUM").value;
        }
        return (cs, inh) => set(genMcode6(cs, t.text, len, inh), inh);
      }
      case "EID":
        return (cs, inh) => {
          const mac = parseMac(t.text);
          if (!mac) bpfError(`bogus ethernet address ${t.text}`);
          return set(genEcode(cs, mac, inh), inh);
        };
      case "AID":
        return () => bpfError("aid supported only on ARCnet");
      default:
        if (this.isKw(t, "not") || this.isOp(t, "!")) {
          const id = this.id();
          return (cs, inh) => {
            const r = id(cs, inh);
            genNot(r.b);
            return r;
          };
        }
        this.pos--;
        this.fail();
    }
  }

  /** pid: nid | qid and id | qid or id, where qid: pnum | pid. */
  private pid(): Node {
    let left: Node = this.alt(
      () => this.nid(),
      () => {
        const v = this.pnum();
        const q: Node = (cs, inh) => set(genNcode(cs, null, v, inh), inh);
        if (!this.isKw(this.peek(), "and", "or")) this.fail();
        return q;
      },
    );
    while (this.isKw(this.peek(), "and", "or")) {
      const isAnd = this.next().text === "and";
      const right = this.id();
      left = combine(left, right, isAnd);
    }
    return left;
  }

  /** arth with bison's precedence resolution (shift when either operator lacks a precedence). */
  private arth(): ArthNode {
    const operands: ArthNode[] = [];
    const ops: { code: number; prec: number | undefined; unary: boolean }[] = [];
    const pop = <T>(stack: T[]): T => {
      const v = stack.pop();
      if (v === undefined) throw new Error("arithmetic parser stack underflow");
      return v;
    };
    const reduce = (): void => {
      const op = pop(ops);
      if (op.unary) {
        const a = pop(operands);
        operands.push((cs) => genNeg(a(cs)));
        return;
      }
      const b = pop(operands);
      const a = pop(operands);
      operands.push((cs) => {
        const x = a(cs);
        const y = b(cs);
        return genArth(cs, op.code, x, y);
      });
    };
    for (;;) {
      while (this.isOp(this.peek(), "-")) {
        this.pos++;
        ops.push({ code: 0, prec: UMINUS, unary: true });
      }
      operands.push(this.arthPrimary());
      const t = this.peek();
      const bin = t.kind === "OP" ? BINOPS[t.text] : undefined;
      if (!bin) break;
      while (ops.length > 0) {
        const top = ops[ops.length - 1];
        if (top.prec === undefined || bin[1] === undefined || top.prec < bin[1]) break;
        reduce();
      }
      this.pos++;
      ops.push({ code: bin[0], prec: bin[1], unary: false });
    }
    while (ops.length > 0) reduce();
    return pop(operands);
  }

  private arthPrimary(): ArthNode {
    const t = this.peek();
    if (t.kind === "NUM") {
      this.pos++;
      return (cs) => genLoadi(cs, t.value);
    }
    if (this.isKw(t, "len")) {
      this.pos++;
      return (cs) => genLoadlen(cs);
    }
    if (this.isOp(t, "(")) {
      this.pos++;
      const a = this.arth();
      this.expectOp(")");
      return a;
    }
    if (t.kind === "KW" && t.text in PNAMES) {
      this.pos++;
      const proto = PNAMES[t.text];
      this.expectOp("[");
      const index = this.arth();
      let size = 1;
      if (this.isOp(this.peek(), ":")) {
        this.pos++;
        size = this.expectKind("NUM").value;
      }
      this.expectOp("]");
      return (cs) => genLoad(cs, proto, index(cs), size);
    }
    this.fail();
  }
}

export { SyntaxFail };
