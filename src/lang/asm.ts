/**
 * A small instruction builder for generated code: forward and backward jumps to labels, map references by
 * name (resolved by the loader, as an object file's relocations are), and the finished program's slots.
 */
import { type Instruction, insn, splitImm64 } from "../isa/instruction.js";
import {
  ALU_END,
  ALU_MOV,
  CLASS_ALU,
  CLASS_ALU64,
  CLASS_JMP,
  CLASS_LDX,
  CLASS_ST,
  CLASS_STX,
  JMP_CALL,
  JMP_EXIT,
  JMP_JA,
  MODE_MEM,
  OP_LDDW,
  SIZE_B,
  SIZE_DW,
  SIZE_H,
  SIZE_W,
  SRC_K,
  SRC_X,
} from "../isa/opcodes.js";
import type { Reference } from "../object/programs.js";

export type Size = 1 | 2 | 4 | 8;
const SIZE: Record<Size, number> = { 1: SIZE_B, 2: SIZE_H, 4: SIZE_W, 8: SIZE_DW };

export type Label = number & { readonly __label: unique symbol };

interface Item {
  insn: Instruction;
  target?: Label;
  ref?: Reference;
}

export class Asm {
  private readonly items: Item[] = [];
  private readonly labels: number[] = [];

  label(): Label {
    this.labels.push(-1);
    return (this.labels.length - 1) as Label;
  }

  /** Places a label before the next instruction. */
  place(l: Label): void {
    this.labels[l] = this.items.length;
  }

  get length(): number {
    return this.items.length;
  }

  private push(i: Instruction, extra: Omit<Item, "insn"> = {}): void {
    this.items.push({ insn: i, ...extra });
  }

  mov(dst: number, imm: number): void {
    this.push(insn({ op: CLASS_ALU64 | ALU_MOV | SRC_K, dst, imm }));
  }

  movr(dst: number, src: number): void {
    this.push(insn({ op: CLASS_ALU64 | ALU_MOV | SRC_X, dst, src }));
  }

  /** 32-bit move: zero-extends the low half of `src`. */
  mov32r(dst: number, src: number): void {
    this.push(insn({ op: CLASS_ALU | ALU_MOV | SRC_X, dst, src }));
  }

  alu(op: number, dst: number, imm: number): void {
    this.push(insn({ op: CLASS_ALU64 | op | SRC_K, dst, imm }));
  }

  alur(op: number, dst: number, src: number): void {
    this.push(insn({ op: CLASS_ALU64 | op | SRC_X, dst, src }));
  }

  /** Byte swap of the low `bits` (16, 32, 64) of `dst`: BPF_END | BPF_TO_BE, a swap on little-endian BPF. */
  swap(dst: number, bits: 16 | 32 | 64): void {
    this.push(insn({ op: CLASS_ALU | ALU_END | SRC_X, dst, imm: bits }));
  }

  /** Any 64-bit constant: a mov when it fits a sign-extended imm32, else lddw. */
  const64(dst: number, value: bigint): void {
    const v = BigInt.asIntN(64, value);
    if (v >= -0x80000000n && v <= 0x7fffffffn) this.mov(dst, Number(v));
    else this.push(insn({ op: OP_LDDW, dst, ...splitImm64(v) }));
  }

  mapRef(dst: number, map: string): void {
    this.push(insn({ op: OP_LDDW, dst }), { ref: { kind: "map", map } });
  }

  ldx(size: Size, dst: number, src: number, off: number): void {
    this.push(insn({ op: CLASS_LDX | MODE_MEM | SIZE[size], dst, src, off }));
  }

  stx(size: Size, base: number, off: number, src: number): void {
    this.push(insn({ op: CLASS_STX | MODE_MEM | SIZE[size], dst: base, src, off }));
  }

  st(size: Size, base: number, off: number, imm: number): void {
    this.push(insn({ op: CLASS_ST | MODE_MEM | SIZE[size], dst: base, off, imm }));
  }

  call(helper: number): void {
    this.push(insn({ op: CLASS_JMP | JMP_CALL, imm: helper }));
  }

  exit(): void {
    this.push(insn({ op: CLASS_JMP | JMP_EXIT }));
  }

  ja(target: Label): void {
    this.push(insn({ op: CLASS_JMP | JMP_JA }), { target });
  }

  /** Conditional jump on a register and an immediate (`code` is JMP_JEQ, JMP_JSGT…). */
  jmp(code: number, dst: number, imm: number, target: Label): void {
    this.push(insn({ op: CLASS_JMP | code | SRC_K, dst, imm }), { target });
  }

  jmpr(code: number, dst: number, src: number, target: Label): void {
    this.push(insn({ op: CLASS_JMP | code | SRC_X, dst, src }), { target });
  }

  /**
   * The instructions with jump offsets filled in, and the map references by slot. Code no path reaches (after
   * an exit() in both branches, say) is dropped: the verifier refuses unreachable instructions.
   */
  finish(): { instructions: Instruction[]; references: Map<number, Reference>; slots: number } {
    const reachable = new Array<boolean>(this.items.length).fill(false);
    const work = [0];
    while (work.length > 0) {
      const i = work.pop() as number;
      const it = this.items[i];
      if (!it || reachable[i]) continue;
      reachable[i] = true;
      if (it.target !== undefined) work.push(this.labels[it.target] as number);
      if (it.insn.op !== (CLASS_JMP | JMP_JA) && it.insn.op !== (CLASS_JMP | JMP_EXIT)) work.push(i + 1);
    }
    // where each label lands among the kept items
    const keptBefore: number[] = [];
    let kept = 0;
    for (let i = 0; i <= this.items.length; i++) {
      keptBefore.push(kept);
      if (reachable[i]) kept++;
    }
    const labels = this.labels.map((at) => (at < 0 ? at : (keptBefore[at] as number)));
    const items = this.items.filter((_, i) => reachable[i]);
    const slotOf: number[] = [];
    let slot = 0;
    for (const it of items) {
      slotOf.push(slot);
      slot += it.insn.op === OP_LDDW ? 2 : 1;
    }
    slotOf.push(slot);
    const references = new Map<number, Reference>();
    const instructions = items.map((it, n) => {
      if (it.ref) references.set(slotOf[n] as number, it.ref);
      if (it.target === undefined) return it.insn;
      const at = labels[it.target] as number;
      if (at < 0) throw new Error(`label ${it.target} never placed`);
      const off = (slotOf[at] as number) - ((slotOf[n] as number) + 1);
      if (off < -0x8000 || off > 0x7fff) throw new RangeError(`jump of ${off} slots does not fit a 16-bit offset`);
      return { ...it.insn, off };
    });
    return { instructions, references, slots: slot };
  }
}
