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
  /**
   * Space for packets inside the filter's machine, so a capture can be read straight into it and filtered
   * with `runAt` without copying: `view()` is the region's bytes (take it again after running other code).
   */
  buffer(size: number): { address: number; view(): Uint8Array };
  /** The result for a packet already in the machine's memory (in a `buffer`). */
  runAt(address: number, length: number, wireLength: number): number;
  /**
   * Filters every complete little-endian pcap record in [address, end) of the machine's memory in one call
   * (JIT only; undefined on the interpreter): matches, records run, and the address of the first record that is
   * incomplete or captured more than `longest` bytes.
   */
  scanRecords(address: number, end: number, longest?: number): { matched: number; records: number; next: number } | undefined;
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
      return loaded.enterWord(region, wireLength, region, packet.length);
    },
    buffer(size) {
      const address = machine.mapInput(size);
      return { address, view: () => memory.bytes.subarray(address, address + size) };
    },
    runAt(address, length, wireLength) {
      return loaded.enterWord(address, wireLength, address, length);
    },
    scanRecords(address, end, longest) {
      return loaded.scanRecords(address, end, longest);
    },
  };
}
