// Seed (b): trace openat(2) system-wide; each event (pid, comm, filename) streams from the kernel over a ring
// buffer. Run as root: `npm run build && node dist/examples/opensnoop.js [SECONDS]`.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { attachProgram } from "../src/kernel/attach.js";
import { loadKernelCollection } from "../src/kernel/collection.js";
import { RingBufReader } from "../src/kernel/ringbuf.js";
import { loadCollectionSpec } from "../src/object/collection.js";
import type { ProgramSpec } from "../src/object/programs.js";

export interface OpenEvent {
  pid: number;
  comm: string;
  filename: string;
}

const cstring = (bytes: Uint8Array): string => {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
};

/** Traces openat until `until` resolves, calling onEvent for each event. */
export async function opensnoop(onEvent: (e: OpenEvent) => boolean | undefined, timeoutMs: number): Promise<void> {
  const spec = loadCollectionSpec(readFileSync(fileURLToPath(new URL("../../testdata/openat.o", import.meta.url))));
  using collection = loadKernelCollection(spec);
  const program = collection.programs.get("trace_openat");
  const events = collection.maps.get("events");
  if (!program || !events) throw new Error("openat.o lacks trace_openat or events");
  using reader = new RingBufReader(events);
  using _link = attachProgram(program, spec.programs.get("trace_openat") as ProgramSpec);
  const deadline = Date.now() + timeoutMs;
  let done = false;
  while (!done && Date.now() < deadline) {
    reader.poll((r) => {
      if (done) return;
      const v = new DataView(r.buffer, r.byteOffset, r.byteLength);
      const stop = onEvent({ pid: v.getUint32(0, true), comm: cstring(r.subarray(4, 20)), filename: cstring(r.subarray(20, 276)) });
      if (stop) done = true;
    });
    if (!done) await reader.wait(Math.max(1, Math.min(100, deadline - Date.now())));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const seconds = Number(process.argv[2] ?? 5);
  await opensnoop((e) => {
    console.log(`${String(e.pid).padStart(7)}  ${e.comm.padEnd(16)} ${e.filename}`);
    return false;
  }, seconds * 1000);
}
