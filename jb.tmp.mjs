import { readFileSync } from "node:fs";
import { parseDataFile } from "/work/main/dist/src/isa/data-format.js";
import { assemble } from "/work/main/dist/src/isa/index.js";
import { Machine } from "/work/main/dist/src/vm/machine.js";
import { kernelBench } from "/work/main/dist/bench/kernel.js";
const kernel = kernelBench();
for (const name of (process.argv[2]??"checksum1500,parse_pkt").split(",")) {
  const data = parseDataFile(readFileSync(`/work/shared/bench/${name}.data`, "utf8"));
  const insns = assemble(data.asm);
  const program = new Machine().load(insns, { budget: 1e9, engine: "jit", mode: "trusted" });
  const input = { input: data.mem };
  if (program.run(input).r0 !== data.result) console.log("WRONG");
  const once = program.run({ ...input, repeat: 100 }).duration;
  const repeat = Math.max(100, Math.ceil(20e6 / once));
  const t0 = process.hrtime.bigint();
  while (process.hrtime.bigint() - t0 < 200_000_000n) program.run({ ...input, repeat });
  const ours = Math.min(...Array.from({ length: 7 }, () => program.run({ ...input, repeat }).duration));
  const k = typeof kernel === "string" ? kernel : kernel(insns, data.mem, data.result);
  console.log(name, ours.toFixed(1), "kernel", typeof k === "number" ? k.toFixed(1) : k, typeof k === "number" ? (ours/k).toFixed(2) : "");
}
