/**
 * The tracing language's tokens. Attach points ("uprobe:/bin/x:f", "interval:s:1") are read whole by the
 * parser through `attachPoint()`, because their characters (paths, wildcards) are not expression tokens.
 */
import type { SourceRange } from "./errors.js";

export type TokenKind = "int" | "string" | "ident" | "var" | "positional" | "map" | "punct" | "eof";

export interface Token {
  readonly kind: TokenKind;
  /** The source text (for punct the operator, for var/map the name with its sigil). */
  readonly text: string;
  readonly range: SourceRange;
  readonly int?: bigint;
  readonly bytes?: Uint8Array;
}

export class LexError extends Error {
  constructor(
    message: string,
    readonly range: SourceRange,
  ) {
    super(message);
  }
}

const PUNCTS = [
  "<<=",
  ">>=",
  "==",
  "!=",
  "<=",
  ">=",
  "&&",
  "||",
  "++",
  "--",
  "+=",
  "-=",
  "*=",
  "/=",
  "%=",
  "&=",
  "|=",
  "^=",
  "<<",
  ">>",
  "->",
  ..."{}()[];,.?:=+-*/%&|^!~<>".split(""),
];

const isIdentStart = (c: string): boolean => /[A-Za-z_]/.test(c);
const isIdent = (c: string): boolean => /[A-Za-z0-9_]/.test(c);

export class Lexer {
  private pos = 0;
  private line = 1;
  private col = 1;
  private peeked: Token | undefined;
  private readonly encoder = new TextEncoder();

  constructor(readonly source: string) {}

  peek(): Token {
    this.peeked ??= this.read();
    return this.peeked;
  }

  next(): Token {
    const t = this.peek();
    this.peeked = undefined;
    return t;
  }

  /** Whether the next token is a "/" that ends a predicate: one followed (after blanks) by "{". */
  endsPredicate(): boolean {
    const t = this.peek();
    if (t.kind !== "punct" || t.text !== "/") return false;
    const rest = /\s*/y;
    rest.lastIndex = this.pos;
    rest.exec(this.source);
    return this.source[rest.lastIndex] === "{";
  }

  /** The range just after the last character of the source (where "end of file" is reported). */
  endRange(): SourceRange {
    return { line: this.line, col: this.col, endLine: this.line, endCol: this.col };
  }

  /**
   * Reads one attach point: everything up to whitespace, ',' or '{' (a path's '/' included). Only valid
   * while no token is peeked. Returns undefined at the end of input or when the next character starts none.
   */
  attachPoint(): Token | undefined {
    if (this.peeked) throw new Error("attachPoint() after peek()");
    this.skipSpace();
    const start = this.mark();
    let text = "";
    while (this.pos < this.source.length) {
      const c = this.source[this.pos] as string;
      if (/\s/.test(c) || c === "," || c === "{") break;
      if (c === "/" && (this.source[this.pos + 1] === "/" || this.source[this.pos + 1] === "*")) break;
      text += c;
      this.advance();
    }
    return text === "" ? undefined : { kind: "ident", text, range: this.rangeFrom(start) };
  }

  private mark(): { pos: number; line: number; col: number } {
    return { pos: this.pos, line: this.line, col: this.col };
  }

  private rangeFrom(m: { line: number; col: number }): SourceRange {
    return { line: m.line, col: m.col, endLine: this.line, endCol: this.col };
  }

  private advance(): void {
    if (this.source[this.pos] === "\n") {
      this.line++;
      this.col = 1;
    } else this.col++;
    this.pos++;
  }

  private skipSpace(): void {
    for (;;) {
      const c = this.source[this.pos];
      if (c === undefined) return;
      if (/\s/.test(c)) this.advance();
      else if (c === "/" && this.source[this.pos + 1] === "/") {
        while (this.pos < this.source.length && this.source[this.pos] !== "\n") this.advance();
      } else if (c === "/" && this.source[this.pos + 1] === "*") {
        const start = this.mark();
        this.advance();
        this.advance();
        while (this.pos < this.source.length && !(this.source[this.pos] === "*" && this.source[this.pos + 1] === "/")) this.advance();
        if (this.pos >= this.source.length) throw new LexError("unterminated comment", this.rangeFrom(start));
        this.advance();
        this.advance();
      } else return;
    }
  }

  private read(): Token {
    this.skipSpace();
    const start = this.mark();
    const c = this.source[this.pos];
    if (c === undefined) return { kind: "eof", text: "end of file", range: this.rangeFrom(start) };
    if (/[0-9]/.test(c)) return this.number(start);
    if (c === '"') return this.string(start);
    if (isIdentStart(c)) {
      let text = "";
      while (this.pos < this.source.length && isIdent(this.source[this.pos] as string)) {
        text += this.source[this.pos];
        this.advance();
      }
      return { kind: "ident", text, range: this.rangeFrom(start) };
    }
    if (c === "$") {
      this.advance();
      let text = "$";
      const first = this.source[this.pos] ?? "";
      if (/[0-9]/.test(first)) {
        while (/[0-9]/.test(this.source[this.pos] ?? "")) {
          text += this.source[this.pos];
          this.advance();
        }
        return { kind: "positional", text, range: this.rangeFrom(start) };
      }
      if (first === "#") {
        this.advance();
        return { kind: "positional", text: "$#", range: this.rangeFrom(start) };
      }
      while (isIdent(this.source[this.pos] ?? "")) {
        text += this.source[this.pos];
        this.advance();
      }
      if (text === "$") throw new LexError("invalid character '$'", this.rangeFrom(start));
      return { kind: "var", text, range: this.rangeFrom(start) };
    }
    if (c === "@") {
      this.advance();
      let text = "@";
      while (isIdent(this.source[this.pos] ?? "")) {
        text += this.source[this.pos];
        this.advance();
      }
      return { kind: "map", text, range: this.rangeFrom(start) };
    }
    for (const p of PUNCTS) {
      if (this.source.startsWith(p, this.pos)) {
        for (let i = 0; i < p.length; i++) this.advance();
        return { kind: "punct", text: p, range: this.rangeFrom(start) };
      }
    }
    this.advance();
    throw new LexError(`invalid character '${c}'`, this.rangeFrom(start));
  }

  private number(start: { pos: number; line: number; col: number }): Token {
    let text = "";
    while (/[0-9A-Za-z_]/.test(this.source[this.pos] ?? "")) {
      text += this.source[this.pos];
      this.advance();
    }
    const range = this.rangeFrom(start);
    const clean = text.replace(/_/g, "");
    let value: bigint | undefined;
    if (/^0[xX][0-9a-fA-F]+$/.test(clean)) value = BigInt(clean);
    else if (/^0[0-7]+$/.test(clean)) value = BigInt(`0o${clean.slice(1)}`);
    else if (/^[0-9]+$/.test(clean)) value = BigInt(clean);
    else {
      const sci = /^([0-9]+)e([0-9]+)$/.exec(clean);
      if (sci) value = BigInt(sci[1] as string) * 10n ** BigInt(sci[2] as string);
    }
    if (value === undefined) throw new LexError(`invalid integer: ${text}`, range);
    if (value >= 1n << 64n) throw new LexError(`integer too large: ${text}`, range);
    return { kind: "int", text, range, int: value };
  }

  private string(start: { pos: number; line: number; col: number }): Token {
    this.advance();
    const out: number[] = [];
    for (;;) {
      const c = this.source[this.pos];
      if (c === undefined || c === "\n") throw new LexError("unterminated string", this.rangeFrom(start));
      if (c === '"') {
        this.advance();
        break;
      }
      if (c !== "\\") {
        out.push(...this.encoder.encode(c));
        this.advance();
        continue;
      }
      const escStart = this.mark();
      this.advance();
      const e = this.source[this.pos] ?? "";
      const simple: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, "\\": 92 };
      if (e in simple) {
        out.push(simple[e] as number);
        this.advance();
      } else if (/[0-7]/.test(e)) {
        let digits = "";
        while (digits.length < 3 && /[0-7]/.test(this.source[this.pos] ?? "")) {
          digits += this.source[this.pos];
          this.advance();
        }
        out.push(Number.parseInt(digits, 8) & 0xff);
      } else if (e === "x" && /[0-9a-fA-F]/.test(this.source[this.pos + 1] ?? "")) {
        this.advance();
        let digits = "";
        while (digits.length < 2 && /[0-9a-fA-F]/.test(this.source[this.pos] ?? "")) {
          digits += this.source[this.pos];
          this.advance();
        }
        out.push(Number.parseInt(digits, 16));
      } else {
        if (e !== "") this.advance();
        throw new LexError(`invalid escape character '\\${e}'`, this.rangeFrom(escStart));
      }
    }
    return { kind: "string", text: this.source.slice(start.pos, this.pos), range: this.rangeFrom(start), bytes: Uint8Array.from(out) };
  }
}
