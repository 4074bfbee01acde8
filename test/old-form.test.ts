// The object form old LLVM wrote (testdata/old_form.o: EM_NONE, SHT_RELA relocations of type 0 on the map
// loads, 28-byte map definitions in "maps") runs in the userspace machine exactly as in the kernel: the same
// return values, and the same map contents afterwards.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadCollection } from "../src/collection.js";
import type { KernelCollection } from "../src/kernel/collection.js";
import { loadCollectionSpec } from "../src/object/collection.js";
import { EM_BPF } from "../src/object/elf.js";
import type { VmCollection } from "../src/vm/collection.js";
import { bpfMissing } from "./support/kernel.js";
import { REPO } from "./support/paths.js";

const spec = () => loadCollectionSpec(readFileSync(join(REPO, "testdata", "old_form.o")));

/** Frames of several lengths and EtherTypes (skb->len and skb->protocol decide what the program records). */
const frames = [60, 61, 62, 63, 64, 99, 1500].map((length, k) => {
  const f = new Uint8Array(length);
  f.set(k % 2 === 0 ? [0x08, 0x00] : [0x86, 0xdd], 12);
  return f;
});

interface Observed {
  retvals: number[];
  counters: string[];
  lastLen: string[];
}

function observe(objs: VmCollection | KernelCollection): Observed {
  const program = objs.programs.get("count_len");
  assert.ok(program, "count_len");
  const retvals = frames.map((data) => program.testRun({ data }).retval);
  const hex = (b: Uint8Array | undefined): string => (b ? Buffer.from(b).toString("hex") : "-");
  const counters = [0, 1, 2, 3].map((k) => hex(objs.maps.get("counters")?.get(Uint8Array.of(k, 0, 0, 0))));
  const lastLen = [...(objs.maps.get("last_len")?.keys() ?? [])]
    .map((key) => `${hex(key)}=${hex(objs.maps.get("last_len")?.get(key))}`)
    .sort();
  return { retvals, counters, lastLen };
}

describe("an object in old LLVM's form", () => {
  it("reads as what it is: EM_NONE, two map references through type-0 RELA relocations", () => {
    const s = spec();
    assert.notEqual(s.elf.machine, EM_BPF);
    assert.equal(s.elf.sectionByName(".relasocket")?.type, 4); // SHT_RELA
    assert.deepEqual(
      [...s.maps.values()].map((m) => [m.name, m.typeName, m.keySize, m.valueSize, m.maxEntries]),
      [
        ["counters", "array", 4, 8, 4],
        ["last_len", "hash", 4, 8, 16],
      ],
    );
    const refs = [...(s.programs.get("count_len")?.references.values() ?? [])];
    assert.deepEqual(refs, [
      { kind: "map", map: "counters" },
      { kind: "map", map: "last_len" },
    ]);
  });

  it("gives the kernel's results in the userspace machine", { skip: bpfMissing() }, () => {
    const vm = loadCollection(spec());
    const kernel = loadCollection(spec(), { backend: "kernel" });
    try {
      const ours = observe(vm);
      const theirs = observe(kernel);
      assert.deepEqual(ours, theirs);
      assert.ok(theirs.lastLen.length === 2 && theirs.counters.some((c) => c !== "0000000000000000"), JSON.stringify(theirs));
    } finally {
      kernel.close();
      vm.close();
    }
  });
});
