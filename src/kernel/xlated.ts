/**
 * A loaded program as the verifier left it (bpftool prog dump xlated): its instructions, and — when it was
 * loaded with BTF — where its functions start and which source line each stretch of instructions came from,
 * read back from the kernel (func_info and line_info in bpf_prog_info, the strings from the program's BTF).
 */
import { decode } from "../isa/codec.js";
import type { Instruction } from "../isa/instruction.js";
import { type Btf, parseBtf } from "../object/btf/parse.js";
import { objInfo } from "./bpf.js";
import { btfBytesById, withFdById, withObjectFd } from "./inventory.js";
import { linuxSys, type NativeMemory, type Sys } from "./sys.js";

export interface XlatedProgram {
  instructions: Instruction[];
  /** Functions by the slot (8-byte instruction index) they start at. */
  functions: Array<{ slot: number; name: string }>;
  /** Source lines by the slot their instructions start at, in slot order. */
  lines: Array<{ slot: number; text: string; file: string; line: number; column: number }>;
}

// struct bpf_prog_info offsets
const XLATED_LEN = 20;
const XLATED_INSNS = 32;
const BTF_ID = 128;
const FUNC_INFO_REC_SIZE = 132;
const FUNC_INFO = 136;
const NR_FUNC_INFO = 144;
const NR_LINE_INFO = 148;
const LINE_INFO = 152;
const LINE_INFO_REC_SIZE = 172;

/** The program's instructions as the verifier rewrote them (bpftool prog dump xlated); undefined: no such program. */
export function xlatedInstructions(id: number, sys: Sys = linuxSys()): Instruction[] | undefined {
  return withFdById("prog", id, (fd) => decode(readXlated(fd, false, sys).insns), sys);
}

/** The program's instructions with its functions and source lines (read from its BTF, when it has one). */
export function xlatedProgram(id: number, sys: Sys = linuxSys()): XlatedProgram {
  return withObjectFd(
    "prog",
    id,
    "prog dump xlated",
    (fd) => {
      const { insns, funcs, lines, btfId, funcRecSize, lineRecSize } = readXlated(fd, true, sys);
      const btf = btfId !== 0 ? readBtf(btfId, sys) : undefined;
      return {
        instructions: decode(insns),
        functions: btf ? records(funcs, funcRecSize, (r) => ({ slot: r(0), name: btf.type(r(4))?.name ?? "" })) : [],
        lines: btf
          ? records(lines, lineRecSize, (r) => ({
              slot: r(0),
              file: btf.string(r(4)) ?? "",
              text: btf.string(r(8)) ?? "",
              line: r(12) >>> 10, // line_col: the line in the upper 22 bits, the column in the lower 10
              column: r(12) & 0x3ff,
            }))
          : [],
      };
    },
    sys,
  );
}

/**
 * bpf_prog_info asked twice: for the sizes, then for the xlated instructions and, with `source`, the func_info
 * and line_info records (the instructions alone need no more).
 */
function readXlated(
  fd: number,
  source: boolean,
  sys: Sys,
): { insns: Uint8Array; funcs: Uint8Array; lines: Uint8Array; btfId: number; funcRecSize: number; lineRecSize: number } {
  const first = new DataView(objInfo(sys, fd, 256).info.buffer);
  const counts = {
    funcs: source ? first.getUint32(NR_FUNC_INFO, true) : 0,
    funcRecSize: first.getUint32(FUNC_INFO_REC_SIZE, true),
    lines: source ? first.getUint32(NR_LINE_INFO, true) : 0,
    lineRecSize: first.getUint32(LINE_INFO_REC_SIZE, true),
  };
  const sizes = [first.getUint32(XLATED_LEN, true), counts.funcs * counts.funcRecSize, counts.lines * counts.lineRecSize];
  const { info, extra } = objInfo(
    sys,
    fd,
    256,
    (v, mem) => {
      const [insns, funcs, lines] = mem as [NativeMemory, NativeMemory, NativeMemory];
      v.setUint32(XLATED_LEN, sizes[0] as number, true);
      v.setBigUint64(XLATED_INSNS, insns.address, true);
      if (counts.funcs > 0) {
        v.setUint32(NR_FUNC_INFO, counts.funcs, true);
        v.setUint32(FUNC_INFO_REC_SIZE, counts.funcRecSize, true);
        v.setBigUint64(FUNC_INFO, funcs.address, true);
      }
      if (counts.lines > 0) {
        v.setUint32(NR_LINE_INFO, counts.lines, true);
        v.setUint32(LINE_INFO_REC_SIZE, counts.lineRecSize, true);
        v.setBigUint64(LINE_INFO, lines.address, true);
      }
    },
    sizes,
  );
  const [insns, funcs, lines] = extra as [Uint8Array, Uint8Array, Uint8Array];
  const btfId = new DataView(info.buffer).getUint32(BTF_ID, true);
  return { insns, funcs, lines, btfId, funcRecSize: counts.funcRecSize, lineRecSize: counts.lineRecSize };
}

/** The program's BTF; none when it cannot be read (the dump then goes without source lines). */
function readBtf(id: number, sys: Sys): Btf | undefined {
  try {
    const bytes = btfBytesById(id, sys);
    return bytes && parseBtf(bytes, `BTF id ${id}`);
  } catch {
    return undefined;
  }
}

/** Fixed-size records of u32 fields, each read by its byte offset. */
function records<T>(bytes: Uint8Array, size: number, read: (field: (at: number) => number) => T): T[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  return Array.from({ length: size > 0 ? Math.floor(bytes.length / size) : 0 }, (_, i) => read((at) => v.getUint32(i * size + at, true)));
}
