// The API in a few lines: assemble, load on the userspace machine, run on input bytes, disassemble.
// Run with `npm run build && node dist/examples/api.js`.
import { assemble, disassemble, encode } from "../src/isa/index.js";
import { Machine } from "../src/vm/index.js";

const insns = assemble(`
  ldxh %r0, [%r1+12]   # EtherType of an Ethernet frame
  be16 %r0
  exit
`);
const frame = new Uint8Array(14);
frame.set([0x08, 0x00], 12);
const program = new Machine().load(insns);
console.log(`r0 = 0x${program.run({ input: frame }).r0.toString(16)}`); // r0 = 0x800
console.log(disassemble(insns, { dialect: "llvm" }).trimEnd());
console.log(`${encode(insns).length} bytes`);
