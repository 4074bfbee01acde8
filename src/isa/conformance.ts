/**
 * The bpf_conformance / uBPF assembly dialect: `mov32 %r0, 1`, `ldxdw %r0, [%r1+2]`, `jeq %r1, 5, label`,
 * `call local fn`, `lock fetch add [%r10-8], %r1`. Assembler and disassembler; `assemble(disassemble(p))`
 * reproduces p's bytes for every valid program.
 * Extensions beyond the suite: lddw pseudo sources (`lddw %r1, map_fd(3)`, `map_value(3, 16)`, `btf_id(7)`,
 * `func(label)`, `map_idx(0)`, `map_idx_value(0, 8)`), `call kfunc N`, `ldabs{b,h,w} imm`, `ldind{b,h,w} %r, imm`.
 */
import {
  LABEL_DEF,
  type PendingInsn,
  parseImm32,
  parseImm64,
  parseInteger,
  parseOffset16,
  resolveLabels,
  splitOperands,
} from "./asm-common.js";
import { AsmError } from "./errors.js";
import { type Instruction, insn, lddwValue, splitImm64 } from "./instruction.js";
import * as O from "./opcodes.js";
import { ALU_NAMES, JMP_NAMES, opInfo, SIZE_SUFFIX } from "./table.js";

const SIZE_BITS: Record<string, number> = { b: O.SIZE_B, h: O.SIZE_H, w: O.SIZE_W, dw: O.SIZE_DW };
const ATOMIC_NAMES: Record<string, number> = { add: O.ATOMIC_ADD, or: O.ATOMIC_OR, and: O.ATOMIC_AND, xor: O.ATOMIC_XOR };
const PSEUDO_NAMES = ["imm64", "map_fd", "map_value", "btf_id", "func", "map_idx", "map_idx_value"] as const;
const ALU_BY_NAME = new Map([...ALU_NAMES].map(([code, name]) => [name, code]));
const JMP_BY_NAME = new Map([...JMP_NAMES].map(([code, name]) => [name, code]));

function parseRegister(text: string, line: number): number {
  const m = /^%r(\d+)$/.exec(text.trim());
  const r = m ? Number(m[1]) : Number.NaN;
  if (!(r >= 0 && r <= 10)) throw new AsmError(`Invalid register: ${text.trim()}`, line);
  return r;
}

function parseMemory(text: string, line: number): { reg: number; off: number } {
  const m = /^\[\s*(%\w+)\s*(?:([+-])\s*(\S+?))?\s*\]$/.exec(text.trim());
  if (!m) throw new AsmError(`Failed to decode register and offset: ${text.trim()}`, line);
  const reg = parseRegister(m[1] as string, line);
  if (m[2] === undefined) return { reg, off: 0 };
  return { reg, off: parseOffset16(`${m[2]}${m[3]}`, line) };
}

/** A jump target: a label, or `+N`/`-N` slots relative to the next instruction. */
function parseTarget(text: string, field: "off" | "imm", line: number): { value: number; label?: string } {
  const t = text.trim();
  if (/^[+-]/.test(t)) return { value: field === "off" ? parseOffset16(t, line) : parseImm32(t, line) };
  if (!/^[A-Za-z_.$][\w.$]*$/.test(t)) throw new AsmError(`Invalid label: ${t}`, line);
  return { value: 0, label: t };
}

function expect(ops: string[], n: number, mnemonic: string, line: number): void {
  if (ops.length !== n) throw new AsmError(`Invalid number of operands for mnemonic: ${mnemonic}`, line);
}

function parseLock(words: string[], ops: string[], line: number): Instruction {
  // words: ["lock", ("fetch")?, op] ; ops: ["[%r10-8]", "%r1"]
  if (words.length < 2 || ops.length !== 2) throw new AsmError("Invalid number of operands for lock", line);
  const fetch = words[1] === "fetch";
  const name = (fetch ? words[2] : words[1]) ?? "";
  const is32 = name.endsWith("32");
  const base = is32 ? name.slice(0, -2) : name;
  let imm: number;
  if (base === "xchg" && !fetch) imm = O.ATOMIC_XCHG;
  else if (base === "cmpxchg" && !fetch) imm = O.ATOMIC_CMPXCHG;
  else if (base in ATOMIC_NAMES) imm = (ATOMIC_NAMES[base] as number) | (fetch ? O.ATOMIC_FETCH : 0);
  else throw new AsmError(`Invalid atomic operation: ${name}`, line);
  const mem = parseMemory(ops[0] as string, line);
  const op = O.CLASS_STX | O.MODE_ATOMIC | (is32 ? O.SIZE_W : O.SIZE_DW);
  return insn({ op, dst: mem.reg, src: parseRegister(ops[1] as string, line), off: mem.off, imm });
}

function parseLddw(ops: string[], line: number): { insn: Instruction; label?: string } {
  expect(ops, 2, "lddw", line);
  const dst = parseRegister(ops[0] as string, line);
  const value = (ops[1] as string).trim();
  const m = /^(\w+)\((.*)\)$/.exec(value);
  if (!m) return { insn: insn({ op: O.OP_LDDW, dst, ...splitImm64(parseImm64(value, line)) }) };
  const kind = PSEUDO_NAMES.indexOf(m[1] as (typeof PSEUDO_NAMES)[number]);
  if (kind <= 0) throw new AsmError(`Unknown lddw source: ${m[1]}`, line);
  const args = splitOperands(m[2] as string);
  const twoArgs = kind === O.LDDW_MAP_VALUE || kind === O.LDDW_MAP_IDX_VALUE;
  if (args.length !== (twoArgs ? 2 : 1)) throw new AsmError(`${m[1]}() takes ${twoArgs ? 2 : 1} argument(s)`, line);
  if (kind === O.LDDW_FUNC) {
    const t = parseTarget(args[0] as string, "imm", line);
    return { insn: insn({ op: O.OP_LDDW, dst, src: kind, imm: t.value }), ...(t.label ? { label: t.label } : {}) };
  }
  const imm2 = twoArgs ? parseImm32(args[1] as string, line) : 0;
  return { insn: insn({ op: O.OP_LDDW, dst, src: kind, imm: parseImm32(args[0] as string, line), imm2 }) };
}

function parseCall(ops: string[], line: number): { insn: Instruction; label?: string } {
  const words = (ops[0] ?? "").split(/\s+/);
  if (ops.length !== 1 || words.length > 2 || words[0] === "") throw new AsmError("Invalid number of operands for mnemonic: call", line);
  const [mode, arg] = words.length === 2 ? (words as [string, string]) : ["", words[0] as string];
  if (mode === "" && arg.startsWith("%")) return { insn: insn({ op: O.OP_CALLX, dst: parseRegister(arg, line) }) };
  if (mode === "" || mode === "helper") return { insn: insn({ op: O.OP_CALL, imm: parseImm32(arg, line) }) };
  if (mode === "kfunc" || mode === "runtime") return { insn: insn({ op: O.OP_CALL, src: O.CALL_KFUNC, imm: parseImm32(arg, line) }) };
  if (mode === "local") {
    const t = parseTarget(arg, "imm", line);
    return { insn: insn({ op: O.OP_CALL, src: O.CALL_LOCAL, imm: t.value }), ...(t.label ? { label: t.label } : {}) };
  }
  throw new AsmError(`Invalid call mode: ${mode}`, line);
}

/** Assembles one statement (mnemonic and operands, comments and labels already removed). */
function parseStatement(text: string, line: number): PendingInsn {
  const mnemonic = (/^\S+/.exec(text) as RegExpExecArray)[0];
  const rest = text.slice(mnemonic.length).trim();
  if (mnemonic === "lock") {
    const head = /^((?:fetch\s+)?\S+)\s*(.*)$/.exec(rest);
    if (!head) throw new AsmError("Invalid number of operands for lock", line);
    return { insn: parseLock(["lock", ...(head[1] as string).split(/\s+/)], splitOperands(head[2] as string), line), line };
  }
  const ops = splitOperands(rest);
  const withLabel = (r: { insn: Instruction; label?: string }, field: "off" | "imm"): PendingInsn =>
    r.label ? { insn: r.insn, line, label: { name: r.label, field } } : { insn: r.insn, line };

  if (mnemonic === "exit") {
    expect(ops, 0, mnemonic, line);
    return { insn: insn({ op: O.OP_EXIT }), line };
  }
  if (mnemonic === "call") return withLabel(parseCall(ops, line), "imm");
  if (mnemonic === "lddw") return withLabel(parseLddw(ops, line), "imm");
  // may_goto (BPF_JMP | BPF_JCOND): the kernel's jump out of a loop it may take at any iteration.
  if (mnemonic === "may_goto") {
    expect(ops, 1, mnemonic, line);
    const t = parseTarget(ops[0] as string, "off", line);
    return withLabel({ insn: insn({ op: O.OP_MAY_GOTO, off: t.value }), ...(t.label ? { label: t.label } : {}) }, "off");
  }
  if (mnemonic === "ja" || mnemonic === "ja32" || mnemonic === "gotol") {
    expect(ops, 1, mnemonic, line);
    const field = mnemonic === "ja" ? "off" : "imm";
    const t = parseTarget(ops[0] as string, field, line);
    const i = field === "off" ? insn({ op: O.OP_JA, off: t.value }) : insn({ op: O.OP_JA32, imm: t.value });
    return withLabel({ insn: i, ...(t.label ? { label: t.label } : {}) }, field);
  }
  const jcc = /^(j[a-z]+?)(32)?$/.exec(mnemonic);
  if (jcc && JMP_BY_NAME.has(jcc[1] as string)) {
    expect(ops, 3, mnemonic, line);
    const cls = jcc[2] ? O.CLASS_JMP32 : O.CLASS_JMP;
    const code = JMP_BY_NAME.get(jcc[1] as string) as number;
    const dst = parseRegister(ops[0] as string, line);
    const isReg = (ops[1] as string).startsWith("%");
    const t = parseTarget(ops[2] as string, "off", line);
    const i = isReg
      ? insn({ op: cls | code | O.SRC_X, dst, src: parseRegister(ops[1] as string, line), off: t.value })
      : insn({ op: cls | code | O.SRC_K, dst, imm: parseImm32(ops[1] as string, line), off: t.value });
    return withLabel({ insn: i, ...(t.label ? { label: t.label } : {}) }, "off");
  }
  const end = /^(le|be|bswap|swap)(16|32|64)$/.exec(mnemonic);
  if (end) {
    expect(ops, 1, mnemonic, line);
    const op = end[1] === "le" ? 0xd4 : end[1] === "be" ? 0xdc : 0xd7;
    return { insn: insn({ op, dst: parseRegister(ops[0] as string, line), imm: Number(end[2]) }), line };
  }
  const movsx = /^movsx(8|16|32)(32|64)$/.exec(mnemonic);
  if (movsx && !(movsx[1] === "32" && movsx[2] === "32")) {
    expect(ops, 2, mnemonic, line);
    const cls = movsx[2] === "32" ? O.CLASS_ALU : O.CLASS_ALU64;
    const [dst, src] = [parseRegister(ops[0] as string, line), parseRegister(ops[1] as string, line)];
    return { insn: insn({ op: cls | O.ALU_MOV | O.SRC_X, dst, src, off: Number(movsx[1]) }), line };
  }
  const mem = /^(ldxs|ldx|stx|st|ldabs|ldind)(b|h|w|dw)$/.exec(mnemonic);
  if (mem) return { insn: parseMemoryOp(mem[1] as string, mem[2] as string, ops, mnemonic, line), line };
  const alu = /^(s?)([a-z]+?)(32)?$/.exec(mnemonic);
  const signed = alu?.[1] === "s" && (alu[2] === "div" || alu[2] === "mod");
  const aluName = alu ? (signed ? (alu[2] as string) : `${alu[1]}${alu[2]}`) : "";
  if (alu && ALU_BY_NAME.has(aluName)) {
    const cls = alu[3] ? O.CLASS_ALU : O.CLASS_ALU64;
    const code = ALU_BY_NAME.get(aluName) as number;
    if (code === O.ALU_NEG) {
      expect(ops, 1, mnemonic, line);
      return { insn: insn({ op: cls | code, dst: parseRegister(ops[0] as string, line) }), line };
    }
    expect(ops, 2, mnemonic, line);
    const dst = parseRegister(ops[0] as string, line);
    const off = signed ? 1 : 0;
    const i = (ops[1] as string).startsWith("%")
      ? insn({ op: cls | code | O.SRC_X, dst, src: parseRegister(ops[1] as string, line), off })
      : insn({ op: cls | code | O.SRC_K, dst, imm: parseImm32(ops[1] as string, line), off });
    return { insn: i, line };
  }
  throw new AsmError(`Invalid mnemonic: ${mnemonic}`, line);
}

function parseMemoryOp(kind: string, size: string, ops: string[], mnemonic: string, line: number): Instruction {
  const sz = SIZE_BITS[size] as number;
  switch (kind) {
    case "ldx":
    case "ldxs": {
      expect(ops, 2, mnemonic, line);
      if (kind === "ldxs" && size === "dw") throw new AsmError(`Invalid mnemonic: ${mnemonic}`, line);
      const m = parseMemory(ops[1] as string, line);
      const mode = kind === "ldx" ? O.MODE_MEM : O.MODE_MEMSX;
      return insn({ op: O.CLASS_LDX | mode | sz, dst: parseRegister(ops[0] as string, line), src: m.reg, off: m.off });
    }
    case "st": {
      expect(ops, 2, mnemonic, line);
      const m = parseMemory(ops[0] as string, line);
      return insn({ op: O.CLASS_ST | O.MODE_MEM | sz, dst: m.reg, off: m.off, imm: parseImm32(ops[1] as string, line) });
    }
    case "stx": {
      expect(ops, 2, mnemonic, line);
      const m = parseMemory(ops[0] as string, line);
      return insn({ op: O.CLASS_STX | O.MODE_MEM | sz, dst: m.reg, src: parseRegister(ops[1] as string, line), off: m.off });
    }
    case "ldabs":
      expect(ops, 1, mnemonic, line);
      return insn({ op: O.CLASS_LD | O.MODE_ABS | sz, imm: parseImm32(ops[0] as string, line) });
    default:
      expect(ops, 2, mnemonic, line);
      return insn({
        op: O.CLASS_LD | O.MODE_IND | sz,
        src: parseRegister(ops[0] as string, line),
        imm: parseImm32(ops[1] as string, line),
      });
  }
}

/** Assembles conformance-dialect text. Errors are AsmErrors whose message starts with `line N:`. */
export function assembleConformance(text: string): Instruction[] {
  const pending: PendingInsn[] = [];
  const labels = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, n) => {
    const line = n + 1;
    let stmt = raw.replace(/(#|\/\/|;).*$/, "").trim();
    for (let m = LABEL_DEF.exec(stmt); m; m = LABEL_DEF.exec(stmt)) {
      if (labels.has(m[1] as string)) throw new AsmError(`Duplicate label: ${m[1]}`, line);
      labels.set(m[1] as string, pending.length);
      stmt = (m[2] as string).trim();
    }
    if (stmt !== "") pending.push(parseStatement(stmt, line));
  });
  if (pending.length === 0) throw new AsmError("No instructions assembled", Math.max(1, lines.length));
  return resolveLabels(pending, labels, true);
}

// ---- disassembler ----

const reg = (r: number): string => `%r${r}`;
const rel = (n: number): string => (n < 0 ? `${n}` : `+${n}`);
const memOperand = (r: number, off: number): string => (off === 0 ? `[${reg(r)}]` : `[${reg(r)}${off < 0 ? "-" : "+"}${Math.abs(off)}]`);

/** Formats one instruction in the conformance dialect. Unknown opcodes come out as a comment. */
export function formatConformance(i: Instruction): string {
  const info = opInfo(i.op);
  if (i.op === O.OP_MAY_GOTO && i.src === 0 && i.dst === 0 && i.imm === 0) return `may_goto ${rel(i.off)}`;
  if (!info) return `# unknown opcode 0x${i.op.toString(16).padStart(2, "0")}`;
  const w = info.is32 ? "32" : "";
  switch (info.kind) {
    case "alu": {
      if (info.code === O.ALU_MOV && info.reg && i.off !== 0) return `movsx${i.off}${info.is32 ? "32" : "64"} ${reg(i.dst)}, ${reg(i.src)}`;
      const sign = (info.code === O.ALU_DIV || info.code === O.ALU_MOD) && i.off === 1 ? "s" : "";
      const src = info.reg ? reg(i.src) : `${i.imm}`;
      return `${sign}${ALU_NAMES.get(info.code)}${w} ${reg(i.dst)}, ${src}`;
    }
    case "neg":
      return `neg${w} ${reg(i.dst)}`;
    case "end":
      return `${i.op === 0xd4 ? "le" : i.op === 0xdc ? "be" : "bswap"}${i.imm} ${reg(i.dst)}`;
    case "lddw": {
      if (i.src === O.LDDW_IMM64) return `lddw ${reg(i.dst)}, 0x${lddwValue(i).toString(16)}`;
      const name = PSEUDO_NAMES[i.src] ?? `src${i.src}`;
      if (i.src === O.LDDW_FUNC) return `lddw ${reg(i.dst)}, ${name}(${rel(i.imm)})`;
      const second = i.src === O.LDDW_MAP_VALUE || i.src === O.LDDW_MAP_IDX_VALUE ? `, ${i.imm2 ?? 0}` : "";
      return `lddw ${reg(i.dst)}, ${name}(${i.imm}${second})`;
    }
    case "ldabs":
      return `ldabs${SIZE_SUFFIX.get(info.size)} ${i.imm}`;
    case "ldind":
      return `ldind${SIZE_SUFFIX.get(info.size)} ${reg(i.src)}, ${i.imm}`;
    case "ldx":
    case "ldxs":
      return `${info.kind}${SIZE_SUFFIX.get(info.size)} ${reg(i.dst)}, ${memOperand(i.src, i.off)}`;
    case "st":
      return `st${SIZE_SUFFIX.get(info.size)} ${memOperand(i.dst, i.off)}, ${i.imm}`;
    case "stx":
      return `stx${SIZE_SUFFIX.get(info.size)} ${memOperand(i.dst, i.off)}, ${reg(i.src)}`;
    case "atomic": {
      const base =
        i.imm === O.ATOMIC_XCHG
          ? "xchg"
          : i.imm === O.ATOMIC_CMPXCHG
            ? "cmpxchg"
            : `${i.imm & O.ATOMIC_FETCH ? "fetch " : ""}${Object.keys(ATOMIC_NAMES).find((k) => ATOMIC_NAMES[k] === (i.imm & ~O.ATOMIC_FETCH)) ?? `op${i.imm}`}`;
      return `lock ${base}${w} ${memOperand(i.dst, i.off)}, ${reg(i.src)}`;
    }
    case "ja":
      return `ja ${rel(i.off)}`;
    case "ja32":
      return `ja32 ${rel(i.imm)}`;
    case "jcc":
      return `${JMP_NAMES.get(info.code)}${w} ${reg(i.dst)}, ${info.reg ? reg(i.src) : i.imm}, ${rel(i.off)}`;
    case "call":
      if (i.src === O.CALL_LOCAL) return `call local ${rel(i.imm)}`;
      if (i.src === O.CALL_KFUNC) return `call kfunc ${i.imm}`;
      return `call ${i.imm}`;
    case "callx":
      return `call ${reg(i.dst)}`;
    case "exit":
      return "exit";
  }
}

/** Disassembles instructions to conformance-dialect text, one instruction per line. */
export function disassembleConformance(insns: readonly Instruction[]): string {
  return insns.map((i) => `${formatConformance(i)}\n`).join("");
}

export { parseInteger };
