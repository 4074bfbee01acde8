/**
 * Instruction encoding: 8-byte slots <-> logical instructions. Byte order is an argument, as in every
 * codec here: big-endian objects swap the register nibbles as well as off/imm (the C bitfield order).
 */
import { DecodeError } from "./errors.js";
import { type Instruction, slotCount } from "./instruction.js";
import { OP_LDDW, SLOT_SIZE } from "./opcodes.js";

export type ByteOrder = "little" | "big";

interface Slot {
  op: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

/** Reads the 8-byte slot at byte offset `at` (no validation: tools that show what is there use it too). */
export function readSlot(view: DataView, at: number, little: boolean): Slot {
  const regs = view.getUint8(at + 1);
  return {
    op: view.getUint8(at),
    dst: little ? regs & 0x0f : regs >> 4,
    src: little ? regs >> 4 : regs & 0x0f,
    off: view.getInt16(at + 2, little),
    imm: view.getInt32(at + 4, little),
  };
}

function writeSlot(view: DataView, at: number, s: Slot, little: boolean): void {
  view.setUint8(at, s.op);
  view.setUint8(at + 1, little ? ((s.src & 0xf) << 4) | (s.dst & 0xf) : ((s.dst & 0xf) << 4) | (s.src & 0xf));
  view.setInt16(at + 2, s.off, little);
  view.setInt32(at + 4, s.imm, little);
}

/**
 * Decodes program bytes into instructions. Fails with the byte offset when the length is not a whole
 * number of slots, and with the pc when an lddw is missing its second slot or that slot is not empty.
 */
export function decode(bytes: Uint8Array, order: ByteOrder = "little"): Instruction[] {
  if (bytes.length % SLOT_SIZE !== 0) {
    const at = bytes.length - (bytes.length % SLOT_SIZE);
    throw new DecodeError("EDECODE", `program length ${bytes.length} is not a multiple of 8 (trailing bytes at offset ${at})`, {
      byteOffset: at,
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = order === "little";
  const slots = bytes.length / SLOT_SIZE;
  const out: Instruction[] = [];
  for (let pc = 0; pc < slots; pc++) {
    const s = readSlot(view, pc * SLOT_SIZE, little);
    if (s.op !== OP_LDDW) {
      out.push(s);
      continue;
    }
    if (pc + 1 >= slots) {
      throw new DecodeError("INCOMPLETE_LDDW", `incomplete lddw: second slot missing at pc ${pc}`, { pc, byteOffset: pc * 8 });
    }
    const hi = readSlot(view, (pc + 1) * SLOT_SIZE, little);
    if (hi.op !== 0 || hi.dst !== 0 || hi.src !== 0 || hi.off !== 0) {
      throw new DecodeError("INCOMPLETE_LDDW", `incomplete lddw: second slot must be zero but for imm at pc ${pc}`, {
        pc,
        byteOffset: pc * 8,
      });
    }
    out.push({ ...s, imm2: hi.imm });
    pc++;
  }
  return out;
}

/** Encodes instructions into program bytes. */
export function encode(insns: readonly Instruction[], order: ByteOrder = "little"): Uint8Array {
  let slots = 0;
  for (const i of insns) slots += slotCount(i);
  const bytes = new Uint8Array(slots * SLOT_SIZE);
  const view = new DataView(bytes.buffer);
  const little = order === "little";
  let pc = 0;
  for (const i of insns) {
    writeSlot(view, pc * SLOT_SIZE, i, little);
    if (i.op === OP_LDDW) {
      writeSlot(view, (pc + 1) * SLOT_SIZE, { op: 0, dst: 0, src: 0, off: 0, imm: i.imm2 ?? 0 }, little);
      pc += 2;
    } else {
      pc += 1;
    }
  }
  return bytes;
}

/** Parses hex text ("b7 00 00 00…", "b7000000…", or 0x-prefixed 64-bit words one per line) into bytes. */
export function parseHex(text: string): Uint8Array {
  const clean = text.replace(/#.*$/gm, "").trim();
  const words = clean.split(/\s+/).filter((w) => w.length > 0);
  if (words.length > 0 && words.every((w) => /^0x[0-9a-fA-F]{16}$/.test(w))) {
    // One 64-bit word per slot, as in the conformance suite's `-- raw` sections (value of the u64 in LE).
    const out = new Uint8Array(words.length * 8);
    const view = new DataView(out.buffer);
    words.forEach((w, i) => {
      view.setBigUint64(i * 8, BigInt(w), true);
    });
    return out;
  }
  const digits = clean.replace(/0x/g, "").replace(/[\s,]/g, "");
  if (!/^[0-9a-fA-F]*$/.test(digits)) {
    const bad = digits.search(/[^0-9a-fA-F]/);
    throw new DecodeError("EHEX", `invalid hex digit '${digits[bad]}' at character ${bad}`, { byteOffset: bad >> 1 });
  }
  if (digits.length % 2 !== 0) throw new DecodeError("EHEX", "hex text has an odd number of digits");
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Formats bytes as space-separated hex pairs. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}
