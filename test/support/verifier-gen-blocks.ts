/**
 * The generator's blocks for one program's body: each emits a plausible piece (ctx reads, map lookups and
 * updates, ring buffer records, packet parsing, loops, spills, helpers with stack buffers, pointer
 * arithmetic, tail calls) whose sites take a bad variant with the generator's bad rate.
 */
import type { VerifierMap } from "../../src/verifier/index.js";
import {
  at,
  BYTES,
  CTX,
  ctxField,
  GEN_MAPS,
  type Gen,
  SIZES,
  SKB_FIELDS,
  SKB_TYPES,
  shape,
  storeKey,
  TRACING_TYPES,
  unknownScalar,
  XDP_FIELDS,
} from "./verifier-gen-core.js";

/** Reads a few ctx fields (some not readable, some written). */
export function ctxAccess(g: Gen): void {
  for (let k = g.int(1, 3); k > 0; k--) {
    const r = g.int(0, 5);
    if (!g.bad()) {
      g.emit(ctxField(g, r));
      continue;
    }
    // Somewhere else in (or past) the context, of some size, read or written.
    const [off, size] = SKB_TYPES.has(g.type)
      ? g.pick(SKB_FIELDS)
      : g.type === "xdp"
        ? g.pick(XDP_FIELDS)
        : [g.int(-1, 60) * 4, g.pick([1, 2, 4, 8])];
    const sz = { 1: "b", 2: "h", 4: "w", 8: "dw" }[size] as string;
    const roll = g.next();
    if (roll < 0.2) g.emit(`stx${sz} ${at(6, off)}, %r6`);
    else if (roll < 0.4) g.emit(`st${sz} ${at(6, off)}, ${g.int(0, 3)}`);
    else g.emit(`ldx${sz} %r${r}, ${at(6, off)}`);
  }
}

/** map lookup, the null check, then reads and writes into the value at shaped offsets. */
export function mapLookup(g: Gen, out: string): void {
  const m = g.pick([0, 1, 3, 5, ...(g.bad() ? [2, 4] : [])]);
  const map = GEN_MAPS[m] as VerifierMap;
  const keySize = map.keySize || 4;
  const keyOff = keySize === 8 ? 8 : g.pick([4, 8, 16]);
  storeKey(g, keyOff, keySize);
  g.emit(`lddw %r1, map_idx(${m})`, "mov %r2, %r10", `add %r2, -${g.bad() ? keyOff - 2 : keyOff}`, "call 1");
  const done = g.label();
  if (!g.bad()) {
    if (g.chance(0.8)) g.emit(`jeq %r0, 0, ${done}`);
    else {
      const ok = g.label();
      g.emit(`jne %r0, 0, ${ok}`, `ja ${done}`, `${ok}:`);
    }
  }
  g.emit("mov %r7, %r0");
  const vs = map.valueSize;
  for (let k = g.int(1, 3); k > 0; k--) {
    const size = g.pick(SIZES);
    const b = BYTES[size];
    if (g.chance(0.4)) {
      unknownScalar(g, 8);
      shape(g, 8, done);
      g.emit("mov %r1, %r7", "add %r1, %r8");
      g.emit(g.chance(0.5) ? `ldx${size} %r0, [%r1+0]` : `st${size} [%r1+0], 1`);
    } else {
      const off = g.bad() ? g.pick([vs, vs - b + 1, -b, vs + 8]) : b * g.int(0, Math.max(0, vs / b - 1));
      const m = at(7, off);
      if (g.chance(0.3) && b >= 4)
        g.emit(`lock ${g.pick(["add", "fetch add", "xchg"])}${b === 4 ? "32" : ""} ${m}, %r${g.pick([8, 0, 10, 9])}`);
      else if (g.chance(0.5)) g.emit(`ldx${size} %r0, ${m}`);
      else g.emit(`stx${size} ${m}, %r${g.pick([6, 7, 0, 1])}`);
    }
  }
  if (g.chance(0.2)) g.emit(g.bad() ? "or %r7, 1" : "add %r7, 8", "ldxb %r0, [%r7+0]");
  g.emit(`${done}:`);
  if (g.chance(0.1)) g.emit(`ja ${out}`);
}

/** map update or delete with key and value on the stack. */
export function mapUpdate(g: Gen): void {
  const m = g.pick([0, 1, 3, 5, ...(g.bad() ? [2, 4] : [])]);
  const map = GEN_MAPS[m] as VerifierMap;
  const keySize = map.keySize || 4;
  storeKey(g, 8, keySize);
  const vs = map.valueSize || 8;
  const init = g.bad() ? vs - 8 : vs;
  for (let o = 0; o < init; o += 8) g.emit(`stdw [%r10-${16 + vs - o}], ${o}`);
  g.emit(`lddw %r1, map_idx(${m})`, "mov %r2, %r10", "add %r2, -8");
  if (g.chance(0.3)) {
    g.emit("call 3");
    return;
  }
  g.emit("mov %r3, %r10", `add %r3, -${16 + vs}`, `mov %r4, ${g.bad() ? g.pick([7, -1]) : g.int(0, 2)}`, "call 2");
}

/** ring buffer reserve, null check, writes, then submit or discard (or neither). */
export function ringbuf(g: Gen, out: string): void {
  const size = g.pick([8, 16, 24, 64]);
  g.emit("lddw %r1, map_idx(2)");
  if (g.bad()) {
    unknownScalar(g, 2);
    shape(g, 2, out);
  } else g.emit(`mov %r2, ${size}`);
  g.emit("mov %r3, 0", "call 131");
  const done = g.label();
  if (!g.bad()) g.emit(`jeq %r0, 0, ${done}`);
  g.emit("mov %r7, %r0");
  for (let k = g.int(0, 2); k > 0; k--) {
    const off = g.bad() ? size : 8 * g.int(0, size / 8 - 1);
    g.emit(`stdw [%r7+${off}], ${g.int(0, 9)}`);
  }
  if (g.chance(0.15) && g.bad()) g.emit(`jeq %r8, 0, ${out}`); // a path that leaks the record
  if (!(g.chance(0.3) && g.bad())) g.emit("mov %r1, %r7", "mov %r2, 0", `call ${g.pick([132, 133])}`);
  if (g.chance(0.1) && g.bad()) g.emit("ldxdw %r0, [%r7+0]"); // use after submit
  g.emit(`${done}:`);
}

/** Parses a packet against data_end: a header, then a variable-length one. */
export function packet(g: Gen, out: string): void {
  const pkt = CTX[g.type]?.packet;
  if (!pkt) return;
  const ld = pkt.size === 8 ? "ldxdw" : "ldxw";
  g.emit(`${ld} %r2, [%r6+${pkt.data}]`, `${ld} %r3, [%r6+${g.bad() ? pkt.data + 8 : pkt.end}]`);
  const hdr = g.pick([14, 20, 34, 54]);
  g.emit("mov %r4, %r2", `add %r4, ${hdr}`);
  const check = g.bad() ? g.pick(["jgt %r4, %r2", "jlt %r4, %r3", "jge %r3, %r4"]) : g.pick(["jgt %r4, %r3", "jlt %r3, %r4"]);
  g.emit(`${check}, ${out}`);
  for (let k = g.int(1, 3); k > 0; k--) {
    const size = g.pick(SIZES);
    const b = BYTES[size];
    const off = g.bad() ? hdr - b + 1 : g.int(0, hdr - b);
    g.emit(g.chance(0.8) ? `ldx${size} %r5, [%r2+${off}]` : `st${size} [%r2+${off}], 0`);
  }
  if (g.chance(0.5)) {
    // A variable-length header: its length from a byte of the packet.
    g.emit(`ldxb %r5, [%r2+${g.int(0, hdr - 1)}]`);
    if (!g.bad()) g.emit(`and %r5, ${g.pick([0xf, 0x3f, 0xff])}`);
    if (g.chance(0.5)) g.emit("lsh %r5, 2");
    g.emit("add %r2, %r5", "mov %r4, %r2", `add %r4, ${g.pick([4, 8])}`);
    g.emit(`${g.bad() ? "jgt %r4, %r2" : "jgt %r4, %r3"}, ${out}`, `ldx${g.pick(["b", "h", "w"])} %r0, [%r2+${g.bad() ? 4 : 0}]`);
  }
}

/** Classic packet loads (ld_abs/ld_ind): they need the context in r6 and clobber r1-r5. */
export function ldAbs(g: Gen): void {
  if (g.bad() && g.chance(0.5)) g.emit("mov %r6, %r10"); // not the context
  for (let k = g.int(1, 3); k > 0; k--) {
    const size = g.pick(["b", "h", "w"]);
    if (g.chance(0.6)) g.emit(`ldabs${size} ${g.bad() ? g.pick([-1, 0x7fffffff]) : g.int(0, 60)}`);
    else {
      unknownScalar(g, 7);
      g.emit(`ldind${size} %r7, ${g.int(0, 20)}`);
    }
    if (g.chance(0.3)) g.emit("mov %r8, %r0");
  }
  if (g.bad()) g.emit("mov %r0, %r2"); // clobbered
}

/** A bounded loop over the stack or a map value; bad: the counter never reaches the bound. */
export function loop(g: Gen): void {
  const n = g.pick([4, 8, 16]);
  const head = g.label();
  for (let o = 8; o <= 8 * n && o <= 128; o += 8) g.emit(`stdw [%r10-${o + 128}], 0`);
  g.emit("mov %r7, 0", `${head}:`);
  g.emit("mov %r1, %r7", "and %r1, 15", "lsh %r1, 3", "mov %r2, %r10", "add %r2, -256", "add %r2, %r1");
  g.emit(g.bad() ? "ldxdw %r0, [%r2+8]" : "ldxdw %r0, [%r2+0]");
  g.emit(`add %r7, ${g.bad() && g.chance(0.3) ? 0 : 1}`);
  g.emit(`${g.bad() ? "jne" : "jlt"} %r7, ${n}, ${head}`);
}

/** Spills a register to the stack and fills it back, sometimes after clobbering part of the slot. */
export function spill(g: Gen): void {
  const off = g.pick([8, 16, 24, 32, 40]);
  const what = g.pick(["ctx", "fp", "scalar", "bounded"]);
  if (what === "ctx") g.emit("mov %r7, %r6");
  else if (what === "fp") g.emit("mov %r7, %r10", "add %r7, -64", "stdw [%r10-64], 0");
  else if (what === "scalar") unknownScalar(g, 7);
  else g.emit("call 7", "mov %r7, %r0", "and %r7, 31");
  g.emit(`stxdw [%r10-${off}], %r7`);
  if (g.bad()) g.emit(g.pick([`stb [%r10-${off - 3}], 1`, `stw [%r10-${off}], 0`, `stxw [%r10-${off - 4}], %r1`]));
  const size = g.bad() ? g.pick(["w", "b"]) : "dw";
  g.emit(`ldx${size} %r8, [%r10-${off}]`);
  if (what === "ctx") g.emit(ctxField(g, 0, 8));
  else if (what === "fp") g.emit("ldxdw %r0, [%r8+0]");
  else g.emit("mov %r1, %r10", "add %r1, -128", "stdw [%r10-128], 0", "add %r1, %r8", "ldxb %r0, [%r1+0]");
}

/** A helper that fills a stack buffer: its size constant, shaped, or too big. */
export function stackHelper(g: Gen, out: string): void {
  const buf = g.pick([16, 32, 64]);
  if (g.chance(0.5)) for (let o = 8; o <= buf; o += 8) g.emit(`stdw [%r10-${o}], 0`);
  const sizeReg = (r: number): void => {
    if (g.chance(0.4)) {
      unknownScalar(g, 9);
      shape(g, 9, out);
      g.emit(`mov %r${r}, %r9`);
    } else g.emit(`mov %r${r}, ${g.bad() ? g.pick([buf + 1, 0, -1]) : g.int(1, buf)}`);
  };
  if (SKB_TYPES.has(g.type)) {
    sizeReg(4);
    g.emit("mov %r1, %r6", `mov %r2, ${g.int(0, 20)}`, "mov %r3, %r10", `add %r3, -${buf}`, "call 26"); // skb_load_bytes
  } else if (TRACING_TYPES.has(g.type)) {
    sizeReg(2);
    g.emit(ctxField(g, 3), "mov %r1, %r10", `add %r1, -${buf}`, `call ${g.pick([113, 16, 113])}`);
  } else {
    sizeReg(2);
    g.emit("mov %r1, %r10", `add %r1, -${buf}`, "call 16"); // get_current_comm: not for xdp
  }
  if (g.chance(0.5)) g.emit(`ldxdw %r0, [%r10-${buf}]`);
}

/** Registers a call clobbers, read again (bad) or written first. */
export function clobber(g: Gen): void {
  g.emit(`call ${g.pick([5, 7, 8, 14])}`);
  const r = g.int(1, 5);
  if (g.bad()) g.emit(`mov %r0, %r${r}`);
  else g.emit(`mov %r${r}, 1`, `add %r0, %r${r}`);
}

/** Arithmetic and comparisons on pointers. */
export function pointerOps(g: Gen): void {
  const src = g.pick(["mov %r7, %r6", "mov %r7, %r10"]);
  g.emit(src);
  const op = g.pick([
    "add %r7, 8",
    "sub %r7, 8",
    "add32 %r7, 1",
    "mul %r7, 2",
    "or %r7, 1",
    "and %r7, -8",
    "neg %r7",
    "sub %r7, %r6",
    "add %r7, %r6",
    "lsh %r7, 1",
    "mov32 %r7, %r7",
    "xor %r7, 0",
  ]);
  g.emit(op);
  if (g.chance(0.5)) g.emit("jeq %r7, 0, +1", "mov %r0, 1");
  if (g.chance(0.5)) g.emit(src.endsWith("r6") ? "ldxw %r0, [%r7+0]" : "stdw [%r7-8], 0");
}

export function tailCall(g: Gen): void {
  g.emit("mov %r1, %r6", `lddw %r2, map_idx(${g.bad() ? 1 : 4})`, `mov %r3, ${g.int(0, 5)}`, "call 12");
}
