/**
 * BTF for hand-written programs with subprograms: one `int (void)` prototype and a FUNC per subprogram
 * (the first global, the others static), and the func_info records BPF_PROG_LOAD takes with it. The kernel
 * lets a program take a callback's address (bpf_loop, bpf_for_each_map_elem) only when func_info is there.
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

export interface FuncInfoBtf {
  btf: Uint8Array;
  /** bpf_func_info records: insn_off (slot), type_id. */
  records: Uint8Array;
  count: number;
}

export function funcInfoBtf(insns: readonly Instruction[]): FuncInfoBtf {
  const starts = subprogramStarts(insns);
  const names = ["int", ...starts.map((_, k) => (k === 0 ? "main" : `f${k}`))];
  const enc = new TextEncoder();
  const offsets: number[] = [];
  const parts: number[] = [0];
  for (const n of names) {
    offsets.push(parts.length);
    parts.push(...enc.encode(n), 0);
  }
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
  return { btf: encodeBtf(types, Uint8Array.from(parts)), records, count: starts.length };
}
