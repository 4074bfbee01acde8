/**
 * Structured control flow for the JIT's fast path (the way LLVM's WebAssembly backend "stackifies" a CFG):
 * with basic blocks in program order, every backward jump becomes a `br` to a wasm `loop` that begins at its
 * target, and every forward jump a `br` out of a `block` that ends just before its target. That needs the
 * loops and blocks to nest; clang's output does (reducible flow, loops laid out contiguously). When they
 * cannot nest (irreducible flow, a jump into the middle of a loop), `plan` says so and the compiler uses its
 * dispatch loop instead, which takes any flow.
 */

export interface Construct {
  kind: "block" | "loop";
  /** First block position inside it. */
  start: number;
  /** Last block position inside it (a block ends just before its target, `last + 1`). */
  last: number;
  /** Blocks: the target position; loops: the header position. */
  label: number;
}

/** Per position: constructs to open before its code (outermost first) and to close after it (innermost first). */
export interface Plan {
  opens: Construct[][];
  closes: Construct[][];
}

/**
 * `jumps[b]`: the blocks block b may jump to (not counting falling through to b + 1). Returns undefined when
 * the flow cannot be expressed with nested blocks and loops in program order.
 */
export function plan(n: number, jumps: ReadonlyArray<readonly number[]>): Plan | undefined {
  const loops = new Map<number, number>(); // header -> last block with a back edge to it
  const forward = new Map<number, number>(); // target -> first source
  jumps.forEach((targets, b) => {
    for (const t of targets) {
      if (t <= b) loops.set(t, Math.max(loops.get(t) ?? t, b));
      else forward.set(t, Math.min(forward.get(t) ?? b, b));
    }
  });
  const loopList: Construct[] = [...loops].map(([h, e]) => ({ kind: "loop", start: h, last: e, label: h }));
  // loops must nest
  for (const a of loopList) for (const b of loopList) if (a.start < b.start && b.start <= a.last && b.last > a.last) return undefined;
  // a forward jump may enter a loop only at its header (from outside), and jump anywhere inside from inside
  for (const [t, first] of forward) {
    for (const l of loopList) if (t > l.start && t <= l.last && first < l.start) return undefined;
  }
  const sources = new Map<number, number[]>();
  jumps.forEach((targets, b) => {
    for (const t of targets) if (t > b) sources.set(t, [...(sources.get(t) ?? []), b]);
  });
  for (const [t, from] of sources) {
    for (const b of from) for (const l of loopList) if (t > l.start && t <= l.last && (b < l.start || b > l.last)) return undefined;
  }
  // blocks: start at the first source, moved out of loops the target lies beyond, widened until they nest
  const blocks: Construct[] = [...forward].map(([t, first]) => ({ kind: "block", start: first, last: t - 1, label: t }));
  for (let changed = true, rounds = 0; changed; rounds++) {
    if (rounds > 4 * (blocks.length + loopList.length) + 8) return undefined;
    changed = false;
    for (const k of blocks) {
      for (const l of loopList) {
        // inside a loop that the block must outlive: start before the loop
        if (k.start > l.start && k.start <= l.last && k.last > l.last) {
          k.start = l.start;
          changed = true;
        }
        if (k.start === l.start && k.last > l.last) continue; // opens first, outside the loop: fine
      }
      for (const o of blocks) {
        if (o !== k && o.start < k.start && k.start <= o.last && o.last < k.last) {
          k.start = o.start;
          changed = true;
        }
      }
    }
  }
  // everything must now nest; a block may not start inside a loop and end past it (handled), nor start
  // before a loop and end inside it
  const all = [...blocks, ...loopList];
  for (const a of all)
    for (const b of all) {
      if (a === b) continue;
      const crosses = a.start < b.start && b.start <= a.last && a.last < b.last;
      if (crosses) return undefined;
    }
  const opens: Construct[][] = Array.from({ length: n }, () => []);
  const closes: Construct[][] = Array.from({ length: n }, () => []);
  for (const k of all) {
    if (k.start < 0 || k.last >= n) return undefined;
    opens[k.start]?.push(k);
    closes[k.last]?.push(k);
  }
  // opening at one position: outermost first — the longer span, and at equal spans the block (its end comes
  // after the loop's). Closing at one position: innermost first — the later start, and at equal starts the loop.
  for (const list of opens) list.sort((a, b) => b.last - a.last || (a.kind === "block" ? -1 : 1) - (b.kind === "block" ? -1 : 1));
  for (const list of closes) list.sort((a, b) => b.start - a.start || (a.kind === "loop" ? -1 : 1) - (b.kind === "loop" ? -1 : 1));
  return { opens, closes };
}
