// Loading whole objects into the kernel: every sample program gets the verdict the kernel gave in
// kernel-verdicts.csv (accepted, refused by the verifier, failed map creation or load), and the bpftool-style
// CLI shows what was loaded.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { assemble } from "../src/isa/index.js";
import { makePinDir } from "../src/kernel/bpffs.js";
import { loadBtf } from "../src/kernel/btf-load.js";
import { loadKernelCollection, loadKernelCollectionAsync } from "../src/kernel/collection.js";
import { KernelError } from "../src/kernel/errors.js";
import { listPrograms, mapInfo } from "../src/kernel/inventory.js";
import { KernelMap, possibleCpus } from "../src/kernel/map.js";
import { KernelProgram } from "../src/kernel/program.js";
import { linuxSys } from "../src/kernel/sys.js";
import { VerifierError } from "../src/kernel/verifier-error.js";
import { loadCollectionSpec } from "../src/object/collection.js";
import type { ProgramType } from "../src/object/section-types.js";
import { tsbpf } from "./support/cli.js";
import { bpfMissing, eventLoopTurnsDuring, testMap } from "./support/kernel.js";
import { isVariantRefusal } from "./support/kernel-variants.js";
import { udpPacket } from "./support/packets.js";
import { REPO, SHARED, sharedMissing } from "./support/paths.js";
import { ensureTool } from "./support/tools.js";

const SAMPLES = join(SHARED, "ebpf-samples");

/** The outcome of loading one program, in kernel-verdicts.csv's vocabulary. */
function outcome(object: string, func: string, section: string, type: string, pinPath: string): string {
  const spec = loadCollectionSpec(readFileSync(join(SAMPLES, object)));
  const p = spec.programs.get(func) ?? [...spec.programs.values()].find((q) => q.section === section);
  assert.ok(p, `${object}: ${func}`);
  try {
    loadKernelCollection(spec, { programs: [p.name], types: new Map([[p.name, type as ProgramType]]), pinPath }).close();
    return "ACCEPT";
  } catch (e) {
    if (e instanceof VerifierError) return isVariantRefusal(type, e.message) ? "VARIANT" : "REJECT";
    if (e instanceof KernelError && e.operation === "BPF_MAP_CREATE") return "MAP-ERROR";
    if (e instanceof KernelError && e.operation.startsWith("program ")) return "REJECT"; // refused before loading (unresolved extern)
    if (e instanceof KernelError && e.operation === "BPF_PROG_LOAD") return "LOAD-ERROR";
    throw e;
  }
}

describe("objects loaded into the kernel", { skip: bpfMissing() ?? sharedMissing() }, () => {
  it("get the kernel's recorded verdict for every sample program", () => {
    const rows = readFileSync(join(SAMPLES, "kernel-verdicts.csv"), "utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.split(","))
      .filter((c) => !(c[0] as string).startsWith("invalid/") && c[4] !== "");
    const differ: string[] = [];
    let variants = 0;
    // Some samples pin maps by name: keep those pins in a folder of our own.
    const pins = "/sys/fs/bpf/tsbpf_test_verdicts";
    makePinDir(pins);
    try {
      for (const [object, , section, func, type, , , , , , , verdict] of rows as string[][]) {
        const ours = outcome(object as string, func as string, section as string, type as string, pins);
        if (ours === "VARIANT") {
          console.log(`# ${object}:${func}: this kernel refuses a helper it uses (a build variant), recorded ${verdict}`);
          variants++;
          continue;
        }
        if (ours !== verdict) differ.push(`${object}:${func} kernel ${verdict}, tsbpf ${ours}`);
      }
    } finally {
      rmSync(pins, { recursive: true, force: true });
    }
    console.log(`# kernel verdicts reproduced: ${rows.length - variants - differ.length}/${rows.length - variants}`);
    assert.deepEqual(differ, []);
  });

  it("loads, pins, lists and dumps through the CLI, and unpinning frees the programs", () => {
    const dir = "/sys/fs/bpf/tsbpf_test_cli/pins"; // made by the command, as bpftool makes its pin directories
    rmSync("/sys/fs/bpf/tsbpf_test_cli", { recursive: true, force: true });
    try {
      const load = tsbpf(["prog", "load", join(REPO, "testdata", "maps.o"), "--pin", dir, "--pinmaps", dir, "--json"]);
      assert.equal(load.status, 0, load.stderr);
      assert.ok(existsSync(join(dir, "pinned")), "the map declared LIBBPF_PIN_BY_NAME is pinned under --pinmaps");
      const loaded = JSON.parse(load.stdout) as Array<{ name: string }>;
      assert.deepEqual(loaded.map((l) => l.name).sort(), ["entry", "tail_a", "tail_b"]);
      const entry = listPrograms().find((p) => p.name === "entry" && p.type === "xdp");
      assert.ok(entry);
      assert.equal(entry.mapIds.length, 3);
      const show = JSON.parse(tsbpf(["prog", "show", String(entry.id), "--json"]).stdout) as { name: string };
      assert.equal(show.name, "entry");
      const dump = tsbpf(["prog", "dump", String(entry.id)]);
      assert.match(dump.stdout, /^\s+0: r6 = r1$/m);
      const maps = JSON.parse(tsbpf(["map", "list", "--json"]).stdout) as Array<{ id: number; name: string; type: string }>;
      const outer = maps.find((m) => entry.mapIds.includes(m.id) && m.name === "outer");
      assert.equal(outer?.type, "array_of_maps");
    } finally {
      rmSync("/sys/fs/bpf/tsbpf_test_cli", { recursive: true, force: true });
    }
    assert.equal(listPrograms().filter((p) => p.name === "entry" && p.type === "xdp").length, 0);
  });
});

describe("maps pinned by name", { skip: bpfMissing() }, () => {
  const spec = loadCollectionSpec(readFileSync(join(REPO, "testdata", "maps.o")));
  const dir = "/sys/fs/bpf/tsbpf_test_pin_by_name";
  const key = new Uint8Array([7, 0, 0, 0]);

  it("are pinned on first load and reused, contents and all, by the next", () => {
    rmSync(dir, { recursive: true, force: true });
    makePinDir(dir);
    try {
      let firstId: number;
      {
        using first = loadKernelCollection(spec, { programs: ["entry"], pinPath: dir });
        firstId = mapInfo(linuxSys(), (first.maps.get("pinned") as KernelMap).fd).id;
        assert.ok(existsSync(join(dir, "pinned")));
        assert.ok(!existsSync(join(dir, "hash")), "maps without pinning stay unpinned");
        first.maps.get("pinned")?.set(key, new Uint8Array([42, 0, 0, 0]));
      }
      using second = loadKernelCollection(spec, { programs: ["entry"], pinPath: dir });
      assert.deepEqual(second.maps.get("pinned")?.get(key), new Uint8Array([42, 0, 0, 0]));
      assert.equal(mapInfo(linuxSys(), (second.maps.get("pinned") as KernelMap).fd).id, firstId, "the same kernel map");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuse a pinned map of another shape, saying how it differs", () => {
    rmSync(dir, { recursive: true, force: true });
    makePinDir(dir);
    try {
      const pinned = spec.maps.get("pinned");
      assert.ok(pinned);
      using other = KernelMap.create({ ...pinned, maxEntries: 2 });
      other.pin(join(dir, "pinned"));
      assert.throws(
        () => loadKernelCollection(spec, { programs: ["entry"], pinPath: dir }),
        (e: unknown) => e instanceof KernelError && /pinned at .* differs: max_entries 2, not 1/.test(e.message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe(".ksyms externs in the kernel", { skip: bpfMissing() }, () => {
  it("call kfuncs resolved through vmlinux BTF (bpf_task_from_pid / bpf_task_release)", () => {
    using objs = loadKernelCollection(loadCollectionSpec(readFileSync(join(REPO, "testdata", "kfunc.o"))));
    const bss = (objs.maps.get(".bss") as KernelMap).mmap();
    const run = (pid: number): number => {
      new DataView(bss.buffer, bss.byteOffset).setInt32(0, pid, true); // target_pid
      return (objs.programs.get("task_tgid") as KernelProgram).testRun({ data: new Uint8Array(64) }).retval | 0;
    };
    assert.equal(run(process.pid), process.pid, "the kernel finds this process and reads its tgid");
    assert.equal(run(0x3fffffff), -1, "no such pid");
  });

  it("load, or the kernel names the data symbol its kallsyms lacks", () => {
    const spec = loadCollectionSpec(readFileSync(join(REPO, "testdata", "ksyms.o")));
    // The kernel resolves typed __ksym variables by name through kallsyms (data symbols need CONFIG_KALLSYMS_ALL).
    const hasData = /^[0-9a-f]+ \S bpf_prog_active$/m.test(readFileSync("/proc/kallsyms", "utf8"));
    if (hasData) {
      loadKernelCollection(spec).close();
      return;
    }
    assert.throws(
      () => loadKernelCollection(spec),
      (e: unknown) =>
        e instanceof VerifierError &&
        e.code === "ENOENT" &&
        /kernel symbol 'bpf_prog_active'/.test(e.failure.reason) &&
        /CONFIG_KALLSYMS_ALL/.test(e.message),
    );
  });
});

describe("map BTF", { skip: bpfMissing() ?? (ensureTool("bpftool", "bpftool", ["version"]) ? undefined : "bpftool not installed") }, () => {
  it("gives maps their key and value types, so bpftool prints entries formatted", () => {
    using objs = loadKernelCollection(loadCollectionSpec(readFileSync(join(REPO, "testdata", "globals.o"))));
    const dump = (name: string): unknown => {
      const id = mapInfo(linuxSys(), (objs.maps.get(name) as KernelMap).fd).id;
      return JSON.parse(execFileSync("bpftool", ["map", "dump", "id", String(id), "-j"], { encoding: "utf8" }));
    };
    const key = new Uint8Array([2, 0, 0, 0]);
    objs.maps.get("sums")?.set(key, new Uint8Array([42, 0, 0, 0, 0, 0, 0, 0]));
    const sums = dump("sums") as Array<{ formatted: { key: number; value: number } }>;
    assert.deepEqual(sums[2]?.formatted, { key: 2, value: 42 });
    // Global data maps are typed by their DATASEC: bpftool names the variables (`__u64 counter = 5;`).
    const data = dump(".data") as Array<{ formatted: { value: unknown } }>;
    assert.deepEqual(data[0]?.formatted.value, { ".data": [{ counter: 5 }] });
  });
});

describe("BTF refused by the kernel", { skip: bpfMissing() }, () => {
  it("is loaded again with a log, so the error carries the kernel's reason", () => {
    // one INT type of 3 bytes and 32 bits: the kernel's btf_int_check_meta refuses it
    const bytes = new Uint8Array(24 + 16 + 1);
    const v = new DataView(bytes.buffer);
    v.setUint16(0, 0xeb9f, true);
    v.setUint8(2, 1);
    for (const [at, x] of [
      [4, 24],
      [12, 16],
      [16, 16],
      [20, 1],
      [28, 1 << 24],
      [32, 3],
      [36, 32],
    ] as const)
      v.setUint32(at, x, true);
    assert.throws(
      () => loadBtf(linuxSys(), bytes),
      (e: unknown) => e instanceof KernelError && e.errno === 22 && /INT .* nr_bits exceeds type_size/.test(e.message),
    );
  });
});

describe("program loads under a sampling profiler", { skip: bpfMissing() }, () => {
  it("succeed although the profiler's signals interrupt the verifier again and again", async () => {
    // node --cpu-prof's sampler signals the main thread every few microseconds here; the verifier gives up with
    // EAGAIN whenever a signal is pending, so five plain retries of a 2000-instruction program mostly fail.
    const insns = assemble(`mov %r0, 0\n${"add %r0, 1\n".repeat(2000)}exit`);
    const session = new Session();
    session.connect();
    try {
      await session.post("Profiler.enable");
      await session.post("Profiler.setSamplingInterval", { interval: 10 });
      await session.post("Profiler.start");
      for (let i = 0; i < 10; i++) {
        using program = KernelProgram.load(insns, { type: "socket_filter", name: "tsbpf_profiled" });
        assert.equal(program.testRun({ data: new Uint8Array(64) }).retval, 2000);
      }
    } finally {
      await session.post("Profiler.stop").catch(() => undefined);
      session.disconnect();
    }
  });
});

describe("pin directories", { skip: bpfMissing() }, () => {
  it("are made in bpffs (mounted on /sys/fs/bpf when nothing is), and outside one the error says so instead of hanging", () => {
    const dir = "/sys/fs/bpf/tsbpf_test_pindir/a/b";
    try {
      makePinDir(dir);
      assert.ok(existsSync(dir));
      assert.match(readFileSync("/proc/self/mounts", "utf8"), /^\S+ \/sys\/fs\/bpf bpf /m);
      makePinDir(dir); // already there
    } finally {
      rmSync("/sys/fs/bpf/tsbpf_test_pindir", { recursive: true, force: true });
    }
    // sysfs refuses new directories with ENOENT, on which a recursive mkdir retries forever
    assert.throws(
      () => makePinDir("/sys/kernel/tsbpf_test_pindir/x"),
      (e: unknown) => e instanceof KernelError && /is \/sys\/kernel in a bpf filesystem\?/.test(e.message),
    );
  });
});

describe("tsbpf map on per-CPU maps", {
  skip: bpfMissing() ?? (ensureTool("bpftool", "bpftool", ["version"]) ? undefined : "bpftool not installed"),
}, () => {
  it("shows a value per possible CPU as bpftool does, sets one value on every CPU, and refuses keys and values of the wrong size", () => {
    using map = testMap({
      name: "tsbpf_test_pcpu",
      type: 6, // percpu_array
      typeName: "percpu_array",
      keySize: 4,
      valueSize: 4, // padded to 8 per CPU by the kernel: the CLI must not read or write past 4 * CPUs
      maxEntries: 2,
    });
    const cpus = possibleCpus();
    const key = new Uint8Array([1, 0, 0, 0]);
    map.setPerCpu(
      key,
      Array.from({ length: cpus }, (_, c) => new Uint8Array([c + 1, 0xaa, 0, 0])),
    );
    const id = String(mapInfo(linuxSys(), map.fd).id);
    using byId = KernelMap.fromId(Number(id)); // what the CLI opens: described by the kernel's answer
    assert.deepEqual(
      [byId.spec.type, byId.spec.typeName, byId.spec.keySize, byId.spec.valueSize, byId.perCpu],
      [6, "percpu_array", 4, 4, true],
    );
    // bpftool's JSON: [{ key: ["0x01", ...], values: [{ cpu, value: ["0x01", ...] }] }]
    const theirs = (
      JSON.parse(execFileSync("bpftool", ["map", "dump", "id", id, "-j"], { encoding: "utf8" })) as Array<{
        key: string[];
        values: Array<{ cpu: number; value: string[] }>;
      }>
    ).map((e) => ({
      key: e.key.map((b) => b.slice(2)).join(" "),
      values: e.values.map((v) => ({ cpu: v.cpu, value: v.value.map((b) => b.slice(2)).join(" ") })),
    }));
    const dump = tsbpf(["map", "dump", id, "--json"]);
    assert.equal(dump.status, 0, dump.stderr);
    assert.deepEqual(JSON.parse(dump.stdout), theirs);
    assert.equal(theirs[1]?.values[cpus - 1]?.value, `${cpus.toString(16).padStart(2, "0")} aa 00 00`);
    const lookup = tsbpf(["map", "lookup", id, "01 00 00 00"]);
    assert.equal(lookup.stdout.split("\n")[0], "value (CPU 00): 01 aa 00 00");
    const update = tsbpf(["map", "update", id, "00 00 00 00", "07 00 00 09"]);
    assert.equal(update.status, 0, update.stderr);
    assert.deepEqual(
      map.getPerCpu(new Uint8Array(4))?.map((v) => [...v]),
      Array.from({ length: cpus }, () => [7, 0, 0, 9]),
    );
    const shortKey = tsbpf(["map", "lookup", id, "01 00"]);
    assert.equal(shortKey.status, 2);
    assert.match(shortKey.stderr, /key has 2 bytes; map \d+'s keys have 4/);
    const longValue = tsbpf(["map", "update", id, "00 00 00 00", "01 02 03 04 05"]);
    assert.equal(longValue.status, 2);
    assert.match(longValue.stderr, /value has 5 bytes; map \d+'s values have 4/);
  });

  it("are not handed one value's room by lookupAndDelete, whose kernel answer carries a value per CPU", () => {
    using map = testMap({
      name: "tsbpf_test_pcpuh",
      type: 5, // percpu_hash: BPF_MAP_LOOKUP_AND_DELETE_ELEM works on it, writing round_up(4, 8) * CPUs bytes
      typeName: "percpu_hash",
      keySize: 4,
      valueSize: 4,
      maxEntries: 2,
    });
    const key = new Uint8Array([1, 0, 0, 0]);
    map.setPerCpu(
      key,
      Array.from({ length: possibleCpus() }, () => new Uint8Array(4)),
    );
    assert.throws(() => map.lookupAndDelete(key), /holds one value per CPU: use getPerCpu, then delete/);
    assert.ok(map.getPerCpu(key), "the element is still there");
  });
});

describe("loading off the event loop (loadKernelCollectionAsync)", { skip: bpfMissing() ?? sharedMissing() }, () => {
  it("loads what the synchronous load does, and the programs compute the same", async () => {
    const spec = loadCollectionSpec(readFileSync(join(REPO, "testdata", "machine.o")));
    using sync = loadKernelCollection(spec);
    using together = await loadKernelCollectionAsync(spec);
    assert.deepEqual([...together.programs.keys()], [...sync.programs.keys()]);
    assert.deepEqual([...together.maps.keys()], [...sync.maps.keys()]);
    // hop counts its tail calls through a prog array, which must have been filled from the programs loaded together
    for (const name of ["hop", "weigh", "rewrite"]) {
      const [a, b] = [together, sync].map((c) => c.programs.get(name)?.testRun({ data: udpPacket() }));
      assert.equal(a?.retval, b?.retval, name);
      assert.deepEqual(a?.dataOut, b?.dataOut, name);
    }
  });

  it("fills global data, freezes .rodata and pins by name as the synchronous load does", async () => {
    const globals = loadCollectionSpec(readFileSync(join(REPO, "testdata", "globals.o")));
    using sync = loadKernelCollection(globals);
    using together = await loadKernelCollectionAsync(globals);
    const zero = new Uint8Array(4);
    for (const name of [".data", ".rodata", ".data.custom", ".rodata.str"]) {
      assert.deepEqual(together.maps.get(name)?.get(zero), sync.maps.get(name)?.get(zero), name);
    }
    assert.throws(() => together.maps.get(".rodata")?.set(zero, new Uint8Array(4)), /EPERM/, ".rodata is frozen");
    const spec = loadCollectionSpec(readFileSync(join(REPO, "testdata", "maps.o")));
    const dir = "/sys/fs/bpf/tsbpf_test_pin_async";
    rmSync(dir, { recursive: true, force: true });
    makePinDir(dir);
    try {
      const first = await loadKernelCollectionAsync(spec, { programs: ["entry"], pinPath: dir });
      const id = mapInfo(linuxSys(), (first.maps.get("pinned") as KernelMap).fd).id;
      first.close();
      using second = await loadKernelCollectionAsync(spec, { programs: ["entry"], pinPath: dir });
      assert.equal(mapInfo(linuxSys(), (second.maps.get("pinned") as KernelMap).fd).id, id, "the pinned map reused");
      assert.deepEqual([...second.maps.keys()], [...spec.maps.keys()], "in the object's order");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("lets the event loop run while the kernel verifies", async () => {
    const spec = loadCollectionSpec(readFileSync(join(SAMPLES, "build", "bounded_loop.o"))); // ~30 ms to verify
    const { result: objs, turns } = await eventLoopTurnsDuring(() => loadKernelCollectionAsync(spec));
    objs.close();
    assert.ok(turns > 1, `the event loop turned ${turns} times during the load`);
  });

  it("refuses what the verifier refuses with the same VerifierError", async () => {
    const spec = loadCollectionSpec(readFileSync(join(SAMPLES, "build", "badhelpercall.o")));
    const syncError = (() => {
      try {
        loadKernelCollection(spec).close();
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(syncError instanceof VerifierError);
    await assert.rejects(
      loadKernelCollectionAsync(spec),
      (e: unknown) => e instanceof VerifierError && e.message === syncError.message && e.log === syncError.log,
    );
  });
});
