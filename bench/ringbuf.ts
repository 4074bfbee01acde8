/**
 * Ring buffer drain rate: a kernel program writes fixed-size records with bpf_ringbuf_output (driven by
 * BPF_PROG_TEST_RUN with repeat), and RingBufReader.pollRaw hands each to a TS callback. Best of 5 rounds.
 */
import { assemble } from "../src/isa/index.js";
import { KernelMap } from "../src/kernel/map.js";
import { KernelProgram } from "../src/kernel/program.js";
import { RingBufReader } from "../src/kernel/ringbuf.js";

const RING = 1 << 26;

export function ringbufEventsPerSecond(recordSize: number): number {
  const map = KernelMap.create({
    name: "tsbpf_bench_rb",
    type: 27,
    typeName: "ringbuf",
    keySize: 0,
    valueSize: 0,
    maxEntries: RING,
    flags: 0,
    pinning: 0,
    section: "bench",
  });
  try {
    const stores = Array.from({ length: recordSize / 8 }, (_, i) => `stdw [%r10-${recordSize - i * 8}], ${i + 1}`).join("\n");
    const source = `${stores}\nlddw %r1, map_fd(${map.fd})\nmov %r2, %r10\nadd %r2, -${recordSize}\nmov %r3, ${recordSize}\nmov %r4, 0\ncall 130\nmov %r0, 0\nexit`;
    const program = KernelProgram.load(assemble(source), { type: "socket_filter", name: "tsbpf_bench_rb" });
    const reader = new RingBufReader(map);
    try {
      let best = 0;
      for (let round = 0; round < 5; round++) {
        program.testRun({ data: new Uint8Array(64), repeat: Math.floor(RING / (recordSize + 8)) - 16 });
        let seen = 0;
        const t0 = process.hrtime.bigint();
        const n = reader.pollRaw((data, offset) => {
          seen += data[offset] as number;
        });
        const ns = Number(process.hrtime.bigint() - t0);
        if (seen !== n) throw new Error("ring buffer bench: records were not delivered intact");
        best = Math.max(best, n / (ns / 1e9));
      }
      return best;
    } finally {
      reader.close();
      program.close();
    }
  } finally {
    map.close();
  }
}
