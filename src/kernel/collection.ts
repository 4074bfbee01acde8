/**
 * Loads a CollectionSpec into the kernel as libbpf's bpf_object__load does: externs resolved (.kconfig from
 * the kernel configuration, .ksyms from vmlinux BTF and kallsyms), CO-RE applied against the (cached) vmlinux
 * BTF, maps created (inner-map templates for map-in-maps, global data written and .rodata frozen), map
 * references patched into lddw (BPF_PSEUDO_MAP_FD / MAP_VALUE), programs loaded, then prog arrays and
 * map-in-maps filled with their initial `values`. Maps pinned by name are reused or pinned. Everything is
 * closed again if any step fails.
 */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Instruction } from "../isa/instruction.js";
import { LDDW_MAP_FD, LDDW_MAP_VALUE } from "../isa/opcodes.js";
import type { CollectionSpec } from "../object/collection.js";
import { applyCoreRelocations } from "../object/core/relocate.js";
import { type KernelConfig, readKernelConfig, resolveKconfig } from "../object/kconfig.js";
import { readKallsyms, resolveKsyms, unresolvedExterns } from "../object/ksyms.js";
import type { MapSpec } from "../object/maps.js";
import { type ProgramSpec, resolveReferences } from "../object/programs.js";
import type { ProgramType } from "../object/section-types.js";
import { ATTACH_TYPE_IDS } from "./attach-types.js";
import { BPFFS, ensureBpffs } from "./bpffs.js";
import { loadBtf, programBtfInfo, sanitizeBtf } from "./btf-load.js";
import { KernelError } from "./errors.js";
import { KernelMap } from "./map.js";
import { KernelProgram, type KernelProgramOptions } from "./program.js";
import { type Failed, runSteps, runStepsAsync, settle, settleAsync } from "./steps.js";
import { linuxSys, type Sys } from "./sys.js";
import { VMLINUX_BTF, vmlinuxBtf } from "./vmlinux.js";

export interface KernelLoadOptions {
  /** Load only these programs (default: all). */
  programs?: readonly string[];
  /** Program types for sections whose name does not say (libbpf's bpf_program__set_type). */
  types?: ReadonlyMap<string, ProgramType>;
  /**
   * Where maps declared with `pinning = LIBBPF_PIN_BY_NAME` live (libbpf's pin_root_path; default
   * /sys/fs/bpf): a compatible map already pinned there is reused, otherwise the new map is pinned there.
   */
  pinPath?: string;
  /** BPF_PROG_LOAD's prog_flags for every program (e.g. 2 = BPF_F_ANY_ALIGNMENT). */
  progFlags?: number;
  /** Keep the verifier's log of accepted programs too, at this level (`KernelProgram.verifierLog`). */
  logLevel?: 1 | 2;
  sys?: Sys;
}

export interface KernelCollection {
  readonly programs: ReadonlyMap<string, KernelProgram>;
  readonly maps: ReadonlyMap<string, KernelMap>;
  close(): void;
  [Symbol.dispose](): void;
}

const MAP_IN_MAP = new Set([12, 13]);
const PROG_ARRAY = 3;
const LIBBPF_PIN_BY_NAME = 1;

/** Where a BTF-defined map pinned by name lives (libbpf ignores iproute2's legacy pinning field). */
function pinnedPath(m: MapSpec, root: string): string | undefined {
  return m.section === ".maps" && m.pinning === LIBBPF_PIN_BY_NAME ? join(root, m.name) : undefined;
}

function hasDatasec(spec: CollectionSpec, name: string): boolean {
  return spec.btf?.types.some((t) => t.kind === "DATASEC" && t.name === name) ?? false;
}

// The running kernel's configuration and symbols do not change while we run: read them once.
let kernelConfig: KernelConfig | undefined;
let kallsyms: Map<string, bigint> | undefined;

function cachedKernelConfig(): KernelConfig {
  kernelConfig = kernelConfig ?? readKernelConfig();
  return kernelConfig;
}

function cachedKallsyms(): Map<string, bigint> {
  kallsyms = kallsyms ?? readKallsyms();
  return kallsyms;
}

/**
 * Resolves `.kconfig` and `.ksyms` externs against the running kernel, as libbpf does. `where` "available"
 * leaves them as they are where the host cannot say (no kernel config, BTF or kallsyms), for callers that
 * only look at the program (tsbpf verify); a load needs them all.
 */
export function resolveExterns(spec: CollectionSpec, where: "required" | "available" = "required"): CollectionSpec {
  let s = spec;
  if (hasDatasec(s, ".kconfig")) {
    let config: KernelConfig | undefined;
    try {
      config = cachedKernelConfig();
    } catch (e) {
      if (where === "required") throw e; // no /proc/config.gz nor /boot/config-*
    }
    if (config) s = resolveKconfig(s, config);
  }
  if (hasDatasec(s, ".ksyms") && (where === "required" || (existsSync(VMLINUX_BTF) && existsSync("/proc/kallsyms"))))
    s = resolveKsyms(s, { btf: vmlinuxBtf(), kallsyms: cachedKallsyms() });
  return s;
}

/** Resolves externs and CO-RE: what must happen before the program bytes are final. */
export function prepareForKernel(spec: CollectionSpec): CollectionSpec {
  let s = resolveExterns(spec);
  const relos = s.btfExt?.coreRelos;
  if (relos && relos.size > 0 && s.btf) {
    const target = vmlinuxBtf();
    const local = s.btf;
    const programs = new Map<string, ProgramSpec>();
    for (const [name, p] of s.programs) programs.set(name, applyCoreRelocations(p, local, relos, target).program);
    s = { ...s, programs };
  }
  return s;
}

/** Patches map references into lddw instructions. */
function withMapFds(p: ProgramSpec, maps: ReadonlyMap<string, KernelMap>): Instruction[] {
  return resolveReferences(p, (i, r) => {
    if (r.kind === "extern") return undefined;
    const map = maps.get(r.map);
    if (!map) throw new KernelError(`program ${p.name}`, 2, `map ${r.map} was not created`);
    return r.kind === "map" ? { ...i, src: LDDW_MAP_FD, imm: map.fd, imm2: 0 } : { ...i, src: LDDW_MAP_VALUE, imm: map.fd, imm2: r.offset };
  });
}

function attachBtfId(p: ProgramSpec): number | undefined {
  if (p.type !== "tracing" && p.type !== "lsm") return undefined;
  const btf = vmlinuxBtf();
  const target = p.attachTo ?? "";
  const wanted =
    p.attachType === "trace_raw_tp"
      ? { kind: "TYPEDEF", name: `btf_trace_${target}` }
      : p.attachType === "trace_iter"
        ? { kind: "FUNC", name: `bpf_iter_${target}` }
        : p.attachType === "lsm_mac"
          ? { kind: "FUNC", name: `bpf_lsm_${target}` }
          : { kind: "FUNC", name: target };
  const id = btf.idsNamed(wanted.name).find((x) => btf.kindOf(x) === wanted.kind);
  if (id === undefined) throw new KernelError(`program ${p.name}`, 2, `attach target ${wanted.name} is not in the kernel's BTF`);
  return id;
}

export function loadKernelCollection(input: CollectionSpec, opts: KernelLoadOptions = {}): KernelCollection {
  return runSteps(collectionSteps(input, opts), (jobs) => {
    const done: Done[] = [];
    for (const job of jobs) {
      const d = settle(() => job.run());
      done.push(d);
      if ("error" in d) break; // the collection fails: what would come after is not needed
    }
    return done;
  });
}

/**
 * `loadKernelCollection` with the kernel's slow parts on worker threads, each batch at once: the maps are
 * created together (preallocating a large map takes the kernel milliseconds), then the programs verified
 * together (from milliseconds to seconds each). Node's event loop goes on meanwhile, and where the machine has
 * the CPUs an object loads in about the time of its slowest map and program.
 */
export function loadKernelCollectionAsync(input: CollectionSpec, opts: KernelLoadOptions = {}): Promise<KernelCollection> {
  return runStepsAsync(collectionSteps(input, opts), (jobs) => Promise.all(jobs.map((job) => settleAsync(job.runAsync()))));
}

/** One map to create or program to load, either here or on a worker thread. */
interface Job {
  run(): KernelMap | KernelProgram;
  runAsync(): Promise<KernelMap | KernelProgram>;
}

type Done = KernelMap | KernelProgram | Failed;

/** A program ready for BPF_PROG_LOAD: map references patched in, options made. */
interface ProgramLoad {
  readonly name: string;
  readonly insns: readonly Instruction[];
  readonly options: KernelProgramOptions;
}

/**
 * Files what a batch made under the names it was asked for (into the collection, which closes them if the load
 * fails), then throws the first failure in the object's order, however the batch was run.
 */
function takeDone<T extends KernelMap | KernelProgram>(done: Done[], asked: ReadonlyArray<{ name: string }>, into: Map<string, T>): void {
  let failed: Failed | undefined;
  done.forEach((d, i) => {
    if (d instanceof KernelMap || d instanceof KernelProgram) into.set((asked[i] as { name: string }).name, d as T);
    else failed ??= d;
  });
  if (failed) throw failed.error;
}

/**
 * The maps: those pinned by name already reused, the others created as one batch, then given their contents
 * (global data; .rodata frozen) and pinned. All go into `maps`, in the object's order.
 */
function* createMaps(
  spec: CollectionSpec,
  how: { sys: Sys; pinPath: string; btfFd?: number },
  maps: Map<string, KernelMap>,
  pinnedHere: string[],
): Generator<Job[], void, Done[]> {
  const creates: Array<{ name: string; pin: string | undefined; job: Job }> = [];
  const templates: KernelMap[] = [];
  let created: Done[];
  try {
    for (const [name, m] of spec.maps) {
      const pin = pinnedPath(m, how.pinPath);
      if (pin) ensureBpffs(pin); // before looking for an earlier pin: a fresh machine may have no bpffs mounted yet
      if (pin && existsSync(pin)) {
        // Reused as it is: its contents belong to whoever pinned it.
        maps.set(name, KernelMap.openPinned(pin, m, { sys: how.sys }));
        continue;
      }
      let inner: KernelMap | undefined;
      if (MAP_IN_MAP.has(m.type)) {
        if (!m.inner) throw new KernelError(`map ${name}`, 22, "a map-in-map needs an inner map definition");
        inner = KernelMap.create({ ...m.inner, name: `${name}.inner` } as MapSpec, { sys: how.sys });
        templates.push(inner);
      }
      const options = {
        sys: how.sys,
        ...(how.btfFd !== undefined ? { btfFd: how.btfFd } : {}),
        ...(inner ? { innerMapFd: inner.fd } : {}),
      };
      creates.push({ name, pin, job: { run: () => KernelMap.create(m, options), runAsync: () => KernelMap.createAsync(m, options) } });
    }
    created = yield creates.map((c) => c.job);
  } finally {
    for (const t of templates) t.close(); // the outer maps keep what they need of their templates
  }
  takeDone(created, creates, maps);
  for (const { name, pin } of creates) {
    const m = spec.maps.get(name) as MapSpec;
    const map = maps.get(name) as KernelMap;
    if (m.contents && m.contents.length === m.valueSize) {
      map.set(new Uint8Array(4), m.contents);
      if (m.readOnly) map.freeze();
    }
    if (pin) {
      map.pin(pin);
      pinnedHere.push(pin);
    }
  }
  if (creates.length < maps.size) {
    // maps reused from pins went in first: put them all in the object's order, as a load without batches would
    const inOrder = [...spec.maps.keys()].map((name) => [name, maps.get(name) as KernelMap] as const);
    maps.clear();
    for (const [name, map] of inOrder) maps.set(name, map);
  }
}

/**
 * The load, as steps: the maps to create and then the programs to load are yielded as batches, which the
 * caller runs one by one or together, answering with what each gave (up to the first failure); everything
 * else happens here.
 */
function* collectionSteps(input: CollectionSpec, opts: KernelLoadOptions): Generator<Job[], KernelCollection, Done[]> {
  const sys = opts.sys ?? linuxSys();
  const spec = prepareForKernel(input);
  const maps = new Map<string, KernelMap>();
  const programs = new Map<string, KernelProgram>();
  let btfFd: number | undefined;
  const pinnedHere: string[] = [];
  const close = (): void => {
    for (const p of programs.values()) p.close();
    for (const m of maps.values()) m.close();
    if (btfFd !== undefined) sys.close(btfFd);
    btfFd = undefined;
  };
  try {
    // BTF is optional to the kernel: when ours is refused, programs load without it (as libbpf falls back).
    const btfBytes = sanitizeBtf(spec);
    if (btfBytes) {
      try {
        btfFd = loadBtf(sys, btfBytes);
      } catch (e) {
        if (!(e instanceof KernelError)) throw e;
      }
    }
    yield* createMaps(spec, { sys, pinPath: opts.pinPath ?? BPFFS, ...(btfFd !== undefined ? { btfFd } : {}) }, maps, pinnedHere);
    const wanted = opts.programs ? new Set(opts.programs) : undefined;
    const loads: ProgramLoad[] = [];
    for (const [name, p] of spec.programs) {
      if (wanted && !wanted.has(name)) continue;
      const missing = unresolvedExterns(p);
      if (missing.length > 0) throw new KernelError(`program ${name}`, 2, `unresolved externs: ${missing.join(", ")}`);
      const expected = p.attachType !== undefined ? ATTACH_TYPE_IDS[p.attachType] : undefined;
      const btfId = attachBtfId(p);
      const info = btfFd !== undefined ? programBtfInfo(spec, p) : undefined;
      loads.push({
        name,
        insns: withMapFds(p, maps),
        options: {
          type: opts.types?.get(name) ?? p.type,
          name,
          license: p.license || "GPL",
          kernelVersion: p.kernelVersion,
          sys,
          ...(expected !== undefined ? { expectedAttachType: expected } : {}),
          ...(btfId !== undefined ? { attachBtfId: btfId } : {}),
          ...(opts.progFlags !== undefined ? { progFlags: opts.progFlags } : {}),
          ...(opts.logLevel !== undefined ? { logLevel: opts.logLevel } : {}),
          ...(btfFd !== undefined && info ? { btf: { fd: btfFd, ...info } } : {}),
        },
      });
    }
    takeDone(
      yield loads.map((l) => ({
        run: () => KernelProgram.load(l.insns, l.options),
        runAsync: () => KernelProgram.loadAsync(l.insns, l.options),
      })),
      loads,
      programs,
    );
    // Initial values: prog arrays hold program fds, map-in-maps map fds.
    for (const [name, m] of spec.maps) {
      if (!m.values) continue;
      const map = maps.get(name) as KernelMap;
      for (const [slot, target] of m.values) {
        const fd = m.type === PROG_ARRAY ? programs.get(target)?.fd : maps.get(target)?.fd;
        if (fd === undefined) {
          if (m.type === PROG_ARRAY && wanted) continue; // the program was not asked for
          throw new KernelError(`map ${name}`, 2, `initial value ${target} at slot ${slot} does not exist`);
        }
        const key = new Uint8Array(4);
        new DataView(key.buffer).setUint32(0, slot, true);
        const value = new Uint8Array(4);
        new DataView(value.buffer).setUint32(0, fd, true);
        map.set(key, value);
      }
    }
  } catch (e) {
    close();
    for (const p of pinnedHere) rmSync(p, { force: true }); // as libbpf: a failed load leaves no new pins
    throw e;
  }
  return { programs, maps, close, [Symbol.dispose]: close };
}
