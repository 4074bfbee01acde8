/**
 * Parses .BTF.ext: per-section func_info, line_info and CO-RE relocation records
 * (https://docs.kernel.org/bpf/llvm_reloc.html, libbpf's btf_ext). Instruction offsets are byte offsets
 * in the ELF section, as clang writes them. Names and source text resolve through the .BTF strings.
 */
import { ObjectError } from "../errors.js";
import { ByteReader } from "../reader.js";
import type { Btf } from "./parse.js";

export interface FuncInfo {
  /** Byte offset of the function's first instruction in its section. */
  readonly insnOff: number;
  readonly typeId: number;
}

export interface LineInfo {
  readonly insnOff: number;
  /** Raw offsets into the BTF strings and the packed line/column, as the kernel wants them. */
  readonly fileNameOff: number;
  readonly lineOff: number;
  readonly lineCol: number;
  readonly fileName: string;
  /** The source line's text. */
  readonly line: string;
  readonly lineNumber: number;
  readonly column: number;
}

/** A line_info record whose file name and source text are read from the BTF strings when asked for. */
class LineRecord implements LineInfo {
  constructor(
    readonly insnOff: number,
    readonly fileNameOff: number,
    readonly lineOff: number,
    readonly lineCol: number,
    private readonly btf: Btf,
  ) {}

  get fileName(): string {
    return this.btf.string(this.fileNameOff) ?? "";
  }

  get line(): string {
    return this.btf.string(this.lineOff) ?? "";
  }

  get lineNumber(): number {
    return this.lineCol >>> 10;
  }

  get column(): number {
    return this.lineCol & 0x3ff;
  }

  /** The record as plain data: its fields, not the whole BTF it reads them from. */
  toJSON(): LineInfo {
    const { insnOff, fileNameOff, lineOff, lineCol, fileName, line, lineNumber, column } = this;
    return { insnOff, fileNameOff, lineOff, lineCol, fileName, line, lineNumber, column };
  }
}

/** bpf_core_relo_kind from uapi/linux/bpf.h. */
export const CORE_RELO_KINDS = [
  "field_byte_offset",
  "field_byte_size",
  "field_exists",
  "field_signed",
  "field_lshift_u64",
  "field_rshift_u64",
  "type_id_local",
  "type_id_target",
  "type_exists",
  "type_size",
  "enumval_exists",
  "enumval_value",
  "type_matches",
] as const;
export type CoreReloKind = (typeof CORE_RELO_KINDS)[number];

export interface CoreRelo {
  readonly insnOff: number;
  /** Root type id in the object's BTF. */
  readonly typeId: number;
  /** Access string such as "0:1:2". */
  readonly access: string;
  readonly kind: CoreReloKind;
}

export interface BtfExt {
  readonly funcInfo: ReadonlyMap<string, readonly FuncInfo[]>;
  readonly lineInfo: ReadonlyMap<string, readonly LineInfo[]>;
  readonly coreRelos: ReadonlyMap<string, readonly CoreRelo[]>;
}

/** Reads one info block: rec_size, then per section {sec_name_off, num_info, records}. */
function readBlock<T>(
  r: ByteReader,
  start: number,
  length: number,
  minRecord: number,
  what: string,
  btf: Btf,
  read: (rec: ByteReader, at: number) => T,
): Map<string, T[]> {
  const out = new Map<string, T[]>();
  if (length === 0) return out;
  r.need(length, what, start);
  const b = new ByteReader(r.bytes.subarray(start, start + length), r.little ? "little" : "big", `.BTF.ext ${what}`, r.base + start);
  const recSize = b.u32(`${what} record size`);
  if (recSize < minRecord)
    throw new ObjectError("EBTFEXT", `.BTF.ext ${what} record size ${recSize} is below ${minRecord}`, { offset: b.base });
  while (b.pos < b.length) {
    const at = b.base + b.pos;
    const secNameOff = b.u32(`${what} section name`);
    const count = b.u32(`${what} record count`);
    const section = btf.string(secNameOff);
    if (section === undefined)
      throw new ObjectError("EBTFEXT", `.BTF.ext ${what}: section name offset ${secNameOff} is not in the BTF strings`, { offset: at });
    b.need(count * recSize, `${count} ${what} records`);
    const list: T[] = [];
    for (let i = 0; i < count; i++) {
      // each record is read from its start, its known fields only (a newer, longer record keeps its tail)
      const start = b.pos;
      list.push(read(b, b.base + start));
      b.pos = start + recSize;
    }
    out.set(section, [...(out.get(section) ?? []), ...list]);
  }
  return out;
}

export function parseBtfExt(bytes: Uint8Array, btf: Btf): BtfExt {
  const r = new ByteReader(bytes, btf.byteOrder, ".BTF.ext");
  const magic = r.u16("magic");
  if (magic !== 0xeb9f) throw new ObjectError("EBTFEXT", `.BTF.ext: bad magic 0x${magic.toString(16)}`, { offset: 0 });
  r.u8("version");
  r.u8("flags");
  const hdrLen = r.u32("hdr_len");
  const funcOff = r.u32("func_info_off");
  const funcLen = r.u32("func_info_len");
  const lineOff = r.u32("line_info_off");
  const lineLen = r.u32("line_info_len");
  let coreOff = 0;
  let coreLen = 0;
  if (hdrLen >= 32) {
    coreOff = r.u32("core_relo_off");
    coreLen = r.u32("core_relo_len");
  }
  const inStrings = (off: number, at: number, what: string): number => {
    if (off >= btf.strings.length)
      throw new ObjectError("EBTFEXT", `.BTF.ext: ${what} offset ${off} is not in the BTF strings`, { offset: at });
    return off;
  };
  const str = (off: number, at: number, what: string): string => btf.string(inStrings(off, at, what)) as string;
  const funcInfo = readBlock(r, hdrLen + funcOff, funcLen, 8, "func_info", btf, (rec) => ({
    insnOff: rec.u32("insn_off"),
    typeId: rec.u32("type_id"),
  }));
  const lineInfo = readBlock(r, hdrLen + lineOff, lineLen, 16, "line_info", btf, (rec, at) => {
    const insnOff = rec.u32("insn_off");
    const fileOff = rec.u32("file_name_off");
    const lineOffset = rec.u32("line_off");
    const lineCol = rec.u32("line_col");
    // checked now, decoded when asked for: most loads pass the offsets to the kernel and never read the text
    return new LineRecord(insnOff, inStrings(fileOff, at + 4, "file name"), inStrings(lineOffset, at + 8, "source line"), lineCol, btf);
  });
  const coreRelos = readBlock(r, hdrLen + coreOff, coreLen, 16, "core_relo", btf, (rec, at) => {
    const insnOff = rec.u32("insn_off");
    const typeId = rec.u32("type_id");
    const access = str(rec.u32("access_str_off"), at + 8, "access string");
    const kindNo = rec.u32("kind");
    const kind = CORE_RELO_KINDS[kindNo];
    if (kind === undefined) throw new ObjectError("EBTFEXT", `.BTF.ext: unknown CO-RE relocation kind ${kindNo}`, { offset: at + 12 });
    return { insnOff, typeId, access, kind };
  });
  return { funcInfo, lineInfo, coreRelos };
}
