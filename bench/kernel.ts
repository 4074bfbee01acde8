/**
 * The Linux kernel's own time for a bench program: the same instructions as an XDP program behind a prologue
 * that turns the xdp_md context into the (address, length) pair the bench programs expect and bounds-checks
 * the packet for the verifier, run with BPF_PROG_TEST_RUN and a repeat count (the kernel reports the mean).
 */
import { assemble } from "../src/isa/index.js";
import type { Instruction } from "../src/isa/instruction.js";
import { KernelProgram } from "../src/kernel/program.js";
import { linuxSys } from "../src/kernel/sys.js";

/**
 * A bench program (r1 = memory, r2 = its length) as an XDP program: the packet is the memory, and the
 * prologue proves its `length` bytes are there, as the verifier needs.
 */
export function asXdp(insns: readonly Instruction[], length: number): Instruction[] {
  const prologue = assemble(
    `ldxw %r2, [%r1+4]\nldxw %r1, [%r1]\nmov %r3, %r1\nadd %r3, ${length}\njgt %r3, %r2, +2\nmov %r2, ${length}\nja +2\nmov %r0, 0\nexit`,
  );
  return [...prologue, ...insns];
}

/** A function timing one program in the kernel (ns/run, or why not), or why the kernel cannot be used. */
export function kernelBench():
  | ((insns: readonly Instruction[], mem: Uint8Array | undefined, expected: bigint | undefined) => number | string)
  | string {
  try {
    linuxSys();
    KernelProgram.load(assemble("mov %r0, 0\nexit"), { type: "xdp", name: "tsbpf_probe" }).close();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  return (insns, mem, expected) => {
    const length = mem?.length ?? 0;
    let program: KernelProgram;
    try {
      program = KernelProgram.load(asXdp(insns, length), { type: "xdp", name: "tsbpf_bench" });
    } catch (e) {
      return `refused (${e instanceof Error ? e.message.split("\n")[0]?.slice(0, 40) : ""})`;
    }
    try {
      const data = mem && mem.length >= 14 ? mem : new Uint8Array(Math.max(length, 64));
      const first = program.testRun({ data, repeat: 1 });
      if (expected !== undefined && BigInt(first.retval) !== (expected & 0xffffffffn)) return `WRONG ${first.retval}`;
      let best = Number.POSITIVE_INFINITY;
      for (let k = 0; k < 5; k++) best = Math.min(best, program.testRun({ data, repeat: 1000 }).duration);
      return best;
    } finally {
      program.close();
    }
  };
}
