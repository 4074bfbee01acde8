// The verifier against the live kernel's: generated programs (test/support/verifier-gen.ts) through both, with
// a fixed seed (VERIFIER_DIFF_RUNS of them, default 3000; scripts/verifier-diff.sh runs 100k and more), and the
// committed regressions (test/verifier-regressions/*.s: programs where the two once disagreed, with the
// kernel's recorded verdict, checked against the live kernel too when bpf() is there).
import assert from "node:assert/strict";
import { appendFileSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { decode } from "../src/isa/codec.js";
import { assemble } from "../src/isa/index.js";
import type { Instruction } from "../src/isa/instruction.js";
import { loadBtf } from "../src/kernel/btf-load.js";
import { KernelProgram } from "../src/kernel/program.js";
import { linuxSys } from "../src/kernel/sys.js";
import type { ProgramType } from "../src/object/section-types.js";
import { verifyProgram } from "../src/verifier/index.js";
import { funcInfoBtf } from "./support/func-info.js";
import { bpfMissing } from "./support/kernel.js";
import { REPO } from "./support/paths.js";
import { describe as describeDisagreement, type Judgement, KernelOracle, ourJudgement, runDifferential } from "./support/verifier-diff.js";

const RUNS = Number(process.env.VERIFIER_DIFF_RUNS ?? 3000);
const FIRST = Number(process.env.VERIFIER_DIFF_FIRST ?? 1);
/** Where a long run writes every disagreement (one JSON object per line), when set. */
const OUT = process.env.VERIFIER_DIFF_OUT;
const REGRESSIONS = join(REPO, "test", "verifier-regressions");

interface Regression {
  file: string;
  insns: Instruction[];
  type: ProgramType;
  attachType?: string;
  /** `# btf: func_info`: loaded with BTF naming its functions (programs that take a callback's address). */
  funcInfo: boolean;
  /** `# flags: N`: BPF_PROG_LOAD's prog_flags (8 = BPF_F_TEST_STATE_FREQ). */
  flags: number;
  kernel: Judgement;
}

/**
 * A regression file: assembly (.s), or the encoded instructions in hex, one slot per line (.hex, for fields
 * assembly cannot write), with `# type: T`, maybe `# attach: A` (the expected attach type), `# btf: func_info` and
 * `# flags: N` (prog_flags), and
 * `# kernel: accept | reject at N: reason` in its header.
 */
function regressions(): Regression[] {
  return readdirSync(REGRESSIONS)
    .filter((f) => f.endsWith(".s") || f.endsWith(".hex"))
    .sort()
    .map((file) => {
      const text = readFileSync(join(REGRESSIONS, file), "utf8");
      const insns = file.endsWith(".hex") ? fromHex(text) : assemble(text);
      const type = /^# type: (\S+)$/m.exec(text)?.[1] as ProgramType | undefined;
      const attachType = /^# attach: (\S+)$/m.exec(text)?.[1];
      const verdict = /^# kernel: (accept|reject at (\d+|null): (.*))$/m.exec(text);
      assert.ok(type && verdict, `${file}: the header needs "# type:" and "# kernel:" lines`);
      const kernel: Judgement =
        verdict[1] === "accept"
          ? { verdict: "accept", insn: null, message: null }
          : { verdict: "reject", insn: verdict[2] === "null" ? null : Number(verdict[2]), message: verdict[3] as string };
      const funcInfo = /^# btf: func_info$/m.test(text);
      const flags = Number(/^# flags: (\d+)$/m.exec(text)?.[1] ?? 0);
      return { file, insns, type, kernel, funcInfo, flags, ...(attachType ? { attachType } : {}) };
    });
}

function fromHex(text: string): Instruction[] {
  const hex = text
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("#"))
    .join("");
  return decode(Uint8Array.from(Buffer.from(hex, "hex")));
}

describe("the verifier against the live kernel", () => {
  it("gives the kernel's recorded verdict, instruction and reason on every committed regression", () => {
    const cases = regressions();
    assert.ok(cases.length >= 10);
    for (const c of cases) {
      const ours = ourJudgement(c.insns, c.type, c.flags, c.attachType, c.funcInfo);
      assert.equal(ours.verdict, c.kernel.verdict, `${c.file}: ours ${ours.verdict} (${ours.message ?? ""})`);
      if (c.kernel.verdict === "reject") {
        assert.equal(ours.insn, c.kernel.insn, `${c.file}: ours stops at ${ours.insn}`);
        assert.ok(ours.message?.includes(c.kernel.message ?? ""), `${c.file}: ours says "${ours.message}"`);
      }
    }
  });

  it("finds the live kernel still giving the recorded verdicts", { skip: bpfMissing() }, () => {
    const oracle = new KernelOracle();
    try {
      for (const c of regressions()) assert.deepEqual(oracle.judge(c.insns, c.type, c.flags, c.attachType, c.funcInfo), c.kernel, c.file);
    } finally {
      oracle.close();
    }
  });

  it("writes the kernel's level-1 log: the failing path, its calls, returns and callback iterations", () => {
    // A static call whose result is misused, and a bpf_loop callback that fails on its second iteration.
    const call = assemble(
      ["stdw [%r10-8], 7", "mov %r1, %r10", "add %r1, -8", "call local f", "ldxdw %r0, [%r0+0]", "exit", "f:", "mov %r0, 5", "exit"].join(
        "\n",
      ),
    );
    const loop = assemble(
      [
        ...["stdw [%r10-8], 0", "mov %r1, 10", "lddw %r2, func(cb)", "mov %r3, %r10", "add %r3, -8", "mov %r4, 0", "call 181"],
        ...["mov %r0, 0", "exit", "cb:", "ldxdw %r3, [%r2+0]", "jeq %r3, 0, +1", "ldxdw %r0, [%r2+8]", "add %r3, 1"],
        ...["stxdw [%r2+0], %r3", "mov %r0, 0", "exit"],
      ].join("\n"),
    );
    // This kernel's log of the first (Linux 6.18, log_level 1).
    const kernelCallLog = [
      "0: R1=ctx() R10=fp0",
      "0: (7a) *(u64 *)(r10 -8) = 7          ; R10=fp0 fp-8=7",
      "1: (bf) r1 = r10                      ; R1=fp0 R10=fp0",
      "2: (07) r1 += -8                      ; R1=fp-8",
      "3: (85) call pc+2",
      "caller:",
      " R10=fp0 fp-8=7",
      "callee:",
      " frame1: R1=fp[0]-8 R10=fp0",
      "6: frame1: R1=fp[0]-8 R10=fp0",
      "6: (b7) r0 = 5                        ; frame1: R0=5",
      "7: (95) exit",
      "returning from callee:",
      " frame1: R0=5 R1=fp[0]-8 R10=fp0",
      "to caller at 4:",
      " R0=5 R10=fp0 fp-8=7",
      "4: (79) r0 = *(u64 *)(r0 +0)",
      "R0 invalid mem access 'scalar'",
      "processed 7 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0",
      "",
    ].join("\n");
    const ours = (insns: Instruction[]): string => verifyProgram({ insns, type: "socket_filter", hasFuncInfo: true }, { logLevel: 1 }).log;
    assert.equal(ours(call), kernelCallLog);
    if (bpfMissing()) return;
    const sys = linuxSys();
    for (const insns of [call, loop]) {
      const info = funcInfoBtf(insns);
      const fd = loadBtf(sys, info.btf);
      let log = "";
      try {
        const btf = { fd, funcInfo: { recSize: 8, records: info.records, count: info.count } };
        KernelProgram.load(insns, { type: "socket_filter", logLevel: 1, btf }).close();
      } catch (e) {
        log = (e as { log?: string }).log ?? "";
      } finally {
        sys.close(fd);
      }
      assert.equal(ours(insns), log);
    }
  });

  it("refuses, as this kernel does, a callback never called when another function is left to JIT", () => {
    // bpf_loop with a count of 0 never calls its callback: the kernel removes the callback's code as dead, and
    // its address, left past the program's end, is a "verifier bug" for the JIT when the callback came last.
    const program = (callbackLast: boolean): Instruction[] => {
      const cb = ["cb:", "mov %r0, 0", "exit"];
      const f = ["f:", "mov %r0, 0", "exit"];
      const main = ["call local f", "mov %r1, 0", "lddw %r2, func(cb)", "mov %r3, 0", "mov %r4, 0", "call 181", "mov %r0, 0", "exit"];
      return assemble([...main, ...(callbackLast ? [...f, ...cb] : [...cb, ...f])].join("\n"));
    };
    const last = ourJudgement(program(true), "socket_filter", 0, undefined, true);
    assert.equal(last.verdict, "reject");
    assert.match(last.message ?? "", /^verifier bug: No program to jit .*\(subprog < 0\)/);
    assert.equal(ourJudgement(program(false), "socket_filter", 0, undefined, true).verdict, "accept");
    if (bpfMissing()) return;
    const oracle = new KernelOracle();
    try {
      const kernel = oracle.judge(program(true), "socket_filter", 0, undefined, true);
      assert.equal(kernel.verdict, "reject");
      assert.match(kernel.message ?? "", /^verifier bug: No program to jit at insn \d+ \(subprog < 0\)$/);
      assert.equal(oracle.judge(program(false), "socket_filter", 0, undefined, true).verdict, "accept");
    } finally {
      oracle.close();
    }
  });

  it(`agrees on ≥ 99% of ${RUNS} generated programs and accepts none the kernel rejects`, { skip: bpfMissing() }, () => {
    const oracle = new KernelOracle();
    let report: ReturnType<typeof runDifferential>;
    try {
      report = runDifferential(oracle, FIRST, RUNS);
    } finally {
      oracle.close();
    }
    const { total, agree, rejectedByKernel, sameRejection, falseAccepts, falseRejects, otherRejections } = report;
    const pct = (n: number, of: number): string => `${((100 * n) / Math.max(of, 1)).toFixed(2)}%`;
    console.log(
      `# seeds ${FIRST}..${FIRST + total - 1}: verdicts agree on ${agree}/${total} (${pct(agree, total)}); ` +
        `the kernel rejects ${rejectedByKernel}, and ${sameRejection} of those we reject at the same instruction ` +
        `with its reason (${pct(sameRejection, rejectedByKernel)}); ${falseAccepts.length} accepted that it rejects, ` +
        `${falseRejects.length} rejected that it accepts; kernel ${report.kernelMs.toFixed(0)} ms, ours ${report.oursMs.toFixed(0)} ms`,
    );
    const disagreements = [...falseAccepts, ...falseRejects];
    for (const d of disagreements.slice(0, 20)) console.log(`#   ${describeDisagreement(d)}`);
    if (OUT) {
      for (const d of [...disagreements, ...otherRejections])
        appendFileSync(
          OUT,
          `${JSON.stringify({ seed: d.program.seed, type: d.program.type, kernel: d.kernel, ours: d.ours, text: d.program.text })}\n`,
        );
    }
    assert.deepEqual(falseAccepts.map(describeDisagreement), [], "programs the kernel rejects and we accept");
    assert.ok(agree / total >= 0.99, `agreement ${pct(agree, total)} is below 99%`);
  });
});
