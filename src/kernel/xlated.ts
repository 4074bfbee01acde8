/**
 * A loaded program as the verifier left it (bpftool prog dump xlated): its instructions, and — when it was
 * loaded with BTF — where its functions start and which source line each stretch of instructions came from,
 * read back from the kernel (func_info and line_info in bpf_prog_info, the strings from the program's BTF).
 */
import { decode } from "../isa/codec.js";
import type { Instruction } from "../isa/instruction.js";
import { type Btf, parseBtf } from "../object/btf/parse.js";
import { objInfo } from "./bpf.js";
import { btfBytesById, withObjectFd } from "./inventory.js";
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

export function xlatedProgram(id: number, sys: Sys = linuxSys()): XlatedProgram {
  return withObjectFd(
    "prog",
    id,
    "prog dump xlated",
    (fd) => {
      const first = new DataView(objInfo(sys, fd, 256).info.buffer);
      const sizes = {
        insns: first.getUint32(XLATED_LEN, true),
        funcs: first.getUint32(NR_FUNC_INFO, true) * first.getUint32(FUNC_INFO_REC_SIZE, true),
        lines: first.getUint32(NR_LINE_INFO, true) * first.getUint32(LINE_INFO_REC_SIZE, true),
      };
      const { info, extra } = objInfo(
        sys,
        fd,
        256,
        (v, mem) => {
          const [insns, funcs, lines] = mem as [NativeMemory, NativeMemory, NativeMemory];
          v.setUint32(XLATED_LEN, sizes.insns, true);
          v.setBigUint64(XLATED_INSNS, insns.address, true);
          v.setUint32(NR_FUNC_INFO, first.getUint32(NR_FUNC_INFO, true), true);
          v.setUint32(FUNC_INFO_REC_SIZE, first.getUint32(FUNC_INFO_REC_SIZE, true), true);
          v.setBigUint64(FUNC_INFO, sizes.funcs > 0 ? funcs.address : 0n, true);
          v.setUint32(NR_LINE_INFO, first.getUint32(NR_LINE_INFO, true), true);
          v.setUint32(LINE_INFO_REC_SIZE, first.getUint32(LINE_INFO_REC_SIZE, true), true);
          v.setBigUint64(LINE_INFO, sizes.lines > 0 ? lines.address : 0n, true);
        },
        [sizes.insns, sizes.funcs, sizes.lines],
      );
      const v = new DataView(info.buffer);
      const [insns, funcs, lines] = extra as [Uint8Array, Uint8Array, Uint8Array];
      const btfId = v.getUint32(BTF_ID, true);
      const btf = btfId !== 0 ? readBtf(btfId, sys) : undefined;
      return {
        instructions: decode(insns),
        functions: btf
          ? records(funcs, v.getUint32(FUNC_INFO_REC_SIZE, true), (r) => ({ slot: r(0), name: btf.type(r(4))?.name ?? "" }))
          : [],
        lines: btf
          ? records(lines, v.getUint32(LINE_INFO_REC_SIZE, true), (r) => ({
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
