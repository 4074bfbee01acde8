// The verifier's per-type helper table against the live kernel (see test/support/helper-probe.ts). With
// REGENERATE_HELPER_TABLE=1 (scripts/helper-table.sh) it writes the table instead of checking it.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Instruction } from "../src/isa/instruction.js";
import { insn } from "../src/isa/instruction.js";
import * as O from "../src/isa/opcodes.js";
import { vmlinuxBtf } from "../src/kernel/vmlinux.js";
import type { Btf } from "../src/object/btf/parse.js";
import type { ProgramType } from "../src/object/section-types.js";
import { KERNEL_HELPERS } from "../src/verifier/helper-table.js";
import { verifyProgram } from "../src/verifier/index.js";
import { PROBED_ATTACHED, PROBED_TYPES, probeHelpers } from "./support/helper-probe.js";
import {
  ourProbeJudgement,
  PROBE_MAPS,
  type ProbeCase,
  packetCases,
  protoCases,
  type SockKind,
  sockLoad,
} from "./support/helper-proto-probe.js";
import { bpfMissing, kernelBtfMissing } from "./support/kernel.js";
import { refusedVariant, withoutVariants } from "./support/kernel-variants.js";
import { REPO } from "./support/paths.js";
import { rng } from "./support/rng.js";
import { type Judgement, KernelOracle } from "./support/verifier-diff.js";

/** Each probe the kernel and we judge differently, named by `what`. */
function disagreements(cases: readonly ProbeCase[], what: (c: ProbeCase) => string): string[] {
  const oracle = new KernelOracle(PROBE_MAPS);
  const out: string[] = [];
  try {
    for (const c of cases) {
      const kernel = oracle.judge(c.insns, c.type);
      const ours = ourProbeJudgement(c.insns, c.type);
      if (differs(kernel, ours)) out.push(`${what(c)}: kernel ${kernel.message ?? "accept"}; ours ${ours.message ?? "accept"}`);
    }
  } finally {
    oracle.close();
  }
  return out;
}

/** The size bits of a load or store opcode, by size in bytes. */
const SIZE_BITS: Readonly<Record<number, number>> = { 1: 0x10, 2: 0x08, 4: 0x00, 8: 0x18 };

/** One program to judge both ways: its type, and for BTF-typed programs what they attach to. */
interface LoadProbe {
  readonly label: string;
  readonly insns: Instruction[];
  readonly type: ProgramType;
  readonly attachType?: string;
  /** Our attach target (an iterator's or tracepoint's name), and the kernel's (its BTF function or typedef). */
  readonly attachTo?: string;
  readonly btfTarget?: string;
}

/** Each probe the live kernel and we (with the kernel's BTF, when given) judge differently, named by its label. */
function loadDisagreements(cases: readonly LoadProbe[], kernelBtf?: Btf): string[] {
  const oracle = new KernelOracle(PROBE_MAPS);
  const out: string[] = [];
  try {
    for (const c of cases) {
      const kernel = oracle.judge(c.insns, c.type, 0, c.attachType, false, c.btfTarget);
      const ours = verifyProgram(
        {
          insns: c.insns,
          type: c.type,
          ...(c.attachType ? { attachType: c.attachType } : {}),
          ...(c.attachTo ? { attachTo: c.attachTo } : {}),
        },
        { logLevel: 0, ...(kernelBtf ? { kernelBtf } : {}) },
      );
      if (differs(kernel, { verdict: ours.verdict, insn: ours.insn, message: ours.message }))
        out.push(`${c.label}: kernel ${kernel.message ?? "accept"}; ours ${ours.message ?? "accept"}`);
    }
  } finally {
    oracle.close();
  }
  return out;
}

/** Ours against the kernel's: the same verdict, and on rejection the same instruction and its reason. */
function differs(kernel: Judgement, ours: Judgement): boolean {
  if (kernel.verdict !== ours.verdict) return true;
  return kernel.verdict === "reject" && (kernel.insn !== ours.insn || !(ours.message ?? "").includes(kernel.message ?? ""));
}

describe("the helpers", () => {
  it("is what the live kernel allows each program type", { skip: bpfMissing() }, () => {
    const oracle = new KernelOracle();
    const found: Record<string, string> = {};
    try {
      for (const type of PROBED_TYPES) found[type] = probeHelpers(oracle, type);
      for (const [key, probe] of Object.entries(PROBED_ATTACHED)) found[key] = probeHelpers(oracle, probe.type, probe);
    } finally {
      oracle.close();
    }
    if (process.env.REGENERATE_HELPER_TABLE) {
      const rows = [...PROBED_TYPES, ...Object.keys(PROBED_ATTACHED)].map((t) => `  ${JSON.stringify(t)}: "${found[t]}",`).join("\n");
      writeFileSync(
        join(REPO, "src", "verifier", "helper-table.ts"),
        `/**\n * Which helpers each program type may call on this kernel (bit N of the hex number = helper N), as the\n * live kernel answered test/support/helper-probe.ts (regenerate with scripts/helper-table.sh). Tracing\n * programs are keyed by attach type too ("tracing/trace_iter").\n */\nexport const KERNEL_HELPERS: Readonly<Record<string, string>> = {\n${rows}\n};\n`,
      );
      return;
    }
    for (const type of [...PROBED_TYPES, ...Object.keys(PROBED_ATTACHED)])
      assert.equal(
        withoutVariants(type, KERNEL_HELPERS[type] as string),
        withoutVariants(type, found[type] as string),
        `${type}: the kernel's helpers changed`,
      );
  });

  it("gives the kernel's verdict on every helper called with the arguments its prototype names, and with a bad one", {
    skip: bpfMissing(),
  }, () => {
    const cases = protoCases().filter((c) => !refusedVariant(c.type, c.id));
    assert.ok(cases.length > 200);
    assert.deepEqual(
      disagreements(cases, (c) => `helper ${c.id} (${c.type}, arg ${c.spoiled} spoiled)`),
      [],
    );
  });

  it("lets only the helpers the kernel lets at packet memory have it (pkt_access)", { skip: bpfMissing() }, () => {
    const cases = packetCases();
    assert.ok(cases.length > 30);
    assert.deepEqual(
      disagreements(cases, (c) => `helper ${c.id} (${c.type}, packet in arg ${c.spoiled})`),
      [],
    );
  });

  it("reads the fields of sock_common, sock and tcp_sock at the offsets and sizes the kernel allows", { skip: bpfMissing() }, () => {
    const oracle = new KernelOracle(PROBE_MAPS);
    const differ: string[] = [];
    try {
      for (const kind of ["sock_common", "sock", "tcp_sock"] as SockKind[])
        for (let off = 0; off < 124; off++)
          for (const size of [1, 2, 4, 8]) {
            if (off % size !== 0) continue;
            const insns = sockLoad(kind, off, size);
            const kernel = oracle.judge(insns, "sched_cls");
            const ours = ourProbeJudgement(insns, "sched_cls");
            if (differs(kernel, ours))
              differ.push(`${kind} off=${off} size=${size}: kernel ${kernel.message ?? "accept"}; ours ${ours.message ?? "accept"}`);
          }
    } finally {
      oracle.close();
    }
    assert.deepEqual(differ, []);
  });

  it("reads the contexts of sk_lookup, sk_reuseport and flow_dissector as the kernel allows", { skip: bpfMissing() }, () => {
    const cases: LoadProbe[] = [];
    for (const [type, attachType, end] of [
      ["sk_lookup", "sk_lookup", 80],
      ["sk_reuseport", "sk_reuseport_select", 64],
      ["flow_dissector", undefined, 200],
    ] as const)
      for (let off = -4; off < end; off++)
        for (const size of [1, 2, 4, 8])
          for (const op of [O.CLASS_LDX | O.MODE_MEM, O.CLASS_LDX | O.MODE_MEMSX, O.CLASS_STX | O.MODE_MEM]) {
            if (op === (O.CLASS_LDX | O.MODE_MEMSX) && size === 8) continue;
            const code = op | (SIZE_BITS[size] as number);
            const access = (op & 7) === O.CLASS_STX ? insn({ op: code, dst: 1, src: 2, off }) : insn({ op: code, dst: 2, src: 1, off });
            cases.push({
              label: `${type} op=0x${code.toString(16)} off=${off}`,
              insns: [insn({ op: 0xb7, dst: 2, imm: 0 }), access, insn({ op: 0xb7, dst: 0, imm: 0 }), insn({ op: 0x95 })],
              type,
              ...(attachType ? { attachType } : {}),
            });
          }
    assert.ok(cases.length > 3000);
    assert.deepEqual(loadDisagreements(cases), []);
  });

  it("walks the kernel's task_struct as the kernel does, through an iterator's task", { skip: bpfMissing() ?? kernelBtfMissing() }, () => {
    // Every offset of the struct's first 700 bytes, and 400 anywhere in it or past its end.
    const offsets = Array.from({ length: 708 }, (_, k) => k - 8);
    const random = rng(7);
    for (let k = 0; k < 400; k++) offsets.push(Math.floor(random() * 12000));
    const cases: LoadProbe[] = [];
    for (const off of offsets)
      for (const size of [1, 2, 4, 8]) {
        // r2 = ctx->task; if NULL skip; the load; for 8 bytes, a load through what it gave as well.
        const through = size === 8 ? [insn({ op: 0x71, dst: 4, src: 3, off: 0 })] : [];
        const insns = [
          insn({ op: 0x79, dst: 2, src: 1, off: 8 }),
          insn({ op: 0x15, dst: 2, off: 1 + through.length }),
          insn({ op: 0x61 | (SIZE_BITS[size] as number), dst: 3, src: 2, off }),
          ...through,
          insn({ op: 0xb7, dst: 0, imm: 0 }),
          insn({ op: 0x95 }),
        ];
        cases.push({
          label: `off=${off} size=${size}`,
          insns,
          type: "tracing",
          attachType: "trace_iter",
          attachTo: "task",
          btfTarget: "bpf_iter_task",
        });
      }
    assert.ok(cases.length > 4000);
    assert.deepEqual(loadDisagreements(cases, vmlinuxBtf()), []);
  });

  it("reads iterators' and BTF tracepoints' contexts as the kernel does", { skip: bpfMissing() ?? kernelBtfMissing() }, () => {
    // Tracepoints with plain, NULL-able (pi_setprio, tcp_send_reset) and error-encoding (signal_generate)
    // arguments, and the iterator targets.
    const tracepoints = ["sched_switch", "sched_pi_setprio", "signal_generate", "tcp_send_reset"];
    const iterators = [
      "task",
      "task_file",
      "task_vma",
      "bpf_map",
      "bpf_prog",
      "bpf_link",
      "tcp",
      "udp",
      "unix",
      "netlink",
      "cgroup",
      "ksym",
    ];
    const targets = [
      ...tracepoints.map((t) => ({ attachType: "trace_raw_tp", attachTo: t, btfTarget: `btf_trace_${t}` })),
      ...iterators.map((t) => ({ attachType: "trace_iter", attachTo: t, btfTarget: `bpf_iter_${t}` })),
    ];
    const cases: LoadProbe[] = [];
    for (const t of targets)
      for (let off = -8; off < 104; off++)
        for (const size of [1, 2, 4, 8]) {
          // The load, and for 8 bytes a load through what it gave.
          const through = size === 8 ? [insn({ op: 0x71, dst: 4, src: 2, off: 0 })] : [];
          const insns = [
            insn({ op: 0x61 | (SIZE_BITS[size] as number), dst: 2, src: 1, off }),
            ...through,
            insn({ op: 0xb7, dst: 0, imm: 0 }),
            insn({ op: 0x95 }),
          ];
          cases.push({ label: `${t.btfTarget} off=${off} size=${size}`, insns, type: "tracing", ...t });
        }
    assert.ok(cases.length > 7000);
    assert.deepEqual(loadDisagreements(cases, vmlinuxBtf()), []);
  });
});
