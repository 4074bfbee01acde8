// Typed map entries: BTF layouts decoded and encoded as clang laid them out. The oracles are the C sources —
// initial global data in both byte orders, a record the BPF program writes field by field, and a BPF program
// that checks, field by field, a record written from TypeScript.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadKernelCollection } from "../src/kernel/collection.js";
import { KernelMap } from "../src/kernel/map.js";
import type { KernelProgram } from "../src/kernel/program.js";
import { btfCodec, CodecError } from "../src/object/btf/codec.js";
import { loadCollectionSpec } from "../src/object/collection.js";
import { mapCodecs } from "../src/object/typed-map.js";
import { tsbpf } from "./support/cli.js";
import { bpfMissing } from "./support/kernel.js";
import { REPO } from "./support/paths.js";
import { ensureTool } from "./support/tools.js";

const spec = (name: string) => loadCollectionSpec(readFileSync(join(REPO, "testdata", name)));

describe("BTF codecs", () => {
  for (const object of ["globals.o", "globals_bpfeb.o"]) {
    it(`decode the initial global data of ${object} as globals.c declares it`, () => {
      const maps = spec(object).maps;
      const decode = (section: string) => {
        const m = maps.get(section);
        assert.ok(m?.contents);
        return mapCodecs(m).value.decode(m.contents);
      };
      assert.deepEqual(decode(".data"), { counter: 5n });
      assert.deepEqual(decode(".rodata"), { limit: 100 });
      assert.deepEqual(decode(".bss"), { zeroed: 0 });
      assert.deepEqual(decode(".data.custom"), { custom_data: 0xabcd });
      assert.deepEqual(decode(".rodata.str"), { greeting: "hello tsbpf" });
    });
  }

  it("encode what they decode, in both byte orders", () => {
    for (const object of ["globals.o", "globals_bpfeb.o"]) {
      for (const m of spec(object).maps.values()) {
        if (!m.contents || m.valueTypeId === undefined) continue;
        const codec = mapCodecs(m).value;
        assert.deepEqual(codec.encode(codec.decode(m.contents)), Uint8Array.from(m.contents), `${object} ${m.name}`);
      }
    }
  });

  it("refuse values that do not fit, naming the path", () => {
    const s = spec("typed_map.o");
    const records = s.maps.get("records");
    assert.ok(records?.btf && records.valueTypeId !== undefined);
    const value = btfCodec(records.btf, records.valueTypeId);
    const refuses = (v: unknown, message: RegExp): void => {
      assert.throws(
        () => value.encode(v as never),
        (e: unknown) => e instanceof CodecError && message.test(e.message),
      );
    };
    refuses({ pid: -1 }, /^value\.pid: -1 does not fit in unsigned int \(u32\)/);
    refuses({ small: 128 }, /^value\.small: 128 does not fit in signed char \(s8\)/);
    refuses({ ports: [{ port: 70000 }] }, /^value\.ports\[0\]\.port: 70000 does not fit/);
    refuses({ ports: [{}, {}, {}] }, /^value\.ports: 3 elements, the array holds 2/);
    refuses({ comm: "x".repeat(17) }, /^value\.comm: 17 bytes do not fit in char\[16\]/);
    refuses({ lo: 8 }, /^value\.lo: 8 does not fit in a 3-bit bitfield/);
    refuses({ neg: 16 }, /^value\.neg: 16 does not fit in a 5-bit bitfield/);
    refuses({ addr4: 1, addr6: [] }, /^value: a union holds one member, got addr4, addr6/);
    refuses({ color: "PURPLE" }, /^value\.color: enum color has no value "PURPLE"/);
    refuses({ pdi: 1 }, /^value: no member pdi \(members: pid, small, flag/);
    refuses({ flag: 1 }, /^value\.flag: expected a boolean, got 1/);
    refuses({ big: 1.5 }, /^value\.big: expected an integer/);
    refuses(7, /^value: expected an object, got 7/);
  });
});

describe("typed kernel maps", { skip: bpfMissing() }, () => {
  it("read what the BPF program wrote and write what it checks", () => {
    using objs = loadKernelCollection(spec("typed_map.o"));
    const run = (name: string): number => (objs.programs.get(name) as KernelProgram).testRun({ data: new Uint8Array(64) }).retval;
    const records = (objs.maps.get("records") as KernelMap).typed();
    assert.equal(run("fill"), 2);
    // the values typed_map.c's fill() stores
    const filled = [
      [
        { id: 1, name: "abc" },
        {
          pid: 4000000000,
          small: -7,
          flag: true,
          comm: "tsbpf-test",
          lo: 5,
          mid: 300,
          hi: 0xabcde,
          neg: -9,
          ports: [
            { port: 8080, proto: 6 },
            { port: 53, proto: 17 },
          ],
          addr4: 0x0100007f,
          addr6: [127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
          color: -3,
          big: 0xfedcba9876543210n,
          sbig: -1234567890123n,
          ptr: 0x1000n,
          ratio: 0.5,
        },
      ],
    ];
    assert.deepEqual([...records.entries()], filled);
    // opened by id, the map is described by the BTF the kernel keeps for it: the same entries
    const id = (objs.maps.get("records") as KernelMap).kernelId();
    {
      using byId = KernelMap.fromId(id);
      assert.deepEqual([...byId.typed().entries()], filled);
    }
    if (ensureTool("bpftool", "bpftool", ["version"])) {
      // bpftool -j's `formatted` and ours agree where both print the same kinds (bpftool prints enums by name,
      // bitfields in hex and cannot print a double)
      const pick = (value: Record<string, unknown>): unknown => [value.pid, value.small, value.flag, value.comm, value.ports];
      type Formatted = Array<{ formatted: { key: unknown; value: Record<string, unknown> } }>;
      const ours = JSON.parse(tsbpf(["map", "dump", "id", String(id), "--json"]).stdout) as Formatted;
      const text = execFileSync("bpftool", ["map", "dump", "id", String(id), "-j"], { encoding: "utf8" });
      const theirs = JSON.parse(text.replace(/"ratio":\(unsupported-kind/, '"ratio":null')) as Formatted;
      assert.deepEqual(ours[0]?.formatted.key, theirs[0]?.formatted.key);
      assert.deepEqual(pick(ours[0]?.formatted.value ?? {}), pick(theirs[0]?.formatted.value ?? {}));
      // 64-bit integers: bpftool's digits (beyond what a JSON number keeps) and our exact decimal strings
      const digits = (name: string): string | undefined => new RegExp(`"${name}":(-?\\d+)`).exec(text)?.[1];
      assert.deepEqual([ours[0]?.formatted.value.big, ours[0]?.formatted.value.sbig], [digits("big"), digits("sbig")]);
    }
    records.set(
      { id: 2, name: "ts" },
      {
        pid: 77,
        small: -128,
        flag: true,
        comm: "node",
        lo: 7,
        mid: 511,
        hi: 1,
        neg: -16,
        ports: [{ port: 443, proto: 6 }],
        addr6: [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        color: "GREEN",
        big: 0xffffffffffffffffn,
        sbig: -2n,
        ratio: 2.25,
      },
    );
    assert.equal(run("check"), 0, "check() finds every field as TypeScript wrote it (bits set: fields that differ)");
    assert.deepEqual((objs.maps.get(".bss") as KernelMap).typed().get(0), { checked: 1 });
    records.delete({ id: 1, name: "abc" });
    assert.deepEqual([...records.keys()], [{ id: 2, name: "ts" }]);
  });
});

describe("global data shared with the kernel through mmap", { skip: bpfMissing() }, () => {
  it("sees what the program writes and lets it see what we write, with no system call", () => {
    using objs = loadKernelCollection(spec("globals.o"));
    const map = (name: string) => objs.maps.get(name) as KernelMap;
    const data = map(".data").mmap();
    const bss = map(".bss").mmap();
    const dataCodec = mapCodecs(map(".data").spec).value;
    assert.deepEqual(dataCodec.decode(data), { counter: 5n });
    new DataView(bss.buffer, bss.byteOffset).setUint32(0, 1000, true); // zeroed = 1000
    const retval = (objs.programs.get("first") as KernelProgram).testRun({ data: new Uint8Array(64) }).retval;
    // globals.c: acc = 0+1+...+9 = 45; counter += acc + zeroed + custom_data + greeting[0] ('h')
    const counter = 5n + 45n + 1000n + 0xabcdn + 104n;
    assert.deepEqual(dataCodec.decode(data), { counter });
    assert.equal(BigInt(retval), (2n * 45n + 100n + counter) & 0xffffffffn, "first() returns twice(acc) + limit + counter");
    // .rodata is frozen: a copy of its values
    const rodata = map(".rodata").mmap();
    assert.deepEqual(mapCodecs(map(".rodata").spec).value.decode(rodata), { limit: 100 });
    rodata[0] = 7; // harmless
    assert.deepEqual(mapCodecs(map(".rodata").spec).value.decode(map(".rodata").mmap()), { limit: 100 });
    assert.throws(() => map("sums").mmap(), /only arrays created with BPF_F_MMAPABLE/);
  });
});
