/**
 * The kernel/llvm assembly dialect, as `llvm-objdump -d` and the verifier log print it:
 * `r0 = *(u32 *)(r1 + 0x4)`, `if r1 > 0x5 goto +0x3`, `w0 = w1`, `call 0x1`, `lock *(u64 *)(r10 - 0x8) += r1`.
 *
 * Formatting follows llvm-objdump 19 with `--mcpu=v4` (hex immediates, w registers for 32-bit
 * memory operands); `{ hex: false }` gives llvm-objdump 14's decimal style and `{ alu32: false }` the r
 * registers llvm prints without alu32. Where llvm's text loses information, this printer adds it so that
 * `assembleLlvm(disassembleLlvm(p))` reproduces p: local calls print as `call pc+0x3` (llvm: `call 0x3`),
 * kfunc calls as `call kfunc 0x7`, ld_pseudo keeps a nonzero second imm as a fourth operand, and
 * `skb[r3 + 0x6]` keeps LD_IND's imm. `{ objdump: true }` reproduces llvm-objdump's lossy text instead.
 *
 * The assembler also reads the verifier log's spelling: a leading `12:` or `(bf)`, `goto pc+3`,
 * `(r10 -8)`, `call bpf_map_lookup_elem#1`, and trailing `<LBB0_1>` symbol annotations.
 */
import {
  formatSigned,
  LABEL_DEF,
  type PendingInsn,
  parseImm32,
  parseImm64,
  parseInteger,
  parseOffset16,
  resolveLabels,
} from "./asm-common.js";
import { AsmError } from "./errors.js";
import { type Instruction, insn, lddwValue, splitImm64 } from "./instruction.js";
import * as O from "./opcodes.js";
import { opInfo } from "./table.js";

export interface LlvmFormatOptions {
  /** Immediates and offsets in hex (llvm >= 18). Default true. */
  hex?: boolean;
  /** w registers for 32-bit loads, stores and atomics (llvm-objdump --mcpu=v3/v4). Default true. */
  alu32?: boolean;
  /** Print exactly llvm-objdump's (lossy) text for local/kfunc calls, ld_pseudo and LD_IND. Default false. */
  objdump?: boolean;
}

const ALU_OPS = new Map<number, string>([
  [O.ALU_ADD, "+="],
  [O.ALU_SUB, "-="],
  [O.ALU_MUL, "*="],
  [O.ALU_DIV, "/="],
  [O.ALU_OR, "|="],
  [O.ALU_AND, "&="],
  [O.ALU_LSH, "<<="],
  [O.ALU_RSH, ">>="],
  [O.ALU_MOD, "%="],
  [O.ALU_XOR, "^="],
  [O.ALU_ARSH, "s>>="],
]);
/** Jump conditions' symbols: llvm's and the kernel's alike. */
export const JMP_OPS: ReadonlyMap<number, string> = new Map<number, string>([
  [O.JMP_JEQ, "=="],
  [O.JMP_JNE, "!="],
  [O.JMP_JGT, ">"],
  [O.JMP_JGE, ">="],
  [O.JMP_JLT, "<"],
  [O.JMP_JLE, "<="],
  [O.JMP_JSGT, "s>"],
  [O.JMP_JSGE, "s>="],
  [O.JMP_JSLT, "s<"],
  [O.JMP_JSLE, "s<="],
  [O.JMP_JSET, "&"],
]);
const ATOMIC_OPS = new Map<number, [string, string]>([
  [O.ATOMIC_ADD, ["+=", "add"]],
  [O.ATOMIC_OR, ["|=", "or"]],
  [O.ATOMIC_AND, ["&=", "and"]],
  [O.ATOMIC_XOR, ["^=", "xor"]],
]);
const SIZE_BY_BYTES = new Map<number, number>([
  [1, O.SIZE_B],
  [2, O.SIZE_H],
  [4, O.SIZE_W],
  [8, O.SIZE_DW],
]);

/** Formats one instruction in the llvm dialect (without index or raw bytes). */
export function formatLlvm(i: Instruction, options: LlvmFormatOptions = {}): string {
  const hex = options.hex ?? true;
  const alu32 = options.alu32 ?? true;
  const num = (v: number | bigint): string => formatSigned(v, hex);
  const rel = (v: number): string => (v < 0 ? num(v) : `+${num(v)}`);
  const info = opInfo(i.op);
  if (!info) return "<unknown>";
  const r = (n: number, w: boolean): string => `${w ? "w" : "r"}${n}`;
  const sizeName = (sign: string): string => `${sign}${info.size * 8}`;
  const addr = (base: number, off: number): string => `r${base} ${off < 0 ? "-" : "+"} ${num(Math.abs(off))}`;
  const narrow = alu32 && info.size < 8;
  switch (info.kind) {
    case "alu": {
      const d = r(i.dst, info.is32);
      const src = info.reg ? r(i.src, info.is32) : num(i.imm);
      if (info.code === O.ALU_MOV) return info.reg && i.off !== 0 ? `${d} = (s${i.off})${src}` : `${d} = ${src}`;
      const signed = (info.code === O.ALU_DIV || info.code === O.ALU_MOD) && i.off === 1 ? "s" : "";
      return `${d} ${signed}${ALU_OPS.get(info.code)} ${src}`;
    }
    case "neg":
      return `${r(i.dst, info.is32)} = -${r(i.dst, info.is32)}`;
    case "end":
      return `r${i.dst} = ${i.op === 0xd4 ? "le" : i.op === 0xdc ? "be" : "bswap"}${i.imm} r${i.dst}`;
    case "lddw": {
      if (i.src === O.LDDW_IMM64) return `r${i.dst} = ${num(BigInt.asIntN(64, lddwValue(i)))} ll`; // llvm prints it signed
      const extra = !options.objdump && (i.imm2 ?? 0) !== 0 ? `, ${num(i.imm2 ?? 0)}` : "";
      // llvm prints ld_pseudo's imm as an unsigned 32-bit value
      return `ld_pseudo r${i.dst}, ${num(i.src)}, ${num(i.imm >>> 0)}${extra}`;
    }
    case "ldabs":
      return `r0 = *(u${info.size * 8} *)skb[${num(i.imm)}]`;
    case "ldind":
      return `r0 = *(u${info.size * 8} *)skb[r${i.src}${!options.objdump && i.imm !== 0 ? ` ${i.imm < 0 ? "-" : "+"} ${num(Math.abs(i.imm))}` : ""}]`;
    case "ldx":
      return `${r(i.dst, narrow)} = *(${sizeName("u")} *)(${addr(i.src, i.off)})`;
    case "ldxs":
      return `r${i.dst} = *(${sizeName("s")} *)(${addr(i.src, i.off)})`;
    case "st":
      return `*(${sizeName("u")} *)(${addr(i.dst, i.off)}) = ${num(i.imm)}`;
    case "stx":
      return `*(${sizeName("u")} *)(${addr(i.dst, i.off)}) = ${r(i.src, narrow)}`;
    case "atomic": {
      if (options.objdump && !alu32 && info.is32) {
        // Without alu32, llvm's decoder knows only XADDW for 32-bit atomics and ignores the fetch bit.
        return i.imm === O.ATOMIC_ADD || i.imm === (O.ATOMIC_ADD | O.ATOMIC_FETCH)
          ? `lock *(u32 *)(${addr(i.dst, i.off)}) += r${i.src}`
          : "<unknown>";
      }
      const w = alu32 && info.is32;
      const s = r(i.src, w);
      const ptr = `(${sizeName("u")} *)(${addr(i.dst, i.off)})`;
      if (i.imm === O.ATOMIC_XCHG) return `${s} = ${info.is32 ? "xchg32_32" : "xchg_64"}(${addr(i.dst, i.off)}, ${s})`;
      if (i.imm === O.ATOMIC_CMPXCHG) {
        return `${r(0, w)} = ${info.is32 ? "cmpxchg32_32" : "cmpxchg_64"}(${addr(i.dst, i.off)}, ${r(0, w)}, ${s})`;
      }
      const [sym, name] = ATOMIC_OPS.get(i.imm & ~O.ATOMIC_FETCH) ?? ["?=", "?"];
      return i.imm & O.ATOMIC_FETCH ? `${s} = atomic_fetch_${name}(${ptr}, ${s})` : `lock *${ptr} ${sym} ${s}`;
    }
    case "ja":
      return `goto ${rel(i.off)}`;
    case "ja32":
      return `gotol ${rel(i.imm)}`;
    case "jcc": {
      const src = info.reg ? r(i.src, info.is32) : num(i.imm);
      return `if ${r(i.dst, info.is32)} ${JMP_OPS.get(info.code)} ${src} goto ${rel(i.off)}`;
    }
    case "call":
      if (options.objdump || i.src === O.CALL_HELPER) return `call ${num(i.imm)}`;
      return i.src === O.CALL_LOCAL ? `call pc${rel(i.imm)}` : `call kfunc ${num(i.imm)}`;
    case "callx":
      return `callx r${i.dst}`;
    case "exit":
      return "exit";
  }
}

/** Disassembles to llvm-dialect text, one instruction per line. */
export function disassembleLlvm(insns: readonly Instruction[], options: LlvmFormatOptions = {}): string {
  return insns.map((i) => `${formatLlvm(i, options)}\n`).join("");
}

// ---- assembler ----

interface Reg {
  n: number;
  w: boolean;
}

function parseReg(text: string, line: number): Reg {
  const m = /^([rw])(\d+)$/.exec(text.trim());
  const n = m ? Number(m[2]) : Number.NaN;
  if (!(n >= 0 && n <= 10)) throw new AsmError(`Invalid register: ${text.trim()}`, line);
  return { n, w: m?.[1] === "w" };
}

const isReg = (text: string): boolean => /^[rw]\d+$/.test(text.trim());

/** `(r1 + 0x4)`, `r1 - 8`, `(r10 -8)` → base register and offset. */
function parseAddress(text: string, line: number): { base: number; off: number } {
  const m = /^\(?\s*r(\d+)\s*(?:([+-])\s*(\w+))?\s*\)?$/.exec(text.trim());
  if (!m) throw new AsmError(`Invalid address: ${text.trim()}`, line);
  const base = parseReg(`r${m[1]}`, line).n;
  return { base, off: m[2] ? parseOffset16(`${m[2]}${m[3]}`, line) : 0 };
}

function sizeBits(bits: string, line: number): number {
  const s = SIZE_BY_BYTES.get(Number(bits) / 8);
  if (s === undefined) throw new AsmError(`Invalid access size: ${bits}`, line);
  return s;
}

/** A jump or call target: `+3`, `-0x2`, `pc+3`, or a label. */
function parseTarget(text: string, field: "off" | "imm", line: number): { value: number; label?: string } {
  const t = text.trim().replace(/^pc(?=[+-])/, "");
  if (/^[+-]/.test(t)) return { value: field === "off" ? parseOffset16(t, line) : parseImm32(t, line) };
  if (!/^[A-Za-z_.$][\w.$]*$/.test(t)) throw new AsmError(`Invalid jump target: ${t}`, line);
  return { value: 0, label: t };
}

const MEM = String.raw`\*\(\s*([us])(8|16|32|64)\s*\*\s*\)`;
const FORMS: Array<[RegExp, (m: RegExpExecArray, line: number) => { insn: Instruction; label?: string; field?: "off" | "imm" }]> = [
  [/^exit$/, () => ({ insn: insn({ op: O.OP_EXIT }) })],
  [/^callx\s+(\w+)$/, (m, line) => ({ insn: insn({ op: O.OP_CALLX, dst: parseReg(m[1] as string, line).n }) })],
  [/^call\s+kfunc\s+(\S+)$/, (m, line) => ({ insn: insn({ op: O.OP_CALL, src: O.CALL_KFUNC, imm: parseImm32(m[1] as string, line) }) })],
  [
    /^call\s+(\S+)$/,
    (m, line) => {
      const arg = (m[1] as string).replace(/^[A-Za-z_]\w*#(?=-?\d+$)/, ""); // verifier log: bpf_map_lookup_elem#1
      if (isReg(arg)) return { insn: insn({ op: O.OP_CALLX, dst: parseReg(arg, line).n }) };
      if (parseInteger(arg)) return { insn: insn({ op: O.OP_CALL, imm: parseImm32(arg, line) }) };
      const t = parseTarget(arg, "imm", line);
      return { insn: insn({ op: O.OP_CALL, src: O.CALL_LOCAL, imm: t.value }), ...(t.label ? { label: t.label } : {}), field: "imm" };
    },
  ],
  [
    /^(goto|gotol)\s+(\S+)$/,
    (m, line) => {
      const long = m[1] === "gotol";
      const t = parseTarget(m[2] as string, long ? "imm" : "off", line);
      const i = long ? insn({ op: O.OP_JA32, imm: t.value }) : insn({ op: O.OP_JA, off: t.value });
      return { insn: i, ...(t.label ? { label: t.label } : {}), field: long ? "imm" : "off" };
    },
  ],
  [
    /^if\s+(\w+)\s*(==|!=|s?[<>]=?|&)\s*(\S+)\s+goto\s+(\S+)$/,
    (m, line) => {
      const d = parseReg(m[1] as string, line);
      const code = [...JMP_OPS].find(([, s]) => s === m[2])?.[0] as number;
      const cls = d.w ? O.CLASS_JMP32 : O.CLASS_JMP;
      const t = parseTarget(m[4] as string, "off", line);
      const i = isReg(m[3] as string)
        ? insn({ op: cls | code | O.SRC_X, dst: d.n, src: parseReg(m[3] as string, line).n, off: t.value })
        : insn({ op: cls | code | O.SRC_K, dst: d.n, imm: parseImm32(m[3] as string, line), off: t.value });
      return { insn: i, ...(t.label ? { label: t.label } : {}), field: "off" };
    },
  ],
  [
    new RegExp(String.raw`^lock\s+${MEM}\s*(\([^)]*\))\s*([+|&^])=\s*(\w+)$`),
    (m, line) => {
      const a = parseAddress(m[3] as string, line);
      const imm = [...ATOMIC_OPS].find(([, [sym]]) => sym === `${m[4]}=`)?.[0] as number;
      const op = O.CLASS_STX | O.MODE_ATOMIC | sizeBits(m[2] as string, line);
      return { insn: insn({ op, dst: a.base, src: parseReg(m[5] as string, line).n, off: a.off, imm }) };
    },
  ],
  [
    /^(\w+)\s*=\s*atomic_fetch_(add|or|and|xor)\(\s*\(\s*u(32|64)\s*\*\s*\)\s*(\([^)]*\))\s*,\s*(\w+)\s*\)$/,
    (m, line) => {
      const a = parseAddress(m[4] as string, line);
      const imm = ([...ATOMIC_OPS].find(([, [, name]]) => name === m[2])?.[0] as number) | O.ATOMIC_FETCH;
      const op = O.CLASS_STX | O.MODE_ATOMIC | sizeBits(m[3] as string, line);
      return { insn: insn({ op, dst: a.base, src: parseReg(m[5] as string, line).n, off: a.off, imm }) };
    },
  ],
  [
    /^(\w+)\s*=\s*(xchg_64|xchg32_32)\(([^,]+),\s*(\w+)\s*\)$/,
    (m, line) => {
      const a = parseAddress(m[3] as string, line);
      const op = O.CLASS_STX | O.MODE_ATOMIC | (m[2] === "xchg_64" ? O.SIZE_DW : O.SIZE_W);
      return { insn: insn({ op, dst: a.base, src: parseReg(m[4] as string, line).n, off: a.off, imm: O.ATOMIC_XCHG }) };
    },
  ],
  [
    /^(\w+)\s*=\s*(cmpxchg_64|cmpxchg32_32)\(([^,]+),\s*(\w+)\s*,\s*(\w+)\s*\)$/,
    (m, line) => {
      const a = parseAddress(m[3] as string, line);
      const op = O.CLASS_STX | O.MODE_ATOMIC | (m[2] === "cmpxchg_64" ? O.SIZE_DW : O.SIZE_W);
      return { insn: insn({ op, dst: a.base, src: parseReg(m[5] as string, line).n, off: a.off, imm: O.ATOMIC_CMPXCHG }) };
    },
  ],
  [
    new RegExp(String.raw`^${MEM}\s*(\([^)]*\))\s*=\s*(\S+)$`),
    (m, line) => {
      const a = parseAddress(m[3] as string, line);
      const size = sizeBits(m[2] as string, line);
      const v = m[4] as string;
      return isReg(v)
        ? { insn: insn({ op: O.CLASS_STX | O.MODE_MEM | size, dst: a.base, src: parseReg(v, line).n, off: a.off }) }
        : { insn: insn({ op: O.CLASS_ST | O.MODE_MEM | size, dst: a.base, off: a.off, imm: parseImm32(v, line) }) };
    },
  ],
  [
    new RegExp(String.raw`^(\w+)\s*=\s*${MEM}\s*(\([^)]*\))$`),
    (m, line) => {
      const a = parseAddress(m[4] as string, line);
      const mode = m[2] === "s" ? O.MODE_MEMSX : O.MODE_MEM;
      return {
        insn: insn({
          op: O.CLASS_LDX | mode | sizeBits(m[3] as string, line),
          dst: parseReg(m[1] as string, line).n,
          src: a.base,
          off: a.off,
        }),
      };
    },
  ],
  [
    new RegExp(String.raw`^r0\s*=\s*${MEM}\s*skb\[\s*([^\]]+?)\s*\]$`),
    (m, line) => {
      const size = sizeBits(m[2] as string, line);
      const ind = /^([rw]\d+)\s*(?:([+-])\s*(\w+))?$/.exec(m[3] as string);
      if (!ind) return { insn: insn({ op: O.CLASS_LD | O.MODE_ABS | size, imm: parseImm32(m[3] as string, line) }) };
      const imm = ind[2] ? parseImm32(`${ind[2]}${ind[3]}`, line) : 0;
      return { insn: insn({ op: O.CLASS_LD | O.MODE_IND | size, src: parseReg(ind[1] as string, line).n, imm }) };
    },
  ],
  [
    /^(\w+)\s*=\s*(\S+)\s+ll$/,
    (m, line) => ({
      insn: insn({ op: O.OP_LDDW, dst: parseReg(m[1] as string, line).n, ...splitImm64(parseImm64(m[2] as string, line)) }),
    }),
  ],
  [
    /^ld_pseudo\s+(\w+)\s*,\s*(\w+)\s*,\s*(-?\w+)(?:\s*,\s*(-?\w+))?$/,
    (m, line) => {
      const src = parseImm32(m[2] as string, line);
      if (src < 1 || src > O.LDDW_MAP_IDX_VALUE) throw new AsmError(`Invalid ld_pseudo source: ${m[2]}`, line);
      const imm2 = m[4] ? parseImm32(m[4], line) : 0;
      const imm = parseImm64(m[3] as string, line); // printed unsigned, so decimal may exceed int32
      if (imm > 0xffffffffn && imm < 0xffffffff80000000n) throw new AsmError(`Immediate out of 32-bit range: ${m[3]}`, line);
      return { insn: insn({ op: O.OP_LDDW, dst: parseReg(m[1] as string, line).n, src, imm: Number(BigInt.asIntN(32, imm)), imm2 }) };
    },
  ],
  [
    /^(\w+)\s*=\s*(le|be|bswap)(16|32|64)\s+(\w+)$/,
    (m, line) => {
      const d = parseReg(m[1] as string, line);
      if (parseReg(m[4] as string, line).n !== d.n) throw new AsmError("Byte swap must use the same register on both sides", line);
      const op = m[2] === "le" ? 0xd4 : m[2] === "be" ? 0xdc : 0xd7;
      return { insn: insn({ op, dst: d.n, imm: Number(m[3]) }) };
    },
  ],
  [
    /^(\w+)\s*=\s*-\s*(\w+)$/,
    (m, line) => {
      const d = parseReg(m[1] as string, line);
      if (isReg(m[2] as string)) {
        if (parseReg(m[2] as string, line).n !== d.n) throw new AsmError("Negation must use the same register on both sides", line);
        return { insn: insn({ op: (d.w ? O.CLASS_ALU : O.CLASS_ALU64) | O.ALU_NEG, dst: d.n }) };
      }
      return { insn: insn({ op: (d.w ? O.CLASS_ALU : O.CLASS_ALU64) | O.ALU_MOV, dst: d.n, imm: parseImm32(`-${m[2]}`, line) }) };
    },
  ],
  [
    /^(\w+)\s*=\s*(?:\(s(8|16|32)\)\s*)?(\S+)$/,
    (m, line) => {
      const d = parseReg(m[1] as string, line);
      const cls = d.w ? O.CLASS_ALU : O.CLASS_ALU64;
      if (isReg(m[3] as string)) {
        const off = m[2] ? Number(m[2]) : 0;
        return { insn: insn({ op: cls | O.ALU_MOV | O.SRC_X, dst: d.n, src: parseReg(m[3] as string, line).n, off }) };
      }
      if (m[2]) throw new AsmError("Sign extension needs a register source", line);
      return { insn: insn({ op: cls | O.ALU_MOV | O.SRC_K, dst: d.n, imm: parseMovImm(m[3] as string, d.w, line) }) };
    },
  ],
  [
    /^(\w+)\s*(s?)(\+|-|\*|\/|\||&|<<|>>|%|\^)=\s*(\S+)$/,
    (m, line) => {
      const d = parseReg(m[1] as string, line);
      const signedOp = m[2] === "s";
      const sym = `${m[3]}=`;
      let code = [...ALU_OPS].find(([, s]) => s === sym)?.[0] as number;
      let off = 0;
      if (signedOp) {
        if (sym === ">>=") code = O.ALU_ARSH;
        else if (sym === "/=" || sym === "%=") off = 1;
        else throw new AsmError(`Invalid operator: s${sym}`, line);
      }
      const cls = d.w ? O.CLASS_ALU : O.CLASS_ALU64;
      const i = isReg(m[4] as string)
        ? insn({ op: cls | code | O.SRC_X, dst: d.n, src: parseReg(m[4] as string, line).n, off })
        : insn({ op: cls | code | O.SRC_K, dst: d.n, imm: parseImm32(m[4] as string, line), off });
      return { insn: i };
    },
  ],
];

/** A mov immediate: r registers take the sign-extended 32-bit range; w registers also 0..0xffffffff. */
function parseMovImm(text: string, w: boolean, line: number): number {
  const n = parseInteger(text);
  if (!n) throw new AsmError(`Invalid operand: ${text}`, line);
  const max = w ? 0xffffffffn : 0x7fffffffn;
  if (n.value < -0x80000000n || n.value > max) {
    throw new AsmError(`Immediate out of 32-bit range: ${text}${w ? "" : " (write `r = <value> ll` for a 64-bit constant)"}`, line);
  }
  return Number(BigInt.asIntN(32, n.value));
}

/** Removes what llvm-objdump and the verifier log print around an instruction. */
function normalize(raw: string): string {
  return raw
    .replace(/(;|\/\/|#(?!\d)).*$/, "") // comments (but keep `name#1` in calls)
    .replace(/^\s*\d+:\s*/, "") // "  12:" instruction index
    .replace(/^\s*\([0-9a-f]{2}\)\s*/, "") // "(bf)" verifier opcode
    .replace(/\s*<[^<>\s]*>\s*$/, "") // "<LBB0_3>" objdump symbolization
    .replace(/\s+/g, " ")
    .trim();
}

function parseStatement(stmt: string, line: number): PendingInsn {
  for (const [re, build] of FORMS) {
    const m = re.exec(stmt);
    if (!m) continue;
    const r = build(m, line);
    return r.label ? { insn: r.insn, line, label: { name: r.label, field: r.field ?? "off" } } : { insn: r.insn, line };
  }
  throw new AsmError(`Cannot parse instruction: ${stmt}`, line);
}

/** Assembles llvm-dialect text. Errors are AsmErrors whose message starts with `line N:`. */
export function assembleLlvm(text: string): Instruction[] {
  const pending: PendingInsn[] = [];
  const labels = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, n) => {
    const line = n + 1;
    let stmt = normalize(raw);
    for (let m = LABEL_DEF.exec(stmt); m && !/^\d+$/.test(m[1] as string); m = LABEL_DEF.exec(stmt)) {
      if (labels.has(m[1] as string)) throw new AsmError(`Duplicate label: ${m[1]}`, line);
      labels.set(m[1] as string, pending.length);
      stmt = (m[2] as string).trim();
    }
    if (stmt !== "") pending.push(parseStatement(stmt, line));
  });
  if (pending.length === 0) throw new AsmError("No instructions assembled", Math.max(1, lines.length));
  return resolveLabels(pending, labels);
}
