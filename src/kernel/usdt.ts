/**
 * USDT probes (SystemTap SDT, `<sys/sdt.h>`): read from a binary's `.note.stapsdt` notes, located as file
 * offsets for the uprobe PMU, with the semaphore passed as ref_ctr_offset (the kernel raises it while
 * attached), and their argument specs (`-4@%ebx`, `-8@8(%rsp)`, `4@$5`) decoded into the records
 * testdata/usdt.c's `usdt_arg()` reads — libbpf's usdt.bpf.h follows the same scheme.
 */
import { readFileSync } from "node:fs";
import { NotSupportedError } from "../errors.js";
import { type ElfFile, parseElf } from "../object/elf.js";
import { KernelError } from "./errors.js";
import { attachUprobe, type KernelLink } from "./link.js";
import type { KernelMap } from "./map.js";
import type { KernelProgram } from "./program.js";

export interface UsdtArg {
  kind: "const" | "reg" | "mem";
  /** Byte offset of the register in x86-64 struct pt_regs (reg and mem). */
  reg: number;
  /** The constant (const) or the displacement (mem). */
  value: bigint;
  size: 1 | 2 | 4 | 8;
  signed: boolean;
}

export interface UsdtProbe {
  provider: string;
  name: string;
  /** File offset of the probe site, and of its semaphore (0: none). */
  offset: number;
  semaphoreOffset: number;
  args: UsdtArg[];
  /** The spec text as the note carries it. */
  argText: string;
}

const REGS: Record<string, number> = {};
for (const [offset, names] of [
  [0, "r15 r15d r15w r15b"],
  [8, "r14 r14d r14w r14b"],
  [16, "r13 r13d r13w r13b"],
  [24, "r12 r12d r12w r12b"],
  [32, "rbp ebp bp bpl"],
  [40, "rbx ebx bx bl"],
  [48, "r11 r11d r11w r11b"],
  [56, "r10 r10d r10w r10b"],
  [64, "r9 r9d r9w r9b"],
  [72, "r8 r8d r8w r8b"],
  [80, "rax eax ax al"],
  [88, "rcx ecx cx cl"],
  [96, "rdx edx dx dl"],
  [104, "rsi esi si sil"],
  [112, "rdi edi di dil"],
  [128, "rip"],
  [152, "rsp esp sp spl"],
] as const) {
  for (const n of names.split(" ")) REGS[n] = offset;
}

function reg(name: string, spec: string): number {
  const off = REGS[name];
  if (off === undefined) throw new NotSupportedError(`USDT argument ${spec}`, `register %${name} is not supported`);
  return off;
}

/** Decodes one x86-64 argument spec: SIZE@OPERAND with OPERAND $IMM, %REG, or DISP(%REG). */
export function parseUsdtArg(spec: string): UsdtArg {
  const m = /^(-?)(1|2|4|8)@(.+)$/.exec(spec);
  if (!m) throw new KernelError("USDT", 22, `malformed argument spec '${spec}'`);
  const signed = m[1] === "-";
  const size = Number(m[2]) as 1 | 2 | 4 | 8;
  const operand = m[3] as string;
  const constant = /^\$(-?\d+|-?0x[0-9a-f]+)$/i.exec(operand);
  if (constant) return { kind: "const", reg: 0, value: BigInt(constant[1] as string), size, signed };
  const register = /^%(\w+)$/.exec(operand);
  if (register) return { kind: "reg", reg: reg(register[1] as string, spec), value: 0n, size, signed };
  const memory = /^(-?\d*)\(%(\w+)\)$/.exec(operand);
  if (memory) return { kind: "mem", reg: reg(memory[2] as string, spec), value: BigInt(memory[1] || "0"), size, signed };
  throw new NotSupportedError(`USDT argument ${spec}`, "only $imm, %reg and disp(%reg) operands are supported");
}

function fileOffset(elf: ElfFile, address: number, what: string): number {
  const s = elf.sections.find((x) => x.addr !== 0 && address >= x.addr && address < x.addr + x.size);
  if (!s) throw new KernelError("USDT", 2, `${what} at 0x${address.toString(16)} is in no section`);
  return address - s.addr + s.offset;
}

/** Every USDT probe of a binary. */
export function readUsdtProbes(path: string): UsdtProbe[] {
  const elf = parseElf(readFileSync(path));
  const notes = elf.sectionByName(".note.stapsdt");
  if (!notes) return [];
  const base = elf.sectionByName(".stapsdt.base");
  const little = elf.byteOrder === "little";
  return elf
    .notes(notes)
    .filter((n) => n.name === "stapsdt" && n.type === 3)
    .map((n) => {
      const v = new DataView(n.desc.buffer, n.desc.byteOffset, n.desc.byteLength);
      let pc = Number(v.getBigUint64(0, little));
      const noteBase = Number(v.getBigUint64(8, little));
      const sema = Number(v.getBigUint64(16, little));
      const [provider = "", name = "", argText = ""] = new TextDecoder().decode(n.desc.subarray(24)).split("\0");
      if (base) pc += base.addr - noteBase; // prelink adjustment
      return {
        provider,
        name,
        offset: fileOffset(elf, pc, `${provider}:${name}`),
        semaphoreOffset: sema === 0 ? 0 : fileOffset(elf, sema, `${provider}:${name} semaphore`),
        args: argText.trim() === "" ? [] : argText.trim().split(/\s+/).map(parseUsdtArg),
        argText,
      };
    });
}

/** The usdt_spec record of testdata/usdt.c: nargs, pad, then 6 × {kind, reg, value, size, signed}. */
export function encodeUsdtSpec(args: readonly UsdtArg[]): Uint8Array {
  if (args.length > 6) throw new NotSupportedError("USDT probes with more than 6 arguments", "the spec record holds 6");
  const out = new Uint8Array(8 + 6 * 24);
  const v = new DataView(out.buffer);
  v.setUint32(0, args.length, true);
  args.forEach((a, i) => {
    const at = 8 + i * 24;
    v.setUint32(at, a.kind === "const" ? 0 : a.kind === "reg" ? 1 : 2, true);
    v.setUint32(at + 4, a.reg, true);
    v.setBigInt64(at + 8, a.value, true);
    v.setUint32(at + 16, a.size, true);
    v.setUint32(at + 20, a.signed ? 1 : 0, true);
  });
  return out;
}

/** Attaches a USDT program to PROVIDER:NAME in `path`, writing the probe's argument specs into `specs`. */
export function attachUsdt(
  program: KernelProgram,
  specs: KernelMap,
  path: string,
  provider: string,
  name: string,
  opts: { pid?: number } = {},
): KernelLink {
  const probe = readUsdtProbes(path).find((p) => p.provider === provider && p.name === name);
  if (!probe) throw new KernelError("USDT", 2, `no probe ${provider}:${name} in ${path}`);
  specs.set(new Uint8Array(4), encodeUsdtSpec(probe.args));
  return attachUprobe(program, path, probe.offset, { ...opts, refCtrOffset: probe.semaphoreOffset });
}
