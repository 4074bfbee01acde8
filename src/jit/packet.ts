/**
 * Reading packets in network byte order: the legacy LD_ABS/LD_IND loads (socket filters, cBPF translated
 * to eBPF), which end the program with r0 = 0 when the read falls outside the packet, and the `ldxh` +
 * `be16` pair C compilers emit for ntohs of a header field.
 */
import type { Instruction } from "../isa/instruction.js";
import { bswap } from "./alu.js";
import { PKT_LEN, PKT_LINK, PKT_NET, PKT_START } from "./entries.js";
import { addressOnStack, type MemoryEmit } from "./memory.js";
import { I32, OP } from "./wasm.js";

/** The kernel's SKF_NET_OFF and SKF_LL_OFF: negative LD_ABS offsets relative to the network / link header. */
const SKF_NET_OFF = -0x100000;
const SKF_LL_OFF = -0x200000;

/**
 * LD_ABS / LD_IND: a big-endian load from the packet described at `spill` (start, length, network and link
 * header addresses); out of bounds sets r0 = 0 and ends the program through `exitProgram`.
 */
export function ldAbs(e: MemoryEmit, ins: Instruction, spill: number, exitProgram: () => void): void {
  const c = e.c;
  const pkt = (field: number): void => {
    c.i32(spill + field);
    c.mem(OP.i32Load, 2);
  };
  const size = (ins.op & 0x18) === 0 ? 4 : (ins.op & 0x18) === 0x08 ? 2 : 1;
  // offset (i32) into e.t32
  if ((ins.op & 0xe0) === 0x40) {
    c.get(e.reg(ins.src));
    c.op(OP.i32WrapI64);
    c.i32(ins.imm);
    c.op(OP.i32Add);
  } else c.i32(ins.imm);
  c.set(e.t32);
  /** Pushes header + (offset - base) when the offset is at least base, else what `otherwise` pushes. */
  const headerRelative = (field: number, base: number, otherwise: () => void): void => {
    c.get(e.t32);
    c.i32(base);
    c.op(OP.i32GeS);
    c.byte(OP.if).byte(I32);
    pkt(field);
    c.get(e.t32);
    c.op(OP.i32Add);
    c.i32(base);
    c.op(OP.i32Sub);
    c.op(OP.else);
    otherwise();
    c.op(OP.end);
  };
  // address into e.a: packet + off, or the network / link header for the SKF_* offsets; -1 if none
  headerRelative(PKT_START, 0, () => headerRelative(PKT_NET, SKF_NET_OFF, () => headerRelative(PKT_LINK, SKF_LL_OFF, () => c.i32(-1))));
  c.set(e.a);
  // in [link header, packet end - size]? (signed compares: -1 and wraps fail)
  c.get(e.a);
  pkt(PKT_LINK);
  c.op(OP.i32LtS);
  c.get(e.a);
  c.i32(size);
  c.op(OP.i32Add);
  pkt(PKT_START);
  pkt(PKT_LEN);
  c.op(OP.i32Add);
  c.op(OP.i32GtS);
  c.op(OP.i32Or);
  e.ifThen(() => {
    c.i64(0n);
    c.set(e.reg(0));
    exitProgram();
  });
  c.get(e.a);
  if (size === 1) {
    c.mem(OP.i64Load8u, 0);
  } else {
    c.mem(size === 4 ? OP.i64Load32u : OP.i64Load16u, 0);
    bswap(e, size * 8);
  }
  c.set(e.reg(0));
}

/** An LDX halfword load followed by a swap of the same register from little- to big-endian 16 bits. */
export function isLoadThenBe16(load: Instruction, swap: Instruction): boolean {
  return load.op === 0x69 && swap.op === 0xdc && swap.imm === 16 && swap.dst === load.dst;
}

/**
 * The pair as two byte loads in network order: two loads, a shift and an or instead of a load and a
 * six-instruction swap. Same address checks (the pair is one 2-byte access at the load's pc), same result.
 */
export function loadBigEndian16(e: MemoryEmit, ins: Instruction, pc: number): void {
  const c = e.c;
  const at = addressOnStack(e, ins.src, ins.off, 2, false, pc);
  c.set(e.a);
  c.get(e.a);
  c.mem(OP.i64Load8u, 0, at);
  c.i64(8n);
  c.op(OP.i64Shl);
  c.get(e.a);
  c.mem(OP.i64Load8u, 0, at + 1);
  c.op(OP.i64Or);
  c.set(e.reg(ins.dst));
}
