// A clang-compiled object in the userspace machine (no root, any OS): load it, run a program on a packet as
// BPF_PROG_TEST_RUN would, read its map through the BTF-typed view.
// Run with `npm run build && node dist/examples/machine-api.js`.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadCollection } from "../src/collection.js";
import { loadCollectionSpec } from "../src/object/index.js";

const object = readFileSync(fileURLToPath(new URL("../../testdata/machine.o", import.meta.url)));
const objs = loadCollection(loadCollectionSpec(object)); // the machine is the default backend
const frame = new Uint8Array(60);
frame.set([0x08, 0x00], 12); // an IPv4 EtherType
const { retval } = objs.programs.get("weigh")?.testRun({ data: frame }) ?? { retval: -1 };
console.log(`retval ${retval}`); // retval 15045
const weights = objs.maps.get("weights")?.typed<number, bigint>();
// a hash table walks its buckets as the kernel's does (4, 5, 2, 1, 3 here), so sort for reading
const sorted = [...(weights?.entries() ?? [])].sort(([a], [b]) => a - b);
for (const [key, value] of sorted) console.log(`${key} -> ${value}`); // 1 -> 3, 2 -> 6, ...
