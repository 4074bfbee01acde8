/** Kernel test helpers: whether bpf() is permitted here, and program rewriting for the differential tests. */
import { existsSync } from "node:fs";
import type { Instruction } from "../../src/isa/instruction.js";
import { jumpOffset, slotOffsets } from "../../src/isa/instruction.js";
import { opInfo } from "../../src/isa/table.js";
import { validate } from "../../src/isa/validate.js";
import { KernelMap } from "../../src/kernel/map.js";
import { VMLINUX_BTF } from "../../src/kernel/vmlinux.js";
import type { MapSpec } from "../../src/object/maps.js";

let cached: string | undefined | null = null;

/** Why kernel tests cannot run here (printed as the skip reason), or undefined when bpf() works. */
export function bpfMissing(): string | undefined {
  if (cached !== null) return cached;
  try {
    KernelMap.create({
      name: "tsbpf_probe",
      type: 2,
      typeName: "array",
      keySize: 4,
      valueSize: 4,
      maxEntries: 1,
      flags: 0,
      pinning: 0,
      section: "probe",
    }).close();
    cached = undefined;
  } catch (e) {
    cached = `bpf() is not permitted here: ${e instanceof Error ? e.message : String(e)}`;
  }
  return cached;
}

/**
 * Inserts `extra` before every exit of the main subprogram, fixing jump and call offsets (a jump to an exit
 * lands on the inserted instruction). Used to return r0's high half through the 32-bit test-run retval.
 */
export function beforeMainExits(insns: readonly Instruction[], extra: Instruction): Instruction[] {
  const { subprograms } = validate(insns);
  const mainEnd = subprograms.length > 1 ? (subprograms[1] as number) : Number.POSITIVE_INFINITY;
  const { pcs } = slotOffsets(insns);
  const newPc = new Map<number, number>();
  let shift = 0;
  insns.forEach((i, n) => {
    const pc = pcs[n] as number;
    const isMainExit = i.op === 0x95 && pc < mainEnd;
    newPc.set(pc, pc + shift); // a jump to this exit goes to the inserted instruction
    if (isMainExit) shift++;
  });
  const out: Instruction[] = [];
  insns.forEach((i, n) => {
    const pc = pcs[n] as number;
    const at = (newPc.get(pc) as number) + (i.op === 0x95 && pc < mainEnd ? 1 : 0);
    const kind = opInfo(i.op)?.kind;
    const retarget = (rel: number): number => (newPc.get(pc + 1 + rel) as number) - (at + 1);
    if (i.op === 0x95 && pc < mainEnd) out.push(extra);
    if (kind === "ja" || kind === "jcc") out.push({ ...i, off: retarget(jumpOffset(i)) });
    else if (kind === "ja32") out.push({ ...i, imm: retarget(i.imm) });
    else if (kind === "call" && i.src === 1) out.push({ ...i, imm: retarget(i.imm) });
    else out.push(i);
  });
  return out;
}

/** A kernel map for a test: what the test varies, the rest as a plain map's (no flags, no pinning). */
export function testMap(
  spec: Pick<MapSpec, "name" | "type" | "typeName" | "keySize" | "valueSize" | "maxEntries"> & Partial<MapSpec>,
): KernelMap {
  return KernelMap.create({ flags: 0, pinning: 0, section: "test", ...spec });
}

/**
 * Awaits `work` and counts how many times Node's event loop turned meanwhile: work done on worker threads lets
 * it turn many times; work that blocks the main thread, at most once.
 */
export async function eventLoopTurnsDuring<T>(work: () => Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0;
  let working = true;
  const turn = (): void => {
    turns++;
    if (working) setImmediate(turn);
  };
  setImmediate(turn);
  try {
    return { result: await work(), turns };
  } finally {
    working = false;
  }
}

/** Why tests that need the kernel's BTF cannot run here, or undefined when /sys/kernel/btf/vmlinux is there. */
export function kernelBtfMissing(): string | undefined {
  return existsSync(VMLINUX_BTF) ? undefined : `${VMLINUX_BTF} is not there`;
}
