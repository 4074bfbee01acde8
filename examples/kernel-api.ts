// The README's kernel example: load an object the way libbpf does, attach, and read a ring buffer. The link is
// disposed with `await using`: detaching waits in the kernel for ~50 ms, spent off Node's event loop.
// Run as root: `npm run build && node dist/examples/kernel-api.js` (prints the sizes of the first records).
import { closeSync, openSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { attachProgram, type KernelMap, type KernelProgram, loadKernelCollection, RingBufReader } from "../src/kernel/index.js";
import { loadCollectionSpec, type ProgramSpec } from "../src/object/index.js";

const spec = loadCollectionSpec(readFileSync(fileURLToPath(new URL("../../testdata/openat.o", import.meta.url))));
using objs = loadKernelCollection(spec); // CO-RE, externs, BTF, maps: as libbpf does
using events = new RingBufReader(objs.maps.get("events") as KernelMap);
await using _link = attachProgram(objs.programs.get("trace_openat") as KernelProgram, spec.programs.get("trace_openat") as ProgramSpec);
closeSync(openSync("/etc/hostname", "r")); // at least one openat to see
await events.wait(1000);
let shown = 0;
events.poll((record) => {
  if (shown++ < 3) console.log(record.length);
});
