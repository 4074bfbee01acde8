import { readFileSync } from "node:fs";
import { parseDataFile } from "/work/main/dist/src/isa/data-format.js";
import { assemble } from "/work/main/dist/src/isa/index.js";
import { Machine } from "/work/main/dist/src/vm/machine.js";
const data = parseDataFile(readFileSync(`/work/shared/bench/${process.argv[2]}.data`, "utf8"));
const program = new Machine().load(assemble(data.asm), { budget: 1e9, engine: "jit", mode: "trusted" });
for (let i = 0; i < 300; i++) program.run({ input: data.mem, repeat: 1000 });
