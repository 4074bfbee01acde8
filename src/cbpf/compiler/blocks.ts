/**
 * The intermediate code libpcap's code generator builds: blocks ending in a conditional jump, each with a
 * linked list of statements, and the "sense"-threaded lists of unresolved branch targets that `and`, `or`
 * and `not` splice together. Kept as linked lists (not arrays) because the generator shares list tails
 * between expressions exactly as libpcap does, and the emitted order depends on it.
 */

import * as C from "../insn.js";

export interface Stmt {
  code: number;
  k: number;
  /** Jump targets inside a statement list (only for the few generators that emit in-list branches). */
  jt: Slist | null;
  jf: Slist | null;
}

export interface Slist {
  s: Stmt;
  next: Slist | null;
}

export interface Block {
  id: number;
  s: Stmt;
  stmts: Slist | null;
  jt: Block | null;
  jf: Block | null;
  /** Which branch is unresolved (false: jt, true: jf) while the block sits on a backpatch list. */
  sense: boolean;
  head: Block;
  // Linearization state.
  mark: number;
  offset: number;
  longjt: number;
  longjf: number;
}

export function newStmt(code: number, k = 0): Slist {
  return { s: { code, k, jt: null, jf: null }, next: null };
}

let blockIds = 0;
let marks = 0;

/** A fresh mark value: a block is marked when its `mark` equals it (libpcap's unMarkAll/Mark). */
export function nextMark(): number {
  return ++marks;
}

export function newBlock(code: number, k = 0): Block {
  const b = {
    id: blockIds++,
    s: { code, k, jt: null, jf: null },
    stmts: null,
    jt: null,
    jf: null,
    sense: false,
    mark: 0,
    offset: 0,
    longjt: 0,
    longjf: 0,
  } as unknown as Block;
  b.head = b;
  return b;
}

/** Append list s1 to the end of list s0. */
export function sappend(s0: Slist, s1: Slist | null): void {
  let p = s0;
  while (p.next) p = p.next;
  p.next = s1;
}

/** Point every unresolved branch on `list` at `target`. */
export function backpatch(list: Block | null, target: Block): void {
  let p = list;
  while (p) {
    let next: Block | null;
    if (!p.sense) {
      next = p.jt;
      p.jt = target;
    } else {
      next = p.jf;
      p.jf = target;
    }
    p = next;
  }
}

/** Concatenate the backpatch lists of b0 and b1. */
function merge(b0: Block, b1: Block): void {
  let p: Block = b0;
  for (;;) {
    const next = !p.sense ? p.jt : p.jf;
    if (!next) break;
    p = next;
  }
  if (!p.sense) p.jt = b1;
  else p.jf = b1;
}

export function genAnd(b0: Block, b1: Block): void {
  backpatch(b0, b1.head);
  b0.sense = !b0.sense;
  b1.sense = !b1.sense;
  merge(b1, b0);
  b1.sense = !b1.sense;
  b1.head = b0.head;
}

export function genOr(b0: Block, b1: Block): void {
  b0.sense = !b0.sense;
  backpatch(b0, b1.head);
  b0.sense = !b0.sense;
  merge(b1, b0);
  b1.head = b0.head;
}

export function genNot(b: Block): void {
  b.sense = !b.sense;
}

export const jmp = (op: number): number => C.JMP | op | C.K;
