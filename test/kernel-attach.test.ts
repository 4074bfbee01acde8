// Attaching for real: seed (a) counts sched_switch per process (our own pid must show up), raw tracepoints
// attach and detach, and hooks this kernel lacks fail with errors that say so.
import assert from "node:assert/strict";
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { opensnoop } from "../examples/opensnoop.js";
import { schedTop } from "../examples/sched-top.js";
import { NotSupportedError } from "../src/errors.js";
import { assemble } from "../src/isa/index.js";
import { attachProgram } from "../src/kernel/attach.js";
import { listLinks } from "../src/kernel/inventory.js";
import { attachRawTracepoint } from "../src/kernel/link.js";
import { KernelProgram } from "../src/kernel/program.js";
import { loadCollectionSpec } from "../src/object/collection.js";
import type { ProgramSpec } from "../src/object/programs.js";
import { bpfMissing } from "./support/kernel.js";
import { REPO } from "./support/paths.js";

describe("attaching programs", { skip: bpfMissing() }, () => {
  it("seed (a): counts sched_switch events of this process", async () => {
    const counts = await schedTop(200);
    const mine = counts.find((c) => c.pid === process.pid);
    assert.ok(mine && mine.switches > 0n, `no sched_switch counted for pid ${process.pid}`);
    assert.ok(counts.length > 1);
  });

  it("attaches a raw tracepoint and detaches it on close", () => {
    const before = listLinks().length;
    const p = KernelProgram.load(assemble("mov %r0, 0\nexit"), { type: "raw_tracepoint", name: "tsbpf_rawtp" });
    try {
      const link = attachRawTracepoint(p, "sys_enter");
      assert.equal(listLinks().length, before + 1);
      assert.ok(listLinks().some((l) => l.progId !== 0));
      link.close();
      assert.equal(listLinks().length, before);
    } finally {
      p.close();
    }
  });

  it("says when the kernel lacks kprobes", () => {
    const spec = loadCollectionSpec(readFileSync(join(REPO, "testdata", "sched_count.o")));
    const kprobe = {
      ...(spec.programs.get("count_switches") as ProgramSpec),
      type: "kprobe" as const,
      section: "kprobe/do_sys_open",
      attachTo: "do_sys_open",
    };
    const p = KernelProgram.load(assemble("mov %r0, 0\nexit"), { type: "kprobe", name: "tsbpf_kprobe" });
    try {
      assert.throws(
        () => attachProgram(p, kprobe),
        (e: unknown) => e instanceof NotSupportedError && /kprobe/.test(e.message),
      );
    } finally {
      p.close();
    }
  });
});

describe("seed (b): openat tracer", { skip: bpfMissing() }, () => {
  it("streams an event for a file this process opens", async () => {
    const path = join(tmpdir(), `tsbpf-opensnoop-${process.pid}-${Date.now()}`);
    writeFileSync(path, "x");
    let found: { pid: number; comm: string; filename: string } | undefined;
    try {
      const opener = setInterval(() => closeSync(openSync(path, "r")), 20);
      try {
        await opensnoop((e) => {
          if (e.pid === process.pid && e.filename === path) found = e;
          return found !== undefined;
        }, 3000);
      } finally {
        clearInterval(opener);
      }
    } finally {
      rmSync(path, { force: true });
    }
    assert.ok(found, "no openat event from this process");
    assert.equal(found.comm, readFileSync(`/proc/${process.pid}/comm`, "utf8").trim());
  });
});
