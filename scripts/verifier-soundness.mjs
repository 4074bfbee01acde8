// The verifier's long soundness run (see test/support/soundness.ts): worker threads take chunks of seeds until
// ACCEPTED programs the verifier accepted have run; prints programs/s and the faults found, and writes each
// fault (one JSON object per line) to OUT. Usage: node scripts/verifier-soundness.mjs [ACCEPTED] [JOBS] [OUT]
import { writeFileSync, appendFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

const CHUNK = 5000;

if (!isMainThread) {
  const { runSoundness } = await import("../dist/test/support/soundness.js");
  parentPort.on("message", (first) => {
    const r = runSoundness(first, CHUNK);
    parentPort.postMessage({
      generated: r.generated,
      accepted: r.accepted,
      runs: r.runs,
      budget: r.budget,
      unsupported: [...r.unsupported.values()].reduce((a, b) => a + b, 0),
      faults: r.faults.map((f) => ({ seed: f.program.seed, type: f.program.type, run: f.run, code: f.code, message: f.message, text: f.program.text })),
    });
  });
} else {
  const target = Number(process.argv[2] ?? 1_000_000);
  const jobs = Number(process.argv[3] ?? availableParallelism());
  const out = process.argv[4] ?? "verifier-soundness.jsonl";
  writeFileSync(out, "");
  const total = { generated: 0, accepted: 0, runs: 0, budget: 0, unsupported: 0, faults: 0 };
  const started = performance.now();
  let next = 1;
  let busy = 0;
  const report = () => {
    const s = (performance.now() - started) / 1000;
    console.log(
      `${total.generated} generated, ${total.accepted} accepted, ${total.runs} runs, ${total.budget} stopped by the budget, ` +
        `${total.unsupported} not modelled, ${total.faults} faults; ${Math.round(total.generated / s)} programs/s ` +
        `(${Math.round(total.accepted / s)} accepted/s), ${Math.round(s)} s`,
    );
  };
  await new Promise((done) => {
    for (let j = 0; j < jobs; j++) {
      const w = new Worker(new URL(import.meta.url), { workerData: j });
      const feed = () => {
        if (total.accepted >= target) {
          w.terminate();
          if (--busy === 0) done();
          return;
        }
        w.postMessage(next);
        next += CHUNK;
      };
      w.on("message", (r) => {
        for (const k of ["generated", "accepted", "runs", "budget", "unsupported"]) total[k] += r[k];
        total.faults += r.faults.length;
        for (const f of r.faults) {
          appendFileSync(out, `${JSON.stringify(f)}\n`);
          console.log(`FAULT seed ${f.seed} (${f.type}) run ${f.run}: ${f.code} ${f.message.split("\n")[0]}`);
        }
        if (Math.floor((total.accepted - r.accepted) / 50000) !== Math.floor(total.accepted / 50000)) report();
        feed();
      });
      w.on("error", (e) => {
        console.error(e);
        process.exit(1);
      });
      busy++;
      feed();
    }
  });
  report();
  console.log(`seeds 1..${next - 1}; faults in ${out}`);
  process.exit(total.faults === 0 ? 0 : 1);
}
