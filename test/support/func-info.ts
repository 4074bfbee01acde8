/**
 * BTF for hand-written programs and their maps: for programs with subprograms, one `int (void)` prototype
 * and a FUNC per subprogram (the first global, the others static), and the func_info records BPF_PROG_LOAD
 * takes with it (the kernel lets a program take a callback's address only when func_info is there); for
 * maps whose values hold a lock or a timer, their value types.
 */
import type { Instruction } from "../../src/isa/instruction.js";
import { CALL_LOCAL, LDDW_FUNC, OP_CALL, OP_LDDW } from "../../src/isa/opcodes.js";
import { encodeBtf } from "../../src/object/btf/encode.js";
import type { BtfType } from "../../src/object/btf/types.js";

/** First slots of the subprograms: 0 and every target of a local call or a callback's address. */
export function subprogramStarts(insns: readonly Instruction[]): number[] {
  const starts = new Set<number>([0]);
  let pc = 0;
  for (const i of insns) {
    if ((i.op === OP_CALL && i.src === CALL_LOCAL) || (i.op === OP_LDDW && i.src === LDDW_FUNC)) starts.add(pc + 1 + i.imm);
    pc += i.op === OP_LDDW ? 2 : 1;
  }
  return [...starts].sort((a, b) => a - b);
}

/** A BTF string section holding `names` (after the empty name), and each name's offset in it. */
function stringSection(names: readonly string[]): { strings: Uint8Array; offsets: number[] } {
  const enc = new TextEncoder();
  const offsets: number[] = [];
  const bytes: number[] = [0];
  for (const n of names) {
    offsets.push(bytes.length);
    bytes.push(...enc.encode(n), 0);
  }
  return { strings: Uint8Array.from(bytes), offsets };
}

export interface FuncInfoBtf {
  btf: Uint8Array;
  /** bpf_func_info records: insn_off (slot), type_id. */
  records: Uint8Array;
  count: number;
}

export function funcInfoBtf(insns: readonly Instruction[]): FuncInfoBtf {
  const starts = subprogramStarts(insns);
  const names = ["int", ...starts.map((_, k) => (k === 0 ? "main" : `f${k}`))];
  const { strings, offsets } = stringSection(names);
  const common = { kflag: false };
  const int: BtfType = {
    id: 1,
    kind: "INT",
    name: "int",
    nameOff: offsets[0] as number,
    size: 4,
    encoding: 1,
    bitsOffset: 0,
    bits: 32,
    ...common,
  };
  const types: BtfType[] = [
    int, // in place of type 0 (void), which encodeBtf skips
    int,
    { id: 2, kind: "FUNC_PROTO", name: "", nameOff: 0, returnType: 1, params: [], ...common },
    ...starts.map(
      (_, k): BtfType => ({
        id: 3 + k,
        kind: "FUNC",
        name: names[k + 1] as string,
        nameOff: offsets[k + 1] as number,
        type: 2,
        linkage: k === 0 ? 1 : 0,
        ...common,
      }),
    ),
  ];
  const records = new Uint8Array(starts.length * 8);
  const v = new DataView(records.buffer);
  starts.forEach((slot, k) => {
    v.setUint32(k * 8, slot, true);
    v.setUint32(k * 8 + 4, 3 + k, true);
  });
  return { btf: encodeBtf(types, strings), records, count: starts.length };
}

/**
 * The BTF of maps with `int` keys whose values hold special fields: `struct val { int cnt; struct
 * bpf_spin_lock l; }` (type 4) and `struct tval { struct bpf_timer t; __u64 n; }` (type 8).
 */
export function specialValueBtf(): { btf: Uint8Array; keyTypeId: number; lockValueTypeId: number; timerValueTypeId: number } {
  const names = [
    "int",
    "unsigned int",
    "bpf_spin_lock",
    "val",
    "cnt",
    "l",
    "unsigned long long",
    "bpf_timer",
    "__opaque",
    "tval",
    "t",
    "n",
  ];
  const { strings, offsets } = stringSection(names);
  const off = (n: string): number => offsets[names.indexOf(n)] as number;
  const common = { kflag: false };
  const int: BtfType = { id: 1, kind: "INT", name: "int", nameOff: off("int"), size: 4, encoding: 1, bitsOffset: 0, bits: 32, ...common };
  const member = (name: string, type: number, bitOffset: number) => ({ name, nameOff: off(name), type, bitOffset, bitfieldSize: 0 });
  const types: BtfType[] = [
    int, // in place of type 0 (void), which encodeBtf skips
    int,
    { id: 2, kind: "INT", name: "unsigned int", nameOff: off("unsigned int"), size: 4, encoding: 0, bitsOffset: 0, bits: 32, ...common },
    { id: 3, kind: "STRUCT", name: "bpf_spin_lock", nameOff: off("bpf_spin_lock"), size: 4, members: [member("val", 2, 0)], ...common },
    { id: 4, kind: "STRUCT", name: "val", nameOff: off("val"), size: 8, members: [member("cnt", 1, 0), member("l", 3, 32)], ...common },
    {
      id: 5,
      kind: "INT",
      name: "unsigned long long",
      nameOff: off("unsigned long long"),
      size: 8,
      encoding: 0,
      bitsOffset: 0,
      bits: 64,
      ...common,
    },
    { id: 6, kind: "ARRAY", name: "", nameOff: 0, type: 5, indexType: 2, nelems: 2, ...common },
    { id: 7, kind: "STRUCT", name: "bpf_timer", nameOff: off("bpf_timer"), size: 16, members: [member("__opaque", 6, 0)], ...common },
    { id: 8, kind: "STRUCT", name: "tval", nameOff: off("tval"), size: 24, members: [member("t", 7, 0), member("n", 5, 128)], ...common },
  ];
  return { btf: encodeBtf(types, strings), keyTypeId: 1, lockValueTypeId: 4, timerValueTypeId: 8 };
}
