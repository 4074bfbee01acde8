// CO-RE relocations of testdata/core.o applied against the running kernel's BTF give the offsets, sizes and
// enum values that bpftool prints for vmlinux; unresolvable relocations are poisoned as libbpf does; kconfig
// externs read the kernel configuration.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { btfFromFile } from "../src/object/btf/index.js";
import { loadCollectionSpec } from "../src/object/collection.js";
import { applyCoreRelocations, POISON_HELPER } from "../src/object/core/relocate.js";
import { ObjectError } from "../src/object/errors.js";
import { kernelVersionCode, parseKernelConfig, readKernelConfig, resolveKconfig } from "../src/object/kconfig.js";
import type { ProgramSpec } from "../src/object/programs.js";
import { REPO } from "./support/paths.js";

const VMLINUX = "/sys/kernel/btf/vmlinux";
const spec = loadCollectionSpec(readFileSync(join(REPO, "testdata", "core.o")));
const program = spec.programs.get("core_reads") as ProgramSpec;

function bpftoolVmlinux(): string | undefined {
  try {
    return execFileSync("bpftool", ["btf", "dump", "file", VMLINUX, "format", "raw"], { encoding: "utf8", maxBuffer: 1 << 30 });
  } catch {
    return undefined;
  }
}

const dump = existsSync(VMLINUX) ? bpftoolVmlinux() : undefined;

describe("CO-RE against vmlinux", { skip: dump ? undefined : "needs /sys/kernel/btf/vmlinux and bpftool" }, () => {
  it("resolves field offsets, type size and enum values as bpftool's vmlinux dump says", () => {
    const text = dump as string;
    const task = /\] STRUCT 'task_struct' size=(\d+) vlen=\d+\n((?:\t.*\n)+)/.exec(text);
    assert.ok(task, "task_struct in bpftool's dump");
    const bits = (name: string): bigint =>
      BigInt(Number((new RegExp(`\\t'${name}' type_id=\\d+ bits_offset=(\\d+)`).exec(task[2] as string) as RegExpExecArray)[1]) / 8);
    const tgidValue = BigInt((/ENUM 'pid_type'[^\n]*\n(?:\t.*\n)*?\t'PIDTYPE_TGID' val=(\d+)/.exec(text) as RegExpExecArray)[1] as string);

    const target = btfFromFile(readFileSync(VMLINUX), VMLINUX);
    const { program: patched, outcomes } = applyCoreRelocations(program, spec.btf as never, spec.btfExt?.coreRelos ?? new Map(), target);
    const find = (kind: string, type: string, access: string) =>
      outcomes.find((o) => o.kind === kind && o.typeName === type && o.access === access);
    assert.equal(find("field_byte_offset", "task_struct", "0:0")?.value, bits("pid"));
    assert.equal(find("field_byte_offset", "task_struct", "0:1")?.value, bits("tgid"));
    // The ___v2 flavor matches the kernel's task_struct: same pid offset, and its extra field does not exist.
    assert.equal(find("field_byte_offset", "task_struct___v2", "0:0")?.value, bits("pid"));
    assert.equal(find("field_exists", "task_struct___v2", "0:1")?.value, 0n);
    assert.equal(find("type_size", "task_struct", "0")?.value, BigInt(task[1] as string));
    assert.equal(find("enumval_value", "pid_type", "1")?.value, tgidValue);
    assert.ok(outcomes.every((o) => !o.poisoned));
    // The instruction carrying the pid offset now adds the kernel's offset.
    const pidSlot = find("field_byte_offset", "task_struct", "0:0")?.slot as number;
    let slot = 0;
    const at = patched.instructions.find((i) => {
      const here = slot;
      slot += i.op === 0x18 ? 2 : 1;
      return here === pidSlot;
    });
    assert.equal(BigInt(at?.imm ?? -1), bits("pid"));
  });
});

describe("CO-RE without a matching target type", () => {
  it("poisons field reads and reports non-existence as 0", () => {
    const unrelated = loadCollectionSpec(readFileSync(join(REPO, "testdata", "globals.o"))).btf;
    assert.ok(unrelated && spec.btf);
    const { program: patched, outcomes } = applyCoreRelocations(program, spec.btf, spec.btfExt?.coreRelos ?? new Map(), unrelated);
    const reads = outcomes.filter((o) => o.kind === "field_byte_offset");
    assert.ok(reads.length >= 3 && reads.every((o) => o.poisoned));
    assert.equal(outcomes.find((o) => o.kind === "field_exists")?.value, 0n);
    // Every poisoned relocation's instruction (both slots of an lddw) became the poison call.
    const bySlot = new Map<number, number>();
    let slot = 0;
    for (const i of patched.instructions) {
      bySlot.set(slot, i.op === 0x85 ? i.imm : -1);
      slot += i.op === 0x18 ? 2 : 1;
    }
    for (const o of outcomes.filter((x) => x.poisoned)) assert.equal(bySlot.get(o.slot), POISON_HELPER, `slot ${o.slot} (${o.kind})`);
    assert.equal(outcomes.filter((o) => o.poisoned).length, reads.length + 2); // + type_size, enumval_value
    const slots = (p: ProgramSpec) => p.instructions.reduce((n, i) => n + (i.op === 0x18 ? 2 : 1), 0);
    assert.equal(slots(patched), slots(program));
  });
});

describe("kconfig externs", () => {
  it("fills .kconfig from a configuration and turns extern reads into map reads", () => {
    const resolved = resolveKconfig(spec, parseKernelConfig("CONFIG_HZ=300\n# CONFIG_FOO is not set\n", "5.15.7-custom"));
    const map = resolved.maps.get(".kconfig");
    assert.ok(map?.contents && map.readOnly);
    const view = new DataView(map.contents.buffer, map.contents.byteOffset);
    assert.equal(view.getUint32(0, true), 300);
    assert.equal(view.getUint32(4, true), (5 << 16) | (15 << 8) | 7);
    assert.equal(view.getUint32(8, true), 0); // weak CONFIG_NOT_A_REAL_OPTION
    const refs = [...(resolved.programs.get("core_reads")?.references.values() ?? [])];
    assert.ok(refs.every((r) => r.kind !== "extern"));
    assert.equal(refs.filter((r) => r.kind === "map_value" && r.map === ".kconfig").length, 3);
  });

  it("names a strong extern the configuration lacks", () => {
    assert.throws(
      () => resolveKconfig(spec, parseKernelConfig("", "6.1.0")),
      (e: unknown) => e instanceof ObjectError && /CONFIG_HZ/.test(e.message),
    );
  });

  it("reads this kernel's configuration", { skip: existsSync("/proc/config.gz") ? undefined : "no /proc/config.gz" }, () => {
    const hz = /^CONFIG_HZ=(\d+)$/m.exec(gunzipSync(readFileSync("/proc/config.gz")).toString("utf8"))?.[1];
    const config = readKernelConfig();
    assert.equal(config.options.get("CONFIG_HZ"), hz);
    assert.equal(kernelVersionCode("6.18.44-fc"), (6 << 16) | (18 << 8) | 44);
    assert.equal(kernelVersionCode("4.19.300"), (4 << 16) | (19 << 8) | 255);
  });
});
