/** Pieces both assembler dialects share: number parsing with range checks and label resolution. */
import { AsmError } from "./errors.js";
import { type Instruction, slotOffsets } from "./instruction.js";
import { OP_EXIT } from "./opcodes.js";

const INTEGER = /^([+-]?)(0x[0-9a-f]+|[0-9]+)$/i;

/** Parses a decimal or 0x-hex integer (optionally signed); undefined when the text is not a number. */
export function parseInteger(text: string): { value: bigint; hex: boolean } | undefined {
  const m = INTEGER.exec(text.trim());
  if (!m) return undefined;
  const magnitude = BigInt(m[2] as string);
  return { value: m[1] === "-" ? -magnitude : magnitude, hex: /^0x/i.test(m[2] as string) };
}

/** A 32-bit immediate: signed decimal, or hex up to 0xffffffff (taken as its two's complement). */
export function parseImm32(text: string, line: number): number {
  const n = parseInteger(text);
  if (!n) throw new AsmError(`Invalid immediate: ${text}`, line);
  const max = n.hex ? 0xffffffffn : 0x7fffffffn;
  if (n.value < -0x80000000n || n.value > max) throw new AsmError(`Immediate out of 32-bit range: ${text}`, line);
  return Number(BigInt.asIntN(32, n.value));
}

/** A 64-bit immediate for lddw, signed or unsigned. */
export function parseImm64(text: string, line: number): bigint {
  const n = parseInteger(text);
  if (!n) throw new AsmError(`Invalid immediate: ${text}`, line);
  if (n.value < -(1n << 63n) || n.value > (1n << 64n) - 1n) throw new AsmError(`Immediate out of 64-bit range: ${text}`, line);
  return BigInt.asUintN(64, n.value);
}

/** A 16-bit offset: signed decimal, or hex up to 0xffff. */
export function parseOffset16(text: string, line: number): number {
  const n = parseInteger(text);
  if (!n) throw new AsmError(`Invalid offset: ${text}`, line);
  const max = n.hex ? 0xffffn : 0x7fffn;
  if (n.value < -0x8000n || n.value > max) throw new AsmError(`Offset out of 16-bit range: ${text}`, line);
  return Number(BigInt.asIntN(16, n.value));
}

/** Formats a signed value as llvm does: `0x1f`, `-0x1f`, or decimal. */
export function formatSigned(value: number | bigint, hex: boolean): string {
  const v = BigInt(value);
  if (!hex) return v.toString();
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

/** An instruction whose offset or imm still names a label. */
export interface PendingInsn {
  insn: Instruction;
  line: number;
  label?: { name: string; field: "off" | "imm" };
}

/**
 * Replaces label references with slot offsets relative to the next instruction. With `implicitExit`, an
 * undefined label `exit` means the program's first exit instruction (the uBPF/bpf_conformance convention).
 */
export function resolveLabels(pending: readonly PendingInsn[], labels: ReadonlyMap<string, number>, implicitExit = false): Instruction[] {
  const { pcs, slots } = slotOffsets(pending.map((p) => p.insn));
  return pending.map((p, n) => {
    if (!p.label) return p.insn;
    const index = labels.get(p.label.name) ?? (implicitExit && p.label.name === "exit" ? firstExit(pending) : undefined);
    if (index === undefined) throw new AsmError(`Invalid label: ${p.label.name}`, p.line);
    const target = index < pcs.length ? (pcs[index] as number) : slots;
    const rel = target - ((pcs[n] as number) + 1);
    if (p.label.field === "off") {
      if (rel < -0x8000 || rel > 0x7fff) throw new AsmError(`Jump to ${p.label.name} is out of 16-bit offset range (${rel})`, p.line);
      return { ...p.insn, off: rel };
    }
    return { ...p.insn, imm: rel };
  });
}

function firstExit(pending: readonly PendingInsn[]): number | undefined {
  const k = pending.findIndex((p) => p.insn.op === OP_EXIT);
  return k < 0 ? undefined : k;
}

/** Splits operands on top-level commas (commas inside brackets or parentheses stay). */
export function splitOperands(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of text) {
    if (ch === "[" || ch === "(") depth++;
    if (ch === "]" || ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur.trim());
      cur = "";
    } else {
      cur += ch;
    }
  }
  if (cur.trim() !== "") out.push(cur.trim());
  return out;
}

/** A label definition at the start of a line: `name:`. */
export const LABEL_DEF = /^([A-Za-z_.$][\w.$]*):(.*)$/;
