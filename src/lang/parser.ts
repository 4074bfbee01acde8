/**
 * The tracing language's parser (bpftrace 0.17's grammar): probes of attach points, an optional `/predicate/`
 * and a block; C-like expressions; statements separated by ';' (a block statement needs none). Syntax errors
 * are reported as bpftrace reports them: `syntax error, unexpected X` at the offending token.
 */
import { type Expr, INT_TYPES, type IntType, type Probe, type Script, type Stmt } from "./ast.js";
import { type Diagnostic, type SourceRange, span, TraceScriptError } from "./errors.js";
import { LexError, Lexer, type Token } from "./lexer.js";

class SyntaxFail extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}

const ASSIGN_OPS = new Set(["=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>="]);
const BINARY_LEVELS: readonly (readonly string[])[] = [
  ["||"],
  ["&&"],
  ["|"],
  ["^"],
  ["&"],
  ["==", "!="],
  ["<", "<=", ">", ">="],
  ["<<", ">>"],
  ["+", "-"],
  ["*", "/", "%"],
];

/** Parses a whole script; throws TraceScriptError with bpftrace's message and location. */
export function parseScript(source: string): Script {
  const p = new Parser(source);
  try {
    return { probes: p.probes(), source };
  } catch (e) {
    if (e instanceof SyntaxFail) throw new TraceScriptError([e.diagnostic], source);
    if (e instanceof LexError) throw new TraceScriptError([{ message: e.message, range: e.range }], source);
    throw e;
  }
}

class Parser {
  private readonly lex: Lexer;

  constructor(private readonly source: string) {
    this.lex = new Lexer(source);
  }

  probes(): Probe[] {
    const out: Probe[] = [];
    for (;;) {
      const first = this.lex.attachPoint();
      if (!first) {
        if (out.length === 0 && this.lex.peek().kind === "eof") this.fail("syntax error, unexpected end of file", this.lex.peek().range);
        const t = this.lex.peek();
        if (t.kind === "eof") return out;
        this.unexpected(t);
      }
      const attachPoints = [{ text: first.text, range: first.range }];
      while (this.lex.peek().kind === "punct" && this.lex.peek().text === ",") {
        this.lex.next();
        const more = this.lex.attachPoint();
        if (!more) this.unexpected(this.lex.peek());
        attachPoints.push({ text: more.text, range: more.range });
      }
      let predicate: Expr | undefined;
      if (this.isPunct("/")) {
        this.lex.next();
        predicate = this.expr();
        this.expect("/");
      }
      if (this.lex.peek().kind === "eof") {
        const end = this.lex.peek().range;
        throw new SyntaxFail({
          message: "unexpected end of file, expected {",
          range: { line: end.line - (this.source.endsWith("\n") ? 1 : 0), col: 1, endLine: end.line, endCol: 1 },
          lineOnly: true,
        });
      }
      const open = this.expect("{");
      const body = this.stmts();
      const close = this.expect("}");
      out.push({ attachPoints, predicate, body, range: span(first.range, span(open.range, close.range)) });
    }
  }

  private stmts(): Stmt[] {
    const out: Stmt[] = [];
    for (;;) {
      if (this.isPunct("}")) return out;
      const t = this.lex.peek();
      // where a statement may start, bison expects "}" (the end of the block) if nothing fits
      if (t.kind === "eof" || (t.kind === "ident" && t.text === "else")) this.unexpected(t, "}");
      if (t.kind === "ident" && (t.text === "if" || t.text === "unroll" || t.text === "while")) {
        out.push(this.blockStmt());
        continue;
      }
      if (this.isPunct("{")) {
        const body = this.block();
        out.push(...body);
        continue;
      }
      out.push(this.stmt());
      if (this.isPunct(";")) {
        this.lex.next();
        continue;
      }
      if (this.isPunct("}")) return out;
      this.unexpected(this.lex.peek(), "}");
    }
  }

  private block(): Stmt[] {
    this.expect("{");
    const body = this.stmts();
    this.expect("}");
    return body;
  }

  private blockStmt(): Stmt {
    const kw = this.lex.next();
    this.expect("(");
    const cond = this.expr();
    this.expect(")");
    const body = this.block();
    const range = span(kw.range, this.lastRange);
    if (kw.text === "unroll") return { kind: "unroll", count: cond, body, range };
    if (kw.text === "while") return { kind: "while", cond, body, range };
    let otherwise: Stmt[] | undefined;
    const t = this.lex.peek();
    if (t.kind === "ident" && t.text === "else") {
      this.lex.next();
      const n = this.lex.peek();
      otherwise = n.kind === "ident" && n.text === "if" ? [this.blockStmt()] : this.block();
    }
    return { kind: "if", cond, body, orElse: otherwise, range: span(kw.range, this.lastRange) };
  }

  private stmt(): Stmt {
    const t = this.lex.peek();
    if (t.kind === "ident" && (t.text === "return" || t.text === "break" || t.text === "continue")) {
      this.lex.next();
      return { kind: "jump", what: t.text, range: t.range };
    }
    const target = this.expr();
    const op = this.lex.peek();
    if (op.kind === "punct" && ASSIGN_OPS.has(op.text)) {
      if (target.kind !== "var" && target.kind !== "map") this.unexpected(op, "}");
      this.lex.next();
      const value = this.expr();
      return {
        kind: "assign",
        target,
        op: op.text === "=" ? undefined : op.text.slice(0, -1),
        value,
        range: span(target.range, value.range),
        opRange: op.range,
      };
    }
    return { kind: "expr", expr: target, range: target.range };
  }

  private lastRange: SourceRange = { line: 1, col: 1, endLine: 1, endCol: 1 };

  expr(): Expr {
    const cond = this.binary(0);
    if (!this.isPunct("?")) return cond;
    this.lex.next();
    const then = this.expr();
    this.expect(":");
    const otherwise = this.expr();
    return { kind: "ternary", cond, whenTrue: then, whenFalse: otherwise, range: span(cond.range, otherwise.range) };
  }

  private binary(level: number): Expr {
    if (level >= BINARY_LEVELS.length) return this.unary();
    let left = this.binary(level + 1);
    const ops = BINARY_LEVELS[level] as readonly string[];
    for (;;) {
      const t = this.lex.peek();
      if (t.kind !== "punct" || !ops.includes(t.text) || this.lex.endsPredicate()) return left;
      this.lex.next();
      const right = this.binary(level + 1);
      left = { kind: "binop", op: t.text, left, right, range: span(left.range, right.range), opRange: t.range };
    }
  }

  private unary(): Expr {
    const t = this.lex.peek();
    if (t.kind === "punct" && ["!", "~", "-", "*", "&"].includes(t.text)) {
      this.lex.next();
      const operand = this.unary();
      return { kind: "unop", op: t.text, operand, range: span(t.range, operand.range) };
    }
    if (t.kind === "punct" && (t.text === "++" || t.text === "--")) {
      this.lex.next();
      const target = this.unary();
      return { kind: "incdec", op: t.text, prefix: true, target, range: span(t.range, target.range) };
    }
    return this.postfix(this.primary());
  }

  private postfix(base: Expr): Expr {
    let e = base;
    for (;;) {
      const t = this.lex.peek();
      if (t.kind !== "punct") return e;
      if (t.text === "++" || t.text === "--") {
        this.lex.next();
        e = { kind: "incdec", op: t.text, prefix: false, target: e, range: span(e.range, t.range) };
      } else if (t.text === "." || t.text === "->") {
        this.lex.next();
        const f = this.lex.next();
        if (f.kind !== "ident" && f.kind !== "int") this.unexpected(f);
        e = { kind: "field", base: e, field: f.text, arrow: t.text === "->", range: span(e.range, f.range) };
      } else return e;
    }
  }

  private typeName(): IntType | undefined {
    const t = this.lex.peek();
    return t.kind === "ident" ? INT_TYPES[t.text] : undefined;
  }

  private primary(): Expr {
    const t = this.lex.peek();
    switch (t.kind) {
      case "int":
        this.lex.next();
        return { kind: "int", value: t.int as bigint, range: t.range };
      case "string":
        this.lex.next();
        return { kind: "str", bytes: t.bytes as Uint8Array, range: t.range };
      case "var":
        this.lex.next();
        return { kind: "var", name: t.text, range: t.range };
      case "positional":
        this.lex.next();
        return { kind: "positional", index: t.text === "$#" ? -1 : Number(t.text.slice(1)), range: t.range };
      case "map": {
        this.lex.next();
        if (!this.isPunct("[")) return { kind: "map", name: t.text, keys: undefined, range: t.range };
        this.lex.next();
        const keys = this.exprList("]");
        const close = this.expect("]");
        return { kind: "map", name: t.text, keys, range: span(t.range, close.range) };
      }
      case "ident": {
        this.lex.next();
        if (t.text === "sizeof" && this.isPunct("(")) {
          this.lex.next();
          const type = this.typeName();
          let operand: Expr | undefined;
          if (type) this.lex.next();
          else operand = this.expr();
          const close = this.expect(")");
          return { kind: "sizeof", type, operand, range: span(t.range, close.range) };
        }
        if (!this.isPunct("(")) return { kind: "builtin", name: t.text, range: t.range };
        this.lex.next();
        const args = this.exprList(")");
        const close = this.expect(")");
        return { kind: "call", name: t.text, args, range: span(t.range, close.range) };
      }
      case "punct": {
        if (t.text !== "(") break;
        this.lex.next();
        const type = this.typeName();
        const struct = this.lex.peek();
        if (type || (struct.kind === "ident" && (struct.text === "struct" || struct.text === "union"))) {
          this.lex.next();
          let name: string | undefined;
          if (!type) {
            const n = this.lex.next();
            if (n.kind !== "ident") this.unexpected(n);
            name = n.text;
          }
          let pointer = 0;
          for (; this.isPunct("*"); pointer++) this.lex.next();
          this.expect(")");
          const operand = this.unary();
          const range = span(t.range, operand.range);
          return name !== undefined
            ? { kind: "cast", type: { size: 8, signed: false }, pointer, struct: name, operand, range }
            : { kind: "cast", type: type as IntType, pointer, operand, range };
        }
        const first = this.expr();
        if (this.isPunct(",")) {
          const elems = [first];
          while (this.isPunct(",")) {
            this.lex.next();
            elems.push(this.expr());
          }
          const close = this.expect(")");
          return { kind: "tuple", elems, range: span(t.range, close.range) };
        }
        this.expect(")");
        return first;
      }
      default:
        break;
    }
    return this.unexpected(t);
  }

  private exprList(close: string): Expr[] {
    const out: Expr[] = [];
    if (this.isPunct(close)) return out;
    out.push(this.expr());
    while (this.isPunct(",")) {
      this.lex.next();
      out.push(this.expr());
    }
    return out;
  }

  private isPunct(text: string): boolean {
    const t = this.lex.peek();
    return t.kind === "punct" && t.text === text;
  }

  private expect(text: string): Token {
    const t = this.lex.peek();
    if (t.kind !== "punct" || t.text !== text) this.unexpected(t, text);
    this.lastRange = t.range;
    return this.lex.next();
  }

  private unexpected(t: Token, expecting?: string): never {
    const what = t.kind === "eof" ? "end of file" : t.kind === "string" ? "string" : t.text;
    return this.fail(`syntax error, unexpected ${what}${expecting ? `, expecting ${expecting}` : ""}`, t.range);
  }

  private fail(message: string, range: SourceRange): never {
    throw new SyntaxFail({ message, range });
  }
}
