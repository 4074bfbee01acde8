/**
 * More of the generator's blocks: static subprogram calls (arguments, the callee's own frame, return
 * values, pointers into the caller's stack), NULL checks through copies and spills, helpers writing into
 * map values, XDP metadata and head adjustment, and signed arithmetic (sdiv, smod, movsx, ldsx).
 */
import { at, ctxField, GEN_MAPS, type Gen, shape, storeKey, TRACING_TYPES, unknownScalar } from "./verifier-gen-core.js";

/** A callee appended after the main program; `call local` reaches it. Returns its label. */
function callee(g: Gen, body: string[]): string {
  const name = `f${g.funcs.length}`;
  g.funcs.push(`${name}:`, ...body, "exit");
  return name;
}

/** A bpf-to-bpf call of one of a few callee shapes, good or bad. */
export function subprogCall(g: Gen, out: string): void {
  switch (g.int(0, 4)) {
    case 0: {
      // The caller's stack buffer, read and written by the callee.
      g.emit("stdw [%r10-16], 0", "stdw [%r10-8], 0", "mov %r1, %r10", "add %r1, -16");
      if (g.bad()) g.emit("mov %r1, 16"); // a number where the callee expects a pointer
      const off = g.bad() ? g.pick([16, -8]) : g.pick([0, 8]);
      g.emit(`call local ${callee(g, [`ldxdw %r0, ${at(1, off)}`, "stdw [%r1+0], 5", ...(g.bad() ? ["mov %r0, %r6"] : [])])}`);
      g.emit("ldxdw %r2, [%r10-16]");
      break;
    }
    case 1:
      g.emit("mov %r1, %r6", `call local ${callee(g, [g.bad() ? "ldxw %r0, [%r1+2000]" : ctxField(g, 0, 1)])}`);
      break;
    case 2: {
      // A bounded scalar returned to the caller, used as a stack offset there.
      const mask = g.bad() ? g.pick([63, 255]) : g.pick([7, 15, 31]);
      g.emit(`call local ${callee(g, ["call 7", `and %r0, ${mask}`])}`);
      g.emit("stdw [%r10-32], 0", "stdw [%r10-24], 0", "stdw [%r10-16], 0", "stdw [%r10-8], 0");
      g.emit("mov %r1, %r10", "add %r1, -32", "add %r1, %r0", "ldxb %r0, [%r1+0]");
      break;
    }
    case 3:
      // A callee returning a pointer into its own frame (bad), or one into the caller's.
      if (g.bad()) g.emit(`call local ${callee(g, ["stdw [%r10-8], 1", "mov %r0, %r10", "add %r0, -8"])}`);
      else {
        g.emit("stdw [%r10-40], 7", "mov %r1, %r10", "add %r1, -40", `call local ${callee(g, ["mov %r0, %r1"])}`);
        g.emit("ldxdw %r0, [%r0+0]");
      }
      break;
    default: {
      // The callee's own map lookup, with its key on its own stack.
      const body = ["stw [%r10-4], 1", "lddw %r1, map_idx(1)", "mov %r2, %r10", "add %r2, -4", "call 1"];
      if (!g.bad()) body.push("jeq %r0, 0, +1");
      body.push("ldxdw %r0, [%r0+0]");
      g.emit(`call local ${callee(g, body)}`);
      if (g.bad()) g.emit("mov %r0, %r3"); // clobbered by the call
      if (g.chance(0.2)) g.emit(`jeq %r0, 0, ${out}`);
    }
  }
}

/** A lookup whose NULL check is made on a copy, or on a value filled back from the stack. */
export function nullCopy(g: Gen): void {
  const m = g.pick([0, 1, 3, 5]);
  const keySize = GEN_MAPS[m]?.keySize ?? 4;
  storeKey(g, 8, keySize);
  g.emit(`lddw %r1, map_idx(${m})`, "mov %r2, %r10", "add %r2, -8", "call 1");
  const done = g.label();
  const viaStack = g.chance(0.5);
  if (viaStack) g.emit("stxdw [%r10-24], %r0");
  else g.emit("mov %r8, %r0");
  if (g.bad()) g.emit(g.pick(["add %r0, 8", "mov %r8, 0", "stb [%r10-21], 0"]));
  g.emit(viaStack ? "ldxdw %r9, [%r10-24]" : "mov %r9, %r8", `jeq %r9, 0, ${done}`);
  g.emit(`ldxdw %r1, [%r0+${g.bad() ? 16 : 0}]`, `stdw [%r${g.pick([0, 9])}+0], 1`, `${done}:`);
}

/** A helper writing into a map value: probe_read_kernel (kprobes) or get_current_comm. */
export function helperIntoValue(g: Gen): void {
  if (!TRACING_TYPES.has(g.type) && g.type !== "sched_cls") return;
  storeKey(g, 8, 4);
  g.emit("lddw %r1, map_idx(1)", "mov %r2, %r10", "add %r2, -8", "call 1");
  const done = g.label();
  if (!g.bad()) g.emit(`jeq %r0, 0, ${done}`);
  const off = g.bad() ? g.pick([60, 64]) : g.pick([0, 8, 48]);
  const size = g.bad() ? g.pick([17, 64]) : 16;
  g.emit("mov %r1, %r0", `add %r1, ${off}`, `mov %r2, ${size}`);
  if (TRACING_TYPES.has(g.type)) g.emit(ctxField(g, 3), "call 113");
  else g.emit("call 16");
  g.emit(`${done}:`);
}

/** XDP: metadata before the packet (data_meta to data), or a head adjustment and what it invalidates. */
export function xdpMeta(g: Gen, out: string): void {
  if (g.type !== "xdp") return;
  if (g.chance(0.5)) {
    g.emit("ldxw %r2, [%r6+8]", "ldxw %r3, [%r6+0]", "mov %r4, %r2", "add %r4, 8");
    g.emit(`${g.bad() ? "jgt %r4, %r2" : "jgt %r4, %r3"}, ${out}`, `ldxdw %r5, [%r2+${g.bad() ? 4 : 0}]`);
    return;
  }
  g.emit("ldxw %r7, [%r6+0]", "mov %r1, %r6", `mov %r2, ${g.pick([-14, 14, 0])}`, "call 44");
  // The old packet pointer is gone after the call: only a reload from the context may be used.
  if (!g.bad()) g.emit("ldxw %r7, [%r6+0]");
  g.emit("ldxw %r8, [%r6+4]", "mov %r9, %r7", "add %r9, 4", `jgt %r9, %r8, ${out}`, "ldxw %r0, [%r7+0]");
}

/** Signed division and remainder, sign-extending moves and loads, on shaped values. */
export function signedOps(g: Gen, out: string): void {
  unknownScalar(g, 7);
  shape(g, 7, out);
  const w = g.chance(0.3) ? "32" : "";
  const ops = [
    `sdiv${w} %r7, ${g.bad() ? 0 : g.pick([3, -3, 7])}`,
    `smod${w} %r7, ${g.bad() ? 0 : g.pick([5, -5, 16])}`,
    `movsx8${w || "64"} %r7, %r7`,
    `movsx16${w || "64"} %r7, %r7`,
    ...(w ? [] : ["movsx3264 %r7, %r7"]),
  ];
  for (let k = g.int(1, 2); k > 0; k--) g.emit(g.pick(ops));
  if (g.chance(0.5)) g.emit("stdw [%r10-8], -1", `ldxs${g.pick(["b", "h", "w"])} %r8, [%r10-8]`, "add %r7, %r8");
  if (g.chance(0.5)) {
    g.emit(`jsgt %r7, ${g.pick([15, 31])}, ${out}`, `jslt %r7, ${g.bad() ? -8 : 0}, ${out}`);
    g.emit("stdw [%r10-32], 0", "stdw [%r10-24], 0", "mov %r1, %r10", "add %r1, -32", "add %r1, %r7", "ldxb %r0, [%r1+0]");
  }
}

/** A lookup in a map of maps, then in the inner map it finds (both may be NULL). */
export function mapInMap(g: Gen): void {
  const done = g.label();
  storeKey(g, 8, 4);
  g.emit("lddw %r1, map_idx(6)", "mov %r2, %r10", "add %r2, -8", "call 1");
  if (!g.bad()) g.emit(`jeq %r0, 0, ${done}`);
  if (g.bad() && g.chance(0.3)) g.emit("ldxw %r1, [%r0+0]"); // reading the inner map as data
  g.emit("stw [%r10-16], 1", "mov %r1, %r0", "mov %r2, %r10", "add %r2, -16", "call 1");
  if (!g.bad()) g.emit(`jeq %r0, 0, ${done}`);
  g.emit(`ldxdw %r1, [%r0+${g.bad() ? 16 : g.pick([0, 8])}]`, `${done}:`);
}

/** bpf_perf_event_output of a stack buffer: its map, flags, and size. */
export function perfOutput(g: Gen): void {
  const size = g.pick([8, 16, 32]);
  for (let o = 8; o <= size; o += 8) g.emit(`stdw [%r10-${o}], ${o}`);
  const map = g.bad() ? g.pick([1, 2]) : 7;
  g.emit("mov %r1, %r6", `lddw %r2, map_idx(${map})`, "lddw %r3, 0xffffffff", "mov %r4, %r10", `add %r4, -${size}`);
  g.emit(`mov %r5, ${g.bad() ? g.pick([size + 8, 0, -1]) : size}`, "call 25");
}
