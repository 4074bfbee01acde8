// The verifier over both corpora (ebpf-samples and the kernel's verifier selftests), each program's time
// beside the kernel's own verif_usec from kernel-verdicts.csv: medians and maxima, side by side.

import { programForVerifier, verifyProgram } from "../src/verifier/index.js";
import { HOST_CAUSED, rowProgram, verdictRows } from "../test/support/verdicts.js";

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : (s[Math.floor((s.length - 1) / 2)] as number);
};

export function verifierBench(): string[] {
  const ours: number[] = [];
  const kernel: number[] = [];
  let worst = { ms: 0, what: "" };
  let disagree = 0;
  for (const row of verdictRows()) {
    if (row.verdict === "REJECT" && HOST_CAUSED.test(row.reason)) continue;
    const rp = rowProgram(row);
    if (rp instanceof Error) continue;
    const program = programForVerifier(rp.spec, rp.program, row.type);
    let best = Number.POSITIVE_INFINITY;
    let verdict = "";
    // Best of three (one run for the slow ones): the first run also warms the code up.
    for (let k = 0; k < 3 && (k === 0 || best < 100); k++) {
      const r = verifyProgram(program, { progFlags: row.progFlags, logLevel: 0 });
      best = Math.min(best, r.ms);
      verdict = r.verdict === "accept" ? "ACCEPT" : "REJECT";
    }
    if (verdict !== row.verdict) disagree++;
    ours.push(best);
    kernel.push(row.verifUsec / 1000);
    if (best > worst.ms) worst = { ms: best, what: `${row.object}:${row.func}` };
  }
  const kmax = Math.max(...kernel);
  return [
    `verify ${ours.length} corpus programs (samples + selftests; ${disagree} verdicts differ from the kernel's): median ${median(ours).toFixed(3)} ms, max ${worst.ms.toFixed(1)} ms (${worst.what}); kernel verif_usec median ${median(kernel).toFixed(3)} ms, max ${kmax.toFixed(1)} ms; median ratio ${(median(ours) / median(kernel)).toFixed(2)}x`,
  ];
}
