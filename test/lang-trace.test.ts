// `tsbpf trace` against bpftrace 0.17's real outputs (../shared/bpftrace/corpus.jsonl): every deterministic
// case gives bpftrace's stdout byte for byte, in text and -f json, and its exit code; error cases the same exit
// code and `stdin:L` location. Cases whose probes are only BEGIN/END/interval run on the userspace machine and
// on the kernel; the others (uprobes, tracepoints, USDT, profile, software) wait for those probe kinds.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { main } from "../src/cli/main.js";
import { NotSupportedError } from "../src/errors.js";
import { compileScript } from "../src/lang/compile.js";
import { TraceScriptError } from "../src/lang/errors.js";
import { bpfMissing } from "./support/kernel.js";
import { SHARED } from "./support/paths.js";

interface CorpusCase {
  name: string;
  script: string;
  bpftrace_argv_text: string[];
  stdout_text: string;
  stdout_json: string | null;
  stderr_text: string;
  exit: number;
  exit_json: number | null;
  deterministic: boolean;
}

const CORPUS = join(SHARED, "bpftrace", "corpus.jsonl");
const corpusMissing = (): string | undefined => (existsSync(CORPUS) ? undefined : `${CORPUS} not found`);
const cases = (): CorpusCase[] =>
  readFileSync(CORPUS, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as CorpusCase);

/** Probes that exist on both backends today. */
const machineOnly = (c: CorpusCase): boolean =>
  !c.script.includes("@ROOT@") &&
  !/\b(uprobe|uretprobe|tracepoint|usdt|profile|software|hardware|kprobe|kretprobe|kfunc|kretfunc):/.test(c.script);

/** The tracer's comm is tsbpf where bpftrace's was bpftrace (corpus README). */
const argvOf = (c: CorpusCase): string[] => c.bpftrace_argv_text.slice(1).map((a) => a.replaceAll('"bpftrace"', '"tsbpf"'));

async function run(argv: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const out: Buffer[] = [];
  let stderr = "";
  const code = await main(["trace", ...argv], {
    stdout: (t) => out.push(Buffer.from(t)),
    stderr: (t) => {
      stderr += t;
    },
    stdin: () => new Uint8Array(),
  });
  return { code, stdout: Buffer.concat(out), stderr };
}

const location = (stderr: string): string => (/^stdin:\d+/.exec(stderr) ?? [stderr.split("\n")[0]])[0] as string;

async function checkCorpus(backend: "vm" | "kernel"): Promise<void> {
  const failures: string[] = [];
  let checked = 0;
  const all = cases();
  for (const c of all.filter(machineOnly)) {
    for (const format of ["text", "json"] as const) {
      const wantExit = format === "json" ? c.exit_json : c.exit;
      if (wantExit === null) continue;
      const r = await run(["--backend", backend, ...(format === "json" ? ["-f", "json"] : []), ...argvOf(c)]);
      checked++;
      const want = Buffer.from((format === "json" ? c.stdout_json : c.stdout_text) ?? "", "utf8");
      if (r.code !== wantExit) failures.push(`${c.name} [${format}]: exit ${r.code}, bpftrace ${wantExit}: ${r.stderr}`);
      else if (c.exit !== 0 && location(r.stderr) !== location(c.stderr_text))
        failures.push(`${c.name} [${format}]: ${location(r.stderr)}, bpftrace ${location(c.stderr_text)}`);
      else if (c.exit === 0 && c.deterministic && !r.stdout.equals(want))
        failures.push(`${c.name} [${format}]:\n${r.stdout.toString()}\n--- bpftrace:\n${want.toString()}`);
    }
  }
  console.log(
    `# ${backend}: ${checked - failures.length}/${checked} runs as bpftrace's; ${all.length - all.filter(machineOnly).length} cases need probes not built yet`,
  );
  assert.deepEqual(failures, []);
}

describe("tsbpf trace", { skip: corpusMissing() }, () => {
  it("prints what bpftrace 0.17 prints, on the userspace machine", async () => {
    await checkCorpus("vm");
  });

  it("prints what bpftrace 0.17 prints, on the kernel", { skip: bpfMissing() }, async () => {
    await checkCorpus("kernel");
  });

  it("refuses a missing child command as bpftrace does", async () => {
    const r = await run(["--backend", "vm", "-e", "BEGIN { exit(); }", "-c", "/nonexistent/cmd"]);
    assert.equal(r.code, 255);
    assert.match(r.stderr, /^ERROR: Failed to fork child: path '\/nonexistent\/cmd' does not exist/);
  });

  it("gives mutated corpus scripts only located errors (seeded)", () => {
    let seed = 0x2545f491;
    const next = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const scripts = cases().map((c) => c.script);
    const alphabet = '{}()[];,.:/"$@+-*%<>=!&|^~?\\ \n0123456789abcxyz';
    let rejected = 0;
    for (let i = 0; i < 3000; i++) {
      let s = scripts[next(scripts.length)] as string;
      for (let m = 1 + next(3); m > 0; m--) {
        const at = next(s.length + 1);
        const op = next(3);
        const ch = alphabet[next(alphabet.length)] as string;
        s =
          op === 0
            ? s.slice(0, at) + s.slice(at + 1)
            : op === 1
              ? s.slice(0, at) + ch + s.slice(at)
              : s.slice(0, at) + ch + s.slice(at + 1);
      }
      try {
        compileScript(s, { params: ["1"], cpid: 1 });
      } catch (e) {
        if (e instanceof TraceScriptError) {
          assert.match(e.message, /^stdin:\d+(:\d+-\d+|-\d+): ERROR: /, s);
          rejected++;
        } else if (!(e instanceof NotSupportedError)) assert.fail(`${String(e)} on ${JSON.stringify(s)}`);
      }
    }
    assert.ok(rejected > 500);
  });
});
