// Attaching for real: seed (a) counts sched_switch per process (our own pid must show up), raw tracepoints
// attach and detach, and hooks this kernel lacks fail with errors that say so.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { opensnoop } from "../examples/opensnoop.js";
import { schedTop } from "../examples/sched-top.js";
import { NotSupportedError } from "../src/errors.js";
import { assemble } from "../src/isa/index.js";
import { attachProgram } from "../src/kernel/attach.js";
import { loadKernelCollection } from "../src/kernel/collection.js";
import { listLinks } from "../src/kernel/inventory.js";
import { KernelSymbolizer, stackAddresses } from "../src/kernel/kallsyms.js";
import { attachIterator, attachPerfEvent, attachRawTracepoint, attachTracepoint, attachUprobe } from "../src/kernel/link.js";
import type { KernelMap } from "../src/kernel/map.js";
import { KernelProgram } from "../src/kernel/program.js";
import { symbolFileOffset } from "../src/kernel/symbols.js";
import { linuxSys, type Sys } from "../src/kernel/sys.js";
import { attachUsdt, parseUsdtArg, readUsdtProbes } from "../src/kernel/usdt.js";
import { loadCollectionSpec } from "../src/object/collection.js";
import type { ProgramSpec } from "../src/object/programs.js";
import { bpfMissing, eventLoopTurnsDuring } from "./support/kernel.js";
import { REPO } from "./support/paths.js";
import { ensureTool } from "./support/tools.js";

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

  it("detaches tracepoint links without holding up the event loop (closeAsync)", async () => {
    const p = KernelProgram.load(assemble("mov %r0, 0\nexit"), { type: "tracepoint", name: "tsbpf_detach" });
    try {
      const before = new Set(listLinks().map((l) => l.id));
      const links = ["sched_switch", "sched_wakeup", "sched_process_fork"].map((t) => attachTracepoint(p, "sched", t));
      const ours = listLinks().filter((l) => !before.has(l.id));
      assert.equal(ours.length, 3);
      const { turns } = await eventLoopTurnsDuring(() => Promise.all(links.map((l) => l.closeAsync())));
      // the kernel spends tens of milliseconds per link in close(2): the event loop kept turning meanwhile
      assert.ok(turns > 1, `the event loop turned ${turns} times while the links closed`);
      const left = new Set(listLinks().map((l) => l.id));
      assert.deepEqual(
        ours.filter((l) => left.has(l.id)),
        [],
      );
      await links[0]?.closeAsync(); // a second close does nothing
    } finally {
      p.close();
    }
  });

  it("loads and attaches through the system calls it is given", () => {
    const real = linuxSys();
    const made: string[] = [];
    const sys: Sys = {
      ...real,
      bpf: (cmd, attr, operation) => {
        made.push(operation.split(" ")[0] as string);
        return real.bpf(cmd, attr, operation);
      },
      perfEventOpen: (...args) => {
        made.push("perf_event_open");
        return real.perfEventOpen(...args);
      },
    };
    const spec = loadCollectionSpec(readFileSync(join(REPO, "testdata", "sched_count.o")));
    using objs = loadKernelCollection(spec, { sys });
    using link = attachProgram(objs.programs.get("count_switches") as KernelProgram, spec.programs.get("count_switches") as ProgramSpec, {
      sys,
    });
    assert.ok(link.fd > 0);
    assert.deepEqual(made, ["BPF_BTF_LOAD", "BPF_MAP_CREATE", "BPF_PROG_LOAD", "perf_event_open", "BPF_LINK_CREATE"]);
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

describe("seed (f): uprobe and uretprobe", {
  skip: bpfMissing() ?? (ensureTool("gcc", "gcc") ? undefined : "no C compiler for the target binary"),
}, () => {
  it("reports the arguments and the return value of a function in a test binary", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-uprobe-"));
    const binary = join(dir, "uprobe_target");
    execFileSync("gcc", ["-O1", "-o", binary, join(REPO, "testdata", "user", "uprobe_target.c")]);
    const child = spawn(binary, ["x", "y"], { stdio: "ignore" }); // argc = 3
    try {
      const offset = symbolFileOffset(binary, "tsbpf_add");
      const spec = loadCollectionSpec(readFileSync(join(REPO, "testdata", "uprobe.o")));
      using objs = loadKernelCollection(spec);
      using _entry = attachUprobe(objs.programs.get("add_entry") as KernelProgram, binary, offset, { pid: child.pid as number });
      using _exit = attachUprobe(objs.programs.get("add_return") as KernelProgram, binary, offset, {
        retprobe: true,
        pid: child.pid as number,
      });
      const seen = objs.maps.get("seen") as KernelMap;
      const at = (k: number): bigint => {
        const key = new Uint8Array(4);
        new DataView(key.buffer).setUint32(0, k, true);
        return new DataView((seen.get(key) as Uint8Array).buffer).getBigUint64(0, true);
      };
      for (let i = 0; i < 100 && at(3) === 0n; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.ok(at(3) > 0n, "the uprobe fired");
      for (let i = 0; i < 50 && at(2) === 0n; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(at(0), 40n);
      assert.equal(at(1), 3n);
      assert.equal(at(2), 43n);
    } finally {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("seed (h): perf_event sampling with kernel stacks", { skip: bpfMissing() }, () => {
  it("samples cpu-clock on every CPU and resolves kernel stacks through /proc/kallsyms", async () => {
    const spec = loadCollectionSpec(readFileSync(join(REPO, "testdata", "perf_sample.o")));
    using objs = loadKernelCollection(spec);
    {
      using _link = attachPerfEvent(objs.programs.get("sample") as KernelProgram, { frequency: 999 });
      // Keep a CPU busy in the kernel for a while: many small system calls.
      const until = Date.now() + 300;
      while (Date.now() < until) closeSync(openSync("/proc/self/stat", "r"));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const counts = objs.maps.get("counts") as KernelMap;
    const stacks = objs.maps.get("stacks") as KernelMap;
    const symbolizer = new KernelSymbolizer();
    let samples = 0n;
    const frames = new Set<string>();
    for (const [key, value] of counts.entries()) {
      samples += new DataView(value.buffer).getBigUint64(0, true);
      const trace = stacks.get(key);
      if (!trace) continue;
      for (const ip of stackAddresses(trace)) {
        const name = symbolizer.symbolize(ip);
        if (name) frames.add(name.replace(/\+0x[0-9a-f]+$/, ""));
      }
    }
    assert.ok(samples > 10n, `only ${samples} samples`);
    assert.ok(frames.size > 3, `resolved frames: ${[...frames].join(", ")}`);
    // The busy loop opened files: some sampled stack goes through the openat path.
    assert.ok(
      [...frames].some((f) => /open|syscall|entry_SYSCALL/.test(f)),
      [...frames].slice(0, 20).join(", "),
    );
  });
});

describe("iterators", { skip: bpfMissing() }, () => {
  it("iter/task lists every task, this process among them", () => {
    const spec = loadCollectionSpec(readFileSync(join(REPO, "testdata", "iter_task.o")));
    using objs = loadKernelCollection(spec);
    using iter = attachIterator(objs.programs.get("dump_task") as KernelProgram);
    const out = iter.read();
    assert.equal(out.length % 20, 0);
    const tasks = new Map<number, string>();
    for (let at = 0; at < out.length; at += 20) {
      const pid = new DataView(out.buffer, out.byteOffset + at).getUint32(0, true);
      const comm = out.subarray(at + 4, at + 20);
      const end = comm.indexOf(0);
      tasks.set(pid, new TextDecoder().decode(end < 0 ? comm : comm.subarray(0, end)));
    }
    assert.ok(tasks.size > 10, `${tasks.size} tasks`);
    assert.equal(tasks.get(process.pid), readFileSync(`/proc/${process.pid}/comm`, "utf8").trim());
    // Nearly every process /proc lists now was iterated (some may come and go in between).
    const procs = readdirSync("/proc")
      .filter((n) => /^\d+$/.test(n))
      .map(Number);
    const seen = procs.filter((pid) => tasks.has(pid)).length;
    assert.ok(seen >= procs.length * 0.9, `${seen} of ${procs.length} processes iterated`);
  });
});

const sdt =
  ensureTool("gcc", "gcc") && existsSync("/usr/include/x86_64-linux-gnu/sys/sdt.h")
    ? undefined
    : "needs gcc and <sys/sdt.h> (systemtap-sdt-dev)";

describe("seed (g): USDT", { skip: bpfMissing() ?? sdt }, () => {
  it("decodes argument specs as the note writes them", () => {
    assert.deepEqual(parseUsdtArg("-4@%ebx"), { kind: "reg", reg: 40, value: 0n, size: 4, signed: true });
    assert.deepEqual(parseUsdtArg("-8@8(%rsp)"), { kind: "mem", reg: 152, value: 8n, size: 8, signed: true });
    assert.deepEqual(parseUsdtArg("4@$-5"), { kind: "const", reg: 0, value: -5n, size: 4, signed: false });
    assert.throws(() => parseUsdtArg("4@%xmm0"), NotSupportedError);
  });

  it("reads the probe's arguments in the kernel, with its semaphore raised while attached", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tsbpf-usdt-"));
    const binary = join(dir, "usdt_target");
    execFileSync("gcc", ["-O1", "-o", binary, join(REPO, "testdata", "user", "usdt_target.c")]);
    const probe = readUsdtProbes(binary).find((p) => p.provider === "tsbpf" && p.name === "add");
    assert.ok(probe && probe.args.length === 2 && probe.semaphoreOffset > 0, probe?.argText);
    const child = spawn(binary, ["x", "y"], { stdio: "ignore" }); // argc = 3
    try {
      const spec = loadCollectionSpec(readFileSync(join(REPO, "testdata", "usdt.o")));
      using objs = loadKernelCollection(spec);
      using _link = attachUsdt(
        objs.programs.get("on_add") as KernelProgram,
        objs.maps.get("usdt_specs") as KernelMap,
        binary,
        "tsbpf",
        "add",
        {
          pid: child.pid as number,
        },
      );
      const seen = objs.maps.get("usdt_seen") as KernelMap;
      const at = (k: number): bigint => {
        const key = new Uint8Array(4);
        new DataView(key.buffer).setUint32(0, k, true);
        return new DataView((seen.get(key) as Uint8Array).buffer).getBigInt64(0, true);
      };
      for (let i = 0; i < 100 && at(2) === 0n; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.ok(at(2) > 0n, "the probe fired (so the semaphore was raised)");
      assert.equal(at(0), 40n);
      assert.equal(at(1), 3n);
    } finally {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
