/**
 * Giving an object's BTF to the kernel, sanitized as libbpf does: DATASECs with no section behind them become
 * empty structs, extern variables become global and extern functions typedefs of their prototype (the kernel
 * accepts neither extern).
 * Programs then get func_info and line_info for every function the linker placed.
 */
import { encodeBtf } from "../object/btf/encode.js";
import { skipModsAndTypedefs } from "../object/btf/resolve.js";
import type { BtfType } from "../object/btf/types.js";
import type { CollectionSpec } from "../object/collection.js";
import type { ProgramSpec } from "../object/programs.js";
import { KernelError } from "./errors.js";
import { type NativeMemory, type Sys, withNative } from "./sys.js";

const BPF_BTF_LOAD = 18;

export function sanitizeBtf(spec: CollectionSpec): Uint8Array | undefined {
  const btf = spec.btf;
  if (!btf) return undefined;
  const anInt = btf.types.find((t) => t.kind === "INT")?.id;
  const types = btf.types.map((t): BtfType => {
    // A typeless ksym (`extern const void sym __ksym`) is a variable of type void, which the kernel refuses.
    if (t.kind === "VAR" && anInt !== undefined && skipModsAndTypedefs(btf, t.type) === 0) return { ...t, type: anInt, linkage: 1 };
    if (t.kind === "VAR" && t.linkage === 2) return { ...t, linkage: 1 };
    // An extern function (a kfunc or an undefined call) is only a prototype here: as a typedef of it the
    // kernel needs neither a body nor parameter names.
    if (t.kind === "FUNC" && t.linkage === 2)
      return { id: t.id, kind: "TYPEDEF", name: t.name, nameOff: t.nameOff, kflag: false, type: t.type };
    // DATASEC sizes and offsets were fixed when the object was read (object/datasec.ts)
    if (t.kind !== "DATASEC" || t.size > 0) return t;
    return { id: t.id, kind: "STRUCT", name: t.name, nameOff: t.nameOff, kflag: false, size: 0, members: [] };
  });
  return encodeBtf(types, btf.strings);
}

/**
 * BPF_BTF_LOAD; returns the BTF fd. First without a log, as libbpf does (the kernel's checks run either way,
 * and a log buffer costs a 64 KiB allocation per load); when the kernel refuses, again with one, so the error
 * carries the kernel's reason.
 */
export function loadBtf(sys: Sys, bytes: Uint8Array): number {
  try {
    return btfLoad(sys, bytes, 0);
  } catch (e) {
    if (!(e instanceof KernelError)) throw e;
    return btfLoad(sys, bytes, 1 << 16);
  }
}

function btfLoad(sys: Sys, bytes: Uint8Array, logSize: number): number {
  return withNative(sys, logSize > 0 ? [bytes, logSize] : [bytes], ([data, log]) => {
    const attr = new Uint8Array(144);
    const v = new DataView(attr.buffer);
    v.setBigUint64(0, (data as NativeMemory).address, true);
    v.setUint32(16, bytes.length, true);
    if (logSize > 0) {
      v.setBigUint64(8, (log as NativeMemory).address, true);
      v.setUint32(20, logSize, true);
      v.setUint32(24, 1, true);
    }
    try {
      return sys.bpf(BPF_BTF_LOAD, attr, "BPF_BTF_LOAD");
    } catch (e) {
      if (e instanceof KernelError && logSize > 0) {
        const raw = (log as NativeMemory).bytes;
        const end = raw.indexOf(0);
        const text = new TextDecoder()
          .decode(raw.subarray(0, end < 0 ? raw.length : end))
          .trim()
          .split("\n")
          .slice(-2)
          .join(" | ");
        throw new KernelError("BPF_BTF_LOAD", e.errno, text);
      }
      throw e;
    }
  });
}

export interface ProgramBtfInfo {
  funcInfo: { recSize: number; records: Uint8Array; count: number };
  lineInfo?: { recSize: number; records: Uint8Array; count: number };
}

/** func_info/line_info records (slot-based) for a linked program, or undefined when a function lacks func_info. */
export function programBtfInfo(spec: CollectionSpec, p: ProgramSpec): ProgramBtfInfo | undefined {
  const ext = spec.btfExt;
  if (!ext) return undefined;
  const funcs: Array<[number, number]> = [];
  const lines: Array<[number, number, number, number]> = [];
  for (const f of [...p.functions].sort((a, b) => a.slot - b.slot)) {
    const fi = ext.funcInfo.get(f.section)?.find((r) => r.insnOff === f.offset);
    if (!fi) return undefined;
    funcs.push([f.slot, fi.typeId]);
    for (const l of ext.lineInfo.get(f.section) ?? []) {
      if (l.insnOff >= f.offset && l.insnOff < f.offset + f.slots * 8)
        lines.push([f.slot + (l.insnOff - f.offset) / 8, l.fileNameOff, l.lineOff, l.lineCol]);
    }
  }
  lines.sort((a, b) => a[0] - b[0]);
  const pack = (rows: number[][], width: number): Uint8Array => {
    const out = new Uint8Array(rows.length * width * 4);
    const v = new DataView(out.buffer);
    rows.forEach((r, i) => {
      r.forEach((x, j) => {
        v.setUint32((i * width + j) * 4, x >>> 0, true);
      });
    });
    return out;
  };
  const funcInfo = { recSize: 8, records: pack(funcs, 2), count: funcs.length };
  const usableLines = lines.length > 0 && (lines[0] as number[])[0] === 0;
  return usableLines ? { funcInfo, lineInfo: { recSize: 16, records: pack(lines, 4), count: lines.length } } : { funcInfo };
}
