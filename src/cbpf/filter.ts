/**
 * A compiled filter ready to run on packets: the cBPF program translated to eBPF and loaded into a userspace
 * machine, on the JIT (default) or the interpreter. The translation's memory accesses are fixed stack slots
 * and packet loads the engine bounds-checks itself, so the JIT can run it in trusted mode.
 */
import { Machine } from "../vm/machine.js";
import type { CbpfInsn } from "./insn.js";
import { cbpfToEbpf } from "./to-ebpf.js";
import { validateCbpf } from "./vm.js";

export interface Filter {
  /** The filter's result for a packet (0: no match). `wireLength` defaults to the captured length. */
  run(packet: Uint8Array, wireLength?: number): number;
}

export function compileFilter(program: readonly CbpfInsn[], opts: { engine?: "interp" | "jit" } = {}): Filter {
  validateCbpf(program);
  const machine = new Machine();
  const loaded = machine.load(cbpfToEbpf(program), { engine: opts.engine ?? "jit", mode: "trusted" });
  const memory = machine.memory;
  return {
    run(packet, wireLength = packet.length) {
      const region = machine.mapInput(packet.length);
      memory.bytes.set(packet, region);
      return Number(loaded.enter(region, { start: region, length: packet.length }, undefined, wireLength) & 0xffffffffn);
    },
  };
}
