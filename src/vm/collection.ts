/**
 * Loading a whole object into the userspace machine, as the kernel backend loads it into Linux: maps created
 * in the machine's memory (global data filled, .rodata read-only, prog arrays and map-in-maps populated),
 * map and global-data references resolved to addresses, callbacks to tagged function values, helpers bound;
 * then `testRun` as BPF_PROG_TEST_RUN does it (packet and context in, retval, packet and context out).
 */
import { NotSupportedError } from "../errors.js";
import { VmError } from "../exec/errors.js";
import { bindHelpers, CALLBACK_TAG, type HelperRuntime, type TaskInfo } from "../helpers/index.js";
import type { PacketState } from "../helpers/runtime.js";
import type { Instruction } from "../isa/instruction.js";
import { CALL_HELPER, LDDW_FUNC, OP_CALL, OP_LDDW } from "../isa/opcodes.js";
import type { SafetyMode } from "../jit/compile.js";
import { ArrayMap, ReferenceArrayMap } from "../maps/array.js";
import { createMap } from "../maps/create.js";
import type { VmMap } from "../maps/map.js";
import { RingBufMap } from "../maps/ringbuf.js";
import type { CollectionSpec } from "../object/collection.js";
import type { MapSpec } from "../object/maps.js";
import { type ProgramSpec, resolveReferences } from "../object/programs.js";
import { asVerified, VerifierError, type VerifyResult, verify } from "../verifier/index.js";
import { type ContextRun, Contexts, PLAIN_CONTEXT_BELOW, PLAIN_CONTEXT_SIZE } from "./context.js";
import { type Engine, type LoadedProgram, Machine } from "./machine.js";

export interface VmLoadOptions {
  /** Only these programs (by name); default all. */
  programs?: readonly string[];
  /** Virtual CPUs for per-CPU maps (default 2); runs happen on CPU 0 unless testRun says otherwise. */
  cpus?: number;
  /** Where bpf_trace_printk lines go (default: dropped). */
  print?: (line: string) => void;
  /** The task helpers report (default: this process, comm "node"). */
  task?: Partial<TaskInfo>;
  /** Clock for the ktime helpers (default: process.hrtime). */
  clock?: () => bigint;
  /** Source of bpf_get_prandom_u32 (default: Math.random). */
  random?: () => number;
  /** bpf_fib_lookup: given the params bytes (updated in place), a BPF_FIB_LKUP_RET_* code (default 4: no route). */
  fibLookup?: (params: Uint8Array, flags: number) => number;
  /** Instructions one run may execute (default 10,000,000). */
  budget?: number;
  /**
   * The JIT (default) or the interpreter; the JIT's safety mode. Verified programs run `trusted` by
   * default (no run-time checks: the verifier proved them; no instruction budget: it proved they end),
   * unverified ones (verify: false) `checked`, and only those.
   */
  engine?: Engine;
  mode?: SafetyMode;
  /** Interpreter only, for sanitizer runs: what uninitialised registers and stack hold (see LoadOptions.poison). */
  poison?: number;
  /**
   * Verify each program first, as the kernel would (default true): a program the verifier rejects is not
   * loaded, and the load throws its VerifierError with the log. `false` loads what the verifier refuses or
   * cannot judge (kfuncs, BTF-typed contexts without the kernel's BTF), to run checked.
   */
  verify?: boolean;
}

export interface VmTestRunOptions {
  /** The packet (Ethernet frame) for skb and xdp programs. */
  data?: Uint8Array;
  /** Initial context bytes (ctx_in). */
  ctx?: Uint8Array;
  /** Runs (the result is the last run's; duration is the mean). */
  repeat?: number;
  /** The CPU the program runs on (per-CPU maps). */
  cpu?: number;
}

export interface VmTestRunResult {
  /** r0, as the kernel reports it (32 bits). */
  retval: number;
  /** Mean ns per run. */
  duration: number;
  dataOut: Uint8Array;
  ctxOut: Uint8Array;
  /** Redirects the program asked for (bpf_redirect, redirect_map, clone_redirect). */
  redirects: Array<{ ifindex?: number; map?: string; key?: number; flags: number }>;
}

const MAX_TAIL_CALLS = 33;
const SKB_TYPES = new Set([
  "socket_filter",
  "sched_cls",
  "sched_act",
  "cgroup_skb",
  "lwt_in",
  "lwt_out",
  "lwt_xmit",
  "lwt_seg6local",
  "sk_skb",
]);
/** skb programs that see the packet from its network header (socket filters, cgroup and lwt programs). */
const L3_TYPES = new Set(["socket_filter", "cgroup_skb", "lwt_in", "lwt_out", "lwt_xmit", "lwt_seg6local"]);

export class VmProgram {
  /** The id user space puts in prog arrays. */
  readonly id: number;

  constructor(
    readonly spec: ProgramSpec,
    readonly loaded: LoadedProgram,
    private readonly collection: VmCollection,
    id: number,
  ) {
    this.id = id;
  }

  get name(): string {
    return this.spec.name;
  }

  get type(): string {
    return this.spec.type;
  }

  /** Runs the program on a packet and/or context as BPF_PROG_TEST_RUN does. */
  testRun(opts: VmTestRunOptions = {}): VmTestRunResult {
    return this.collection.testRun(this, opts);
  }
}

export class VmCollection {
  readonly machine: Machine;
  readonly programs = new Map<string, VmProgram>();
  readonly maps = new Map<string, VmMap>();
  private readonly byAddress = new Map<number, VmMap>();
  private readonly objects = new Map<number, VmMap | VmProgram>();
  private readonly contexts: Contexts;
  private nextId = 1;
  private cpu = 0;
  private current: { program: VmProgram; run: ContextRun | undefined } | undefined;
  private pendingTail: VmProgram | undefined;
  private tailCalls = 0;
  private redirects: VmTestRunResult["redirects"] = [];
  private taskBlock: number | undefined;

  constructor(spec: CollectionSpec, opts: VmLoadOptions = {}) {
    this.machine = new Machine();
    this.contexts = new Contexts(this.machine.memory);
    const cpus = opts.cpus ?? 2;
    const env = {
      memory: this.machine.memory,
      cpus,
      currentCpu: () => this.cpu,
      nextId: () => this.nextId++,
    };
    const registry = {
      program: (id: number) => {
        const o = this.objects.get(id);
        return o instanceof VmProgram ? { address: 0, type: o.type } : undefined;
      },
      map: (id: number) => {
        const o = this.objects.get(id);
        return o instanceof VmProgram ? undefined : o;
      },
    };
    const addMap = (m: VmMap): VmMap => {
      this.byAddress.set(m.address, m);
      this.objects.set(m.id, m);
      return m;
    };
    for (const [name, m] of spec.maps) {
      if (name === ".kconfig" || name === ".ksyms") continue; // externs: refused where a program uses them
      this.maps.set(name, addMap(createMap(m, env, registry)));
    }
    const rt = this.runtime(opts, cpus);
    const wanted = opts.programs ? new Set(opts.programs) : undefined;
    const verified = new Map<string, Uint8Array>();
    if (opts.verify === false && opts.mode === "trusted")
      throw new VmError("UNSUPPORTED", "the trusted JIT runs only verified programs: drop verify: false, or run checked", -1);
    const mode = opts.mode ?? (opts.verify === false ? "checked" : "trusted");
    if (opts.verify !== false) {
      const names = [...spec.programs.keys()].filter((n) => !wanted || wanted.has(n));
      // Without a log first (building one costs), then with one for the program that failed.
      const results = verify(spec, { programs: names, logLevel: 0 });
      const rejected = results.find((r) => r.verdict === "reject");
      if (rejected) throw new VerifierError(verify(spec, { programs: [rejected.name], logLevel: 1 })[0] as VerifyResult);
      for (const r of results) if (r.reached) verified.set(r.name, r.reached);
    }
    for (const [name, p] of spec.programs) {
      if (wanted && !wanted.has(name)) continue;
      const reached = verified.get(name);
      const resolved = this.resolve(p);
      const insns = reached ? asVerified(resolved.insns, reached) : resolved.insns;
      const callbacks = resolved.callbacks;
      const ids = new Set(insns.filter((i) => i.op === OP_CALL && i.src === CALL_HELPER).map((i) => i.imm));
      const loaded = this.machine.load(insns, {
        helpers: bindHelpers(ids, rt),
        engine: opts.engine ?? "jit",
        entries: callbacks,
        mode,
        ...(opts.budget ? { budget: opts.budget } : {}),
        ...(opts.poison !== undefined ? { poison: opts.poison } : {}),
      });
      const program = new VmProgram(p, loaded, this, this.nextId++);
      this.objects.set(program.id, program);
      this.programs.set(name, program);
    }
    // initial values of prog arrays and map-in-maps (`values` in BTF map definitions)
    for (const [name, m] of spec.maps) {
      if (!m.values) continue;
      const map = this.maps.get(name) as VmMap;
      for (const [slot, target] of m.values) {
        const o = m.type === 3 ? this.programs.get(target) : this.maps.get(target);
        if (!o) continue; // a program not loaded: its slot stays empty
        map.set(u32(slot), u32(o.id));
      }
    }
  }

  private runtime(opts: VmLoadOptions, cpus: number): HelperRuntime {
    const memory = this.machine.memory;
    const fib = opts.fibLookup;
    const rings = [...this.maps.values()].filter((m): m is RingBufMap => m instanceof RingBufMap);
    return {
      memory,
      cpus,
      currentCpu: () => this.cpu,
      mapAt: (address) => this.byAddress.get(address),
      // submit and discard name a record, not a map: find the ring whose data area holds it
      ringOf: (address) => rings.find((m) => address >= m.data && address < m.data + m.spec.maxEntries),
      now: opts.clock ?? (() => process.hrtime.bigint()),
      random: opts.random ?? (() => Math.floor(Math.random() * 0x100000000)),
      task: {
        pid: process.pid,
        tgid: process.pid,
        uid: process.getuid?.() ?? 0,
        gid: process.getgid?.() ?? 0,
        comm: "node",
        ...opts.task,
      },
      print: opts.print ?? (() => {}),
      currentTaskAddress: () => {
        this.taskBlock ??= memory.map("current task", 8192, false).start;
        return this.taskBlock;
      },
      packet: (): PacketState | undefined => this.current?.run?.packet,
      callback: (call, slot, args) => {
        const cur = this.current;
        if (!cur) throw new VmError("HELPER_FAILED", "callback outside a run", call.pc);
        return cur.program.loaded.callback(slot, args, call.depth, cur.run?.ldAbs ?? { start: 0, length: 0 });
      },
      tailCall: (_call, map, index) => {
        if (!(map instanceof ReferenceArrayMap) || map.spec.type !== 3) return false;
        const id = map.idAt(index);
        const target = id === undefined ? undefined : this.objects.get(id);
        if (!(target instanceof VmProgram) || this.tailCalls >= MAX_TAIL_CALLS) return false;
        this.tailCalls++;
        this.pendingTail = target;
        return true;
      },
      redirect: (target) => {
        this.redirects.push(target);
      },
      fibLookup: (params, flags) => {
        if (!fib) return 4; // BPF_FIB_LKUP_RET_NOT_FWDED: the machine has no routes
        const bytes = memory.bytes.subarray(params, params + 64);
        return fib(bytes, flags);
      },
    };
  }

  /** The program's instructions with map, global data and callback references turned into values. */
  private resolve(p: ProgramSpec): { insns: Instruction[]; callbacks: number[] } {
    const insns = resolveReferences(p, (i, r) => {
      if (r.kind === "extern")
        throw new NotSupportedError(`program ${p.name}`, `extern ${r.name} (kconfig, ksyms and kfuncs need the kernel backend)`);
      const map = this.maps.get(r.map);
      if (!map) throw new NotSupportedError(`program ${p.name}`, `map ${r.map} was not created`);
      if (r.kind === "map_value" && !(map instanceof ArrayMap))
        throw new NotSupportedError(`program ${p.name}`, `a direct value reference into ${map.spec.typeName} ${r.map}`);
      const value = r.kind === "map" ? map.address : (map as ArrayMap).values + r.offset;
      return { ...i, src: 0, imm: value | 0, imm2: 0 };
    });
    let slot = 0;
    const callbacks: number[] = [];
    insns.forEach((i, n) => {
      if (i.op === OP_LDDW && i.src === LDDW_FUNC) {
        insns[n] = { ...i, src: 0, imm: slot + 1 + i.imm, imm2: CALLBACK_TAG };
        callbacks.push(slot + 1 + i.imm);
      }
      slot += i.op === OP_LDDW ? 2 : 1;
    });
    return { insns, callbacks };
  }

  testRun(program: VmProgram, opts: VmTestRunOptions): VmTestRunResult {
    const repeat = Math.max(1, opts.repeat ?? 1);
    const data = opts.data ?? new Uint8Array(0);
    this.cpu = opts.cpu ?? 0;
    let retval = 0;
    let run: ContextRun | undefined;
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < repeat; r++) {
      const plain = PLAIN_CONTEXT_SIZE[program.type];
      run =
        program.type === "xdp"
          ? this.contexts.xdp(data, opts.ctx)
          : program.type === "flow_dissector"
            ? this.contexts.flowDissector(data, opts.ctx)
            : SKB_TYPES.has(program.type)
              ? this.contexts.skb(data, opts.ctx, !L3_TYPES.has(program.type))
              : plain !== undefined
                ? this.contexts.plain(plain, opts.ctx, PLAIN_CONTEXT_BELOW[program.type])
                : undefined;
      if (!run)
        throw new NotSupportedError(`test runs of ${program.type} programs`, "the machine has no context for this program type yet");
      this.redirects = [];
      this.tailCalls = 0;
      let p = program;
      for (;;) {
        this.current = { program: p, run };
        this.pendingTail = undefined;
        const r0 = p.loaded.enter(run.ctx, run.ldAbs);
        const next = this.pendingTail as VmProgram | undefined;
        if (!next) {
          retval = Number(r0 & 0xffffffffn);
          break;
        }
        p = next;
      }
      this.current = undefined;
    }
    const duration = Number(process.hrtime.bigint() - t0) / repeat;
    const last = run as ContextRun;
    return { retval, duration, dataOut: last.dataOut(), ctxOut: last.ctxOut(), redirects: this.redirects };
  }

  close(): void {}

  [Symbol.dispose](): void {
    this.close();
  }
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

/** Loads every program and map of an object into a new userspace machine. */
export function loadVmCollection(spec: CollectionSpec, opts: VmLoadOptions = {}): VmCollection {
  return new VmCollection(spec, opts);
}

export type { MapSpec };
