/**
 * The verifier's soundness fuzz: every generated program (verifier-gen.ts) our verifier accepts is run in
 * the checked interpreter on random inputs — packets, contexts, map contents, helper results — and must
 * never fault. A fault (out of bounds, a store to read-only memory, a bad helper argument, a read of a
 * register never written) means the verifier accepted what it should have refused, since the trusted JIT
 * would run the same program with no checks at all. Uninitialised stack is no fault: the kernel lets
 * privileged programs read it (allow_uninit_stack), and this verifier judges as root.
 */
import { NotSupportedError } from "../../src/errors.js";
import { VmError } from "../../src/exec/errors.js";
import { assemble } from "../../src/isa/index.js";
import type { Instruction } from "../../src/isa/instruction.js";
import { LDDW_MAP_IDX, LDDW_MAP_IDX_VALUE, OP_LDDW } from "../../src/isa/opcodes.js";
import type { CollectionSpec } from "../../src/object/collection.js";
import type { MapSpec } from "../../src/object/maps.js";
import type { ProgramSpec, Reference } from "../../src/object/programs.js";
import type { ProgramType } from "../../src/object/section-types.js";
import { asVerified, type VerifierMap, verifyProgram } from "../../src/verifier/index.js";
import { loadVmCollection, type VmCollection, type VmProgram } from "../../src/vm/collection.js";
import { mutate } from "./mutate.js";
import { rng } from "./rng.js";
import { GEN_MAPS, type GenProgram, generateProgram } from "./verifier-gen.js";
import { genMapSpec, mix, SKB_TYPES, TRACING_TYPES } from "./verifier-gen-core.js";

/** The machine's CPUs, and the verifier's view of them. */
const CPUS = 2;
/** Random inputs each accepted program runs on. */
const RUNS_PER_PROGRAM = 4;
/**
 * Instructions per run. The verifier bounds every loop but may_goto's (BPF_MAX_LOOPS rounds per call, as
 * the kernel stops them by time): a run that uses this up is counted, not judged, and ends the program's runs.
 */
const BUDGET = 30_000;

export interface Fault {
  program: GenProgram;
  /** Which of the program's runs faulted, and the machine's error. */
  run: number;
  code: string;
  message: string;
}

export interface SoundnessReport {
  generated: number;
  accepted: number;
  /** Runs that completed; runs stopped by the budget; programs stopped by what the machine does not model. */
  runs: number;
  budget: number;
  unsupported: Map<string, number>;
  faults: Fault[];
  /** With `control`: the programs the verifier rejected, run the same way, and how many of them faulted. */
  rejectedRun: number;
  rejectedFaults: number;
  /** The rejected programs' faults by kind (OUT_OF_BOUNDS, UNINIT…): what the runs can see. */
  rejectedFaultCodes: Map<string, number>;
  ms: number;
}

/** The program as an object would describe it: map indexes become references to the generator's maps. */
export function collectionOf(program: GenProgram, insns: readonly Instruction[]): CollectionSpec {
  const references = new Map<number, Reference>();
  let slot = 0;
  const plain = insns.map((i) => {
    const at = slot;
    slot += i.op === OP_LDDW ? 2 : 1;
    if (i.op !== OP_LDDW || (i.src !== LDDW_MAP_IDX && i.src !== LDDW_MAP_IDX_VALUE)) return i;
    const map = (GEN_MAPS[i.imm] as VerifierMap).name;
    references.set(at, i.src === LDDW_MAP_IDX ? { kind: "map", map } : { kind: "map_value", map, offset: i.imm2 ?? 0 });
    return { ...i, src: 0, imm: 0, imm2: 0 };
  });
  const maps = new Map<string, MapSpec>();
  const used = new Set([...references.values()].map((r) => (r.kind === "extern" ? "" : r.map)));
  for (const m of GEN_MAPS) {
    if (!used.has(m.name)) continue;
    if (m.inner) maps.set(m.inner.name, genMapSpec(m.inner));
    maps.set(m.name, {
      ...genMapSpec(m),
      // the outer map holds the inner one at key 0, the prog array the program itself (a tail call loop)
      ...(m.inner ? { values: new Map([[0, m.inner.name]]) } : m.type === 3 ? { values: new Map([[0, "prog"]]) } : {}),
    });
  }
  const prog: ProgramSpec = {
    name: "prog",
    section: "gen",
    type: program.type,
    ...(program.attachType ? { attachType: program.attachType } : {}),
    sleepable: false,
    typeSource: "section",
    instructions: plain,
    references,
    functions: [{ name: "prog", slot: 0, slots: slot, section: "gen", offset: 0 }],
    license: "GPL",
    kernelVersion: 0,
  };
  return { programs: new Map([["prog", prog]]), maps, license: "GPL", kernelVersion: 0 };
}

function bytes(next: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
  return b;
}

/**
 * The maps' contents made anew from `next`: every array slot written, hash and LRU maps emptied and given
 * keys from the small range programs use. (Values holding a lock or a timer stay as the kernel keeps them.)
 */
function fillMaps(c: VmCollection, next: () => number): void {
  for (const m of c.maps.values()) {
    const { type, keySize, valueSize, maxEntries } = m.spec;
    if (type === 2 || type === 6) {
      if (m.spec.name === "tsbpf_locked" || m.spec.name === "tsbpf_timers") continue;
      for (let k = 0; k < maxEntries; k++) m.set(new Uint8Array(new Uint32Array([k]).buffer), bytes(next, valueSize));
    } else if (type === 1 || type === 9) {
      for (const key of [...m.keys()]) m.delete(key);
      for (let k = 0; k < 10; k++) {
        const key = new Uint8Array(keySize);
        key[0] = k;
        if (next() < 0.5) m.set(key, bytes(next, valueSize));
      }
    }
  }
}

/** What a run leaves behind that the two poisoned twins must agree on, by name. */
function observe(c: VmCollection, r: { retval: number; dataOut: Uint8Array; ctxOut: Uint8Array }): string[] {
  const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
  const maps = [...c.maps.values()]
    .filter((m) => [1, 2, 9].includes(m.spec.type))
    .map((m) => `${m.spec.name} ${[...m.entries()].map(([k, v]) => `${hex(k)}=${hex(v)}`).join(",")}`);
  return [`retval ${r.retval}`, `data_out ${hex(r.dataOut)}`, `ctx_out ${hex(r.ctxOut)}`, ...maps];
}

/** The first thing two observations disagree on. */
function difference(a: readonly string[], b: readonly string[]): string {
  const k = a.findIndex((x, i) => x !== b[i]);
  return k < 0 ? "" : `${a[k]} / ${b[k]}`;
}

/** One random input for a program of `type`: a packet, a context, or both. */
function input(type: ProgramType, next: () => number): { data?: Uint8Array; ctx?: Uint8Array } {
  if (type === "xdp" || SKB_TYPES.has(type)) {
    const data = bytes(next, 14 + Math.floor(next() * 120));
    // an IPv4 or IPv6 EtherType most of the time, so that parsers go deep
    if (next() < 0.7) data.set(next() < 0.5 ? [0x08, 0x00] : [0x86, 0xdd], 12);
    if (type === "xdp") return { data };
    const ctx = new Uint8Array(SKB_CTX_IN_END);
    for (const [at, n] of [
      [8, 4],
      [32, 4],
      [48, 20],
    ] as const)
      ctx.set(bytes(next, n), at);
    return { data, ctx };
  }
  // tracing contexts hold only scalars the program may read: random bytes
  if (TRACING_TYPES.has(type)) return { ctx: bytes(next, 256) };
  return {};
}
/** ctx_in up to the last field set above (mark, priority, cb). */
const SKB_CTX_IN_END = 68;

function describeError(e: unknown): { code: string; message: string } {
  if (e instanceof VmError) return { code: e.code, message: e.message };
  if (e instanceof NotSupportedError) return { code: "UNSUPPORTED", message: e.message };
  return { code: "CRASH", message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
}

/** What the machine does not model stops a run without judging it: the first words of the reason count it. */
function unsupportedKey(message: string): string {
  return message.replace(/ at pc \d+.*$/, "").slice(0, 80);
}

type Outcome = { kind: "ran" } | { kind: "budget" } | { kind: "unsupported"; reason: string } | { kind: "fault"; fault: Fault };

/** Loads the program into a machine of its own and runs it on RUNS_PER_PROGRAM random inputs. */
/** The two bytes the twins' uninitialised registers hold: pointers made of them fall outside memory. */
const POISONS = [0x5a, 0xc3] as const;

/**
 * Loads the program into two machines whose uninitialised registers hold different bytes, and
 * runs both on the same RUNS_PER_PROGRAM random inputs, map contents and helper results: a fault, or twins
 * that end differently (they read something uninitialised), is a fault of the verifier.
 */
function runProgram(program: GenProgram, insns: readonly Instruction[], seed: number): Outcome[] {
  let helperRandom = rng(1);
  let twins: VmCollection[];
  try {
    twins = POISONS.map((poison) =>
      loadVmCollection(collectionOf(program, insns), {
        verify: false,
        engine: "interp",
        poison,
        cpus: CPUS,
        budget: BUDGET,
        random: () => Math.floor(helperRandom() * 0x100000000),
        clock: () => BigInt(Math.floor(helperRandom() * 2 ** 40)),
      }),
    );
  } catch (e) {
    const { code, message } = describeError(e);
    return [
      code === "UNSUPPORTED"
        ? { kind: "unsupported", reason: unsupportedKey(message) }
        : { kind: "fault", fault: { program, run: -1, code, message } },
    ];
  }
  const outcomes: Outcome[] = [];
  for (let run = 0; run < RUNS_PER_PROGRAM; run++) {
    const runSeed = mix(seed) ^ (run * 0x9e3779b9);
    const ends = twins.map((c): { code: string; message: string; seen?: string[] } => {
      const next = rng(runSeed);
      fillMaps(c, next);
      helperRandom = rng(runSeed ^ 0x5bd1e995);
      const prog = c.programs.get("prog") as VmProgram;
      try {
        const r = prog.testRun({ ...input(program.type, next), cpu: Math.floor(next() * CPUS) });
        return { code: "OK", message: "", seen: observe(c, r) };
      } catch (e) {
        return describeError(e);
      }
    });
    const [a, b] = ends as [{ code: string; message: string; seen?: string[] }, { code: string; message: string; seen?: string[] }];
    if (a.code === "UNSUPPORTED") return [...outcomes, { kind: "unsupported", reason: unsupportedKey(a.message) }];
    const failed = [a, b].find((x) => x.code !== "OK" && x.code !== "BUDGET");
    if (failed) return [...outcomes, { kind: "fault", fault: { program, run, code: failed.code, message: failed.message } }];
    const differ = a.code !== b.code ? `${a.code} / ${b.code}` : difference(a.seen ?? [], b.seen ?? []);
    if (differ) {
      const message = `runs whose uninitialised registers were 0x${POISONS[0].toString(16)} and 0x${POISONS[1].toString(16)} ended differently: ${differ}`;
      return [...outcomes, { kind: "fault", fault: { program, run, code: "UNINIT", message } }];
    }
    if (a.code === "BUDGET") return [...outcomes, { kind: "budget" }];
    outcomes.push({ kind: "ran" });
  }
  return outcomes;
}

/**
 * Seeds first..first+count-1: generate (every fourth program mutated, as in the differential run), verify,
 * and run the accepted ones. `control` runs the rejected ones too, to show that the runs can fault.
 */
export function runSoundness(first: number, count: number, control = false): SoundnessReport {
  const report: SoundnessReport = {
    generated: 0,
    accepted: 0,
    runs: 0,
    budget: 0,
    unsupported: new Map(),
    faults: [],
    rejectedRun: 0,
    rejectedFaults: 0,
    rejectedFaultCodes: new Map(),
    ms: 0,
  };
  const t0 = performance.now();
  for (let seed = first; seed < first + count; seed++) {
    const program = generateProgram(seed);
    report.generated++;
    const insns = seed % 4 === 0 ? mutate(assemble(program.text), rng(seed)) : assemble(program.text);
    const verdict = verifyProgram(
      {
        insns,
        type: program.type,
        maps: GEN_MAPS,
        hasFuncInfo: program.funcInfo ?? false,
        ...(program.attachType ? { attachType: program.attachType } : {}),
      },
      { logLevel: 0, possibleCpus: CPUS },
    );
    if (verdict.verdict !== "accept") {
      if (!control) continue;
      let outcomes: Outcome[];
      try {
        outcomes = runProgram(program, insns, seed);
      } catch {
        continue; // not even a valid program
      }
      report.rejectedRun++;
      const fault = outcomes.find((o) => o.kind === "fault");
      if (fault?.kind === "fault") {
        report.rejectedFaults++;
        report.rejectedFaultCodes.set(fault.fault.code, (report.rejectedFaultCodes.get(fault.fault.code) ?? 0) + 1);
      }
      continue;
    }
    report.accepted++;
    for (const o of runProgram(program, asVerified(insns, verdict.reached ?? new Uint8Array(0)), seed)) {
      if (o.kind === "ran") report.runs++;
      else if (o.kind === "budget") report.budget++;
      else if (o.kind === "unsupported") report.unsupported.set(o.reason, (report.unsupported.get(o.reason) ?? 0) + 1);
      else if (o.kind === "fault") report.faults.push(o.fault);
    }
  }
  report.ms = performance.now() - t0;
  return report;
}
