/** The syntax tree of a tracing script; every node carries its source range. */
import type { SourceRange } from "./errors.js";

export interface IntType {
  readonly size: 1 | 2 | 4 | 8;
  readonly signed: boolean;
}

export type Expr =
  | { readonly kind: "int"; readonly value: bigint; readonly range: SourceRange }
  | { readonly kind: "str"; readonly bytes: Uint8Array; readonly range: SourceRange }
  | { readonly kind: "builtin"; readonly name: string; readonly range: SourceRange }
  | { readonly kind: "var"; readonly name: string; readonly range: SourceRange }
  | { readonly kind: "positional"; readonly index: number; readonly range: SourceRange }
  | { readonly kind: "map"; readonly name: string; readonly keys: readonly Expr[] | undefined; readonly range: SourceRange }
  | { readonly kind: "call"; readonly name: string; readonly args: readonly Expr[]; readonly range: SourceRange }
  | {
      readonly kind: "binop";
      readonly op: string;
      readonly left: Expr;
      readonly right: Expr;
      readonly range: SourceRange;
      readonly opRange: SourceRange;
    }
  | { readonly kind: "unop"; readonly op: string; readonly operand: Expr; readonly range: SourceRange }
  | { readonly kind: "incdec"; readonly op: "++" | "--"; readonly prefix: boolean; readonly target: Expr; readonly range: SourceRange }
  | { readonly kind: "ternary"; readonly cond: Expr; readonly whenTrue: Expr; readonly whenFalse: Expr; readonly range: SourceRange }
  | { readonly kind: "tuple"; readonly elems: readonly Expr[]; readonly range: SourceRange }
  | { readonly kind: "field"; readonly base: Expr; readonly field: string; readonly arrow: boolean; readonly range: SourceRange }
  | {
      readonly kind: "cast";
      readonly type: IntType;
      /** Levels of `*` after the type: `(uint8 **)` is 2; 0 for an integer cast. */
      readonly pointer: number;
      /** `(struct NAME *)`: the struct's name (then `type` is unused). */
      readonly struct?: string;
      readonly operand: Expr;
      readonly range: SourceRange;
    }
  | { readonly kind: "sizeof"; readonly type: IntType | undefined; readonly operand: Expr | undefined; readonly range: SourceRange };

export type Stmt =
  | { readonly kind: "expr"; readonly expr: Expr; readonly range: SourceRange }
  | {
      readonly kind: "assign";
      readonly target: Expr;
      /** The compound operator without '=' ("+" for +=), or undefined for plain '='. */
      readonly op: string | undefined;
      readonly value: Expr;
      readonly range: SourceRange;
      readonly opRange: SourceRange;
    }
  | {
      readonly kind: "if";
      readonly cond: Expr;
      readonly body: readonly Stmt[];
      readonly orElse: readonly Stmt[] | undefined;
      readonly range: SourceRange;
    }
  | { readonly kind: "unroll"; readonly count: Expr; readonly body: readonly Stmt[]; readonly range: SourceRange }
  | { readonly kind: "while"; readonly cond: Expr; readonly body: readonly Stmt[]; readonly range: SourceRange }
  | { readonly kind: "jump"; readonly what: "return" | "break" | "continue"; readonly range: SourceRange };

export interface AttachPointNode {
  readonly text: string;
  readonly range: SourceRange;
}

export interface Probe {
  readonly attachPoints: readonly AttachPointNode[];
  readonly predicate: Expr | undefined;
  readonly body: readonly Stmt[];
  readonly range: SourceRange;
}

export interface Script {
  readonly probes: readonly Probe[];
  readonly source: string;
}

export const INT_TYPES: Record<string, IntType> = {
  int8: { size: 1, signed: true },
  int16: { size: 2, signed: true },
  int32: { size: 4, signed: true },
  int64: { size: 8, signed: true },
  uint8: { size: 1, signed: false },
  uint16: { size: 2, signed: false },
  uint32: { size: 4, signed: false },
  uint64: { size: 8, signed: false },
};
