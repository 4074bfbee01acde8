/**
 * The generator's callbacks, locks, timers and may_goto loops: bpf_loop and bpf_for_each_map_elem with a callback that counts in the caller's
 * stack, indexes a buffer there with the count, reads the map's key and value, looks up a map, or returns a
 * shaped value; bad variants return out of [0, 1], a pointer or nothing known, read past the context or the
 * value, pass a number for the callback or the context, or walk a map type that cannot be walked.
 */
import { at, type Gen, shape, unknownScalar } from "./verifier-gen-core.js";

/** A static function appended after the main program, whose address the program takes. Returns its label. */
function callbackFn(g: Gen, body: string[]): string {
  const name = `cb${g.funcs.length}`;
  g.funcs.push(`${name}:`, ...body, "exit");
  g.funcInfo = true;
  return name;
}

/** What the callback returns: 0 or 1, or (bad) a value out of range, a pointer, or any scalar. */
function callbackReturn(g: Gen): string[] {
  if (!g.bad()) return g.chance(0.8) ? [`mov %r0, ${g.int(0, 1)}`] : ["call 7", "and %r0, 1"];
  return [g.pick(["mov %r0, 2", "mov %r0, -1", "mov %r0, %r10", "call 7"])];
}

/** The context: a counter (and a buffer above it) in the caller's stack, or NULL. */
function context(g: Gen, reg: number): boolean {
  if (g.chance(0.15)) {
    g.emit(`mov %r${reg}, ${g.bad() ? 16 : 0}`);
    return false;
  }
  g.emit("stdw [%r10-64], 0", "stdw [%r10-56], 0", "stdw [%r10-48], 0");
  if (g.bad()) g.emit("stdw [%r10-72], 0");
  g.emit(`mov %r${reg}, %r10`, `add %r${reg}, ${g.bad() ? -72 : -64}`);
  return true;
}

/** Callback bodies that use the context in `ctx` (a pointer to the counter, then 16 bytes). */
function useContext(g: Gen, ctx: number): string[] {
  switch (g.int(0, 3)) {
    case 0: // count
      return [`ldxdw %r7, ${at(ctx, 0)}`, "add %r7, 1", `stxdw ${at(ctx, 0)}, %r7`];
    case 1: {
      // the count indexes the buffer: safe while it stays below 16 (bpf_loop's count bounds it, or a check)
      const body = [`ldxdw %r7, ${at(ctx, 0)}`];
      if (!g.bad()) body.push("jgt %r7, 15, +4");
      body.push(`mov %r8, %r${ctx}`, "add %r8, %r7", "stb [%r8+8], 1", "add %r7, 1", `stxdw ${at(ctx, 0)}, %r7`);
      return body;
    }
    case 2: // a read of the context, maybe past it
      return [`ldxdw %r7, ${at(ctx, g.bad() ? g.pick([24, -8, 20]) : g.pick([0, 8, 16]))}`];
    default: {
      // a lookup with the count as its key
      const check = g.bad() ? [] : ["jeq %r0, 0, +1"];
      return [
        `ldxw %r7, ${at(ctx, 0)}`,
        "stxw [%r10-4], %r7",
        "lddw %r1, map_idx(1)",
        "mov %r2, %r10",
        "add %r2, -4",
        "call 1",
        ...check,
        "ldxdw %r0, [%r0+0]",
      ];
    }
  }
}

/** bpf_loop(count, callback, ctx, 0) or bpf_for_each_map_elem(map, callback, ctx, 0). */
export function callback(g: Gen): void {
  if (g.chance(0.6)) {
    // bpf_loop: the count a constant or a shaped unknown, the callback (index, ctx)
    const done = g.label();
    if (g.chance(0.5)) g.emit(`mov %r1, ${g.pick([0, 1, 2, 5, 16, 100])}`);
    else {
      unknownScalar(g, 9);
      shape(g, 9, done);
      g.emit("mov %r1, %r9");
    }
    g.emit("stxdw [%r10-80], %r1");
    const hasCtx = context(g, 3);
    const body = hasCtx ? useContext(g, 2) : [];
    if (g.chance(0.3)) body.push("mov %r7, %r1", "and %r7, 7"); // the index
    g.emit("ldxdw %r1, [%r10-80]");
    g.emit(g.bad() && g.chance(0.3) ? "mov %r2, 0" : `lddw %r2, func(${callbackFn(g, [...body, ...callbackReturn(g)])})`);
    g.emit("mov %r4, 0", "call 181", `${done}:`);
    return;
  }
  // for_each: hash, array, percpu array, LRU hash, or (bad) a ring buffer or a prog array
  const m = g.bad() ? g.pick([2, 4]) : g.pick([0, 1, 3, 5]);
  const valueSize = [16, 64, 0, 8, 4, 8][m] as number;
  const hasCtx = context(g, 3);
  const body: string[] = [];
  if (g.chance(0.5)) body.push(`ldxdw %r7, ${at(3, g.bad() ? valueSize : g.int(0, Math.max(0, valueSize / 8 - 1)) * 8)}`);
  if (g.chance(0.3)) body.push(`ldxw %r7, ${at(2, g.bad() ? 8 : 0)}`);
  if (hasCtx && g.chance(0.7)) body.push(...useContext(g, 4));
  g.emit(`lddw %r1, map_idx(${m})`, `lddw %r2, func(${callbackFn(g, [...body, ...callbackReturn(g)])})`, "mov %r4, 0", "call 164");
}

/**
 * A bpf_spin_lock section on the locked map's value: the counter updated under it; bad variants call a
 * helper inside, touch the lock's bytes, leave without unlocking, unlock through another value, or lock at
 * the wrong offset.
 */
export function spinLock(g: Gen, out: string): void {
  const constKey = g.chance(0.6);
  if (constKey) g.emit("stw [%r10-4], 0");
  else {
    unknownScalar(g, 7);
    g.emit("stxw [%r10-4], %r7");
  }
  g.emit("lddw %r1, map_idx(8)", "mov %r2, %r10", "add %r2, -4", "call 1", `jeq %r0, 0, ${out}`, "mov %r8, %r0");
  const other = g.bad() && g.chance(0.3);
  if (other) g.emit("lddw %r1, map_idx(8)", "mov %r2, %r10", "add %r2, -4", "call 1", `jeq %r0, 0, ${out}`, "mov %r9, %r0");
  g.emit("mov %r1, %r8", `add %r1, ${g.bad() ? g.pick([0, 8, 2]) : 4}`, "call 93");
  switch (g.bad() ? g.int(0, 3) : 4) {
    case 0:
      g.emit("call 7");
      break;
    case 1:
      g.emit(`ldxw %r0, [%r8+${g.pick([4, 2, 6])}]`);
      break;
    case 2:
      g.emit(`jeq %r0, 0, ${out}`);
      break;
    default:
      g.emit("ldxw %r0, [%r8+0]", "add %r0, 1", "stxw [%r8+0], %r0");
  }
  g.emit(`mov %r1, %r${other ? 9 : 8}`, "add %r1, 4", "call 94");
}

/**
 * A loop only may_goto ends (cond_break): a counter and a sum that widen, or a counter indexing a stack
 * buffer, with its bound check (good) or without (bad), kept in a register or in the stack.
 */
export function mayGotoLoop(g: Gen): void {
  const top = g.label();
  const done = g.label();
  const onStack = g.chance(0.3);
  g.emit("stdw [%r10-96], 0", "stdw [%r10-88], 0", "mov %r8, 0", "mov %r9, 0");
  if (onStack) g.emit("stxdw [%r10-104], %r8");
  g.emit(`${top}:`, `may_goto ${done}`);
  if (onStack) g.emit("ldxdw %r8, [%r10-104]");
  if (g.chance(0.5)) {
    if (!g.bad()) g.emit(`jge %r8, ${g.pick([8, 16])}, ${done}`);
    g.emit("mov %r7, %r10", "add %r7, -96", "add %r7, %r8", "stb [%r7+0], 1");
  } else g.emit("add %r9, %r8");
  g.emit("add %r8, 1");
  if (onStack) g.emit("stxdw [%r10-104], %r8");
  g.emit(`ja ${top}`, `${done}:`);
}

/**
 * A bpf_timer in the timers map's value: initialised, given a callback (which reads the value and returns
 * 0), started; bad variants pass the wrong map, a wrong offset, read the timer's bytes, or return 1.
 */
export function timer(g: Gen, out: string): void {
  g.emit("stw [%r10-4], 0", "lddw %r1, map_idx(9)", "mov %r2, %r10", "add %r2, -4", "call 1", `jeq %r0, 0, ${out}`, "mov %r7, %r0");
  g.emit(
    "mov %r1, %r7",
    ...(g.bad() ? [`add %r1, ${g.pick([8, 4])}`] : []),
    `lddw %r2, map_idx(${g.bad() ? 1 : 9})`,
    "mov %r3, 1",
    "call 169",
  );
  const body = [`ldxdw %r0, [%r3+${g.bad() ? g.pick([0, 8, 24]) : 16}]`, "ldxw %r0, [%r2+0]", `mov %r0, ${g.bad() ? 1 : 0}`];
  g.emit("mov %r1, %r7", `lddw %r2, func(${callbackFn(g, body)})`, "call 170");
  if (g.chance(0.7)) g.emit("mov %r1, %r7", "mov %r2, 1000", "mov %r3, 0", "call 171");
  if (g.chance(0.2)) g.emit(`ldxdw %r0, [%r7+${g.bad() ? 0 : 16}]`);
}
