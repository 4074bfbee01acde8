// .ksyms externs of testdata/ksyms.o resolved against this kernel: kfunc and variable BTF ids as bpftool
// lists them in vmlinux, typeless symbols at their /proc/kallsyms address, weak missing ones as 0.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Instruction } from "../src/isa/instruction.js";
import { lddwValue } from "../src/isa/instruction.js";
import { btfFromFile } from "../src/object/btf/index.js";
import { loadCollectionSpec } from "../src/object/collection.js";
import { ObjectError } from "../src/object/errors.js";
import { parseKallsyms, readKallsyms, resolveKsyms, unresolvedExterns } from "../src/object/ksyms.js";
import { REPO } from "./support/paths.js";

const VMLINUX = "/sys/kernel/btf/vmlinux";
const spec = loadCollectionSpec(readFileSync(join(REPO, "testdata", "ksyms.o")));

function bpftoolIds(): Map<string, number> | undefined {
  try {
    const text = execFileSync("bpftool", ["btf", "dump", "file", VMLINUX, "format", "raw"], { encoding: "utf8", maxBuffer: 1 << 30 });
    const ids = new Map<string, number>();
    for (const m of text.matchAll(/^\[(\d+)\] (FUNC|VAR) '([^']+)'/gm))
      if (!ids.has(`${m[2]}:${m[3]}`)) ids.set(`${m[2]}:${m[3]}`, Number(m[1]));
    return ids;
  } catch {
    return undefined;
  }
}

const ids = existsSync(VMLINUX) ? bpftoolIds() : undefined;

describe("ksym externs", () => {
  it("are reported as unresolved until resolved", () => {
    assert.deepEqual(
      new Set(unresolvedExterns(spec.programs.get("ksyms") as never)),
      new Set(["bpf_task_acquire", "bpf_task_release", "_stext", "bpf_prog_active", "tsbpf_not_a_kernel_symbol"]),
    );
  });

  it("resolve against vmlinux BTF and /proc/kallsyms", { skip: ids ? undefined : "needs vmlinux BTF and bpftool" }, () => {
    const kallsyms = readKallsyms();
    const resolved = resolveKsyms(spec, { btf: btfFromFile(readFileSync(VMLINUX), VMLINUX), kallsyms });
    const p = resolved.programs.get("ksyms");
    assert.ok(p);
    assert.deepEqual(unresolvedExterns(p), []);
    const kfuncs = p.instructions.filter((i) => i.op === 0x85 && i.src === 2).map((i) => i.imm);
    assert.deepEqual(kfuncs, [ids?.get("FUNC:bpf_task_acquire"), ids?.get("FUNC:bpf_task_release")]);
    const btfIdLoads = p.instructions.filter((i) => i.op === 0x18 && i.src === 3);
    assert.deepEqual(
      btfIdLoads.map((i) => i.imm),
      [ids?.get("VAR:bpf_prog_active")],
    );
    const stext = /^([0-9a-f]+) \S _stext$/m.exec(readFileSync("/proc/kallsyms", "utf8"))?.[1];
    const constants = p.instructions.filter((i: Instruction) => i.op === 0x18 && i.src === 0).map((i) => lddwValue(i));
    assert.ok(constants.includes(BigInt(`0x${stext}`)), "the _stext address from /proc/kallsyms is loaded");
  });

  it("name a strong symbol the kernel lacks", { skip: existsSync(VMLINUX) ? undefined : "needs vmlinux BTF" }, () => {
    assert.throws(
      () => resolveKsyms(spec, { btf: btfFromFile(readFileSync(VMLINUX), VMLINUX), kallsyms: parseKallsyms("ffffffff81000000 T other\n") }),
      (e: unknown) => e instanceof ObjectError && /_stext/.test(e.message),
    );
  });
});
