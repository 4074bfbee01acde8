// `tsbpf trace` against bpftrace 0.17's real outputs (../shared/bpftrace/corpus.jsonl): every deterministic
// case gives bpftrace's stdout byte for byte, in text and -f json, and its exit code; error cases the same exit
// code and `stdin:L` location; the others (timing, sampling) bpftrace's exit code. Every case runs on the
// kernel, with the corpus's workloads built by its build.sh into a temporary copy (@ROOT@); the cases whose
// probes are only BEGIN/END/interval also run on the userspace machine.
import assert from "node:assert/strict";
import { execFileSync, execSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { main } from "../src/cli/main.js";
import { NotSupportedError } from "../src/errors.js";
import { compileScript } from "../src/lang/compile.js";
import { TraceScriptError } from "../src/lang/errors.js";
import { linuxProbeResolver } from "../src/lang/probes-linux.js";
import { bpfMissing } from "./support/kernel.js";
import { REPO, SHARED } from "./support/paths.js";

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
  pre?: string;
  /** Environment for the tracer and its command (BPFTRACE_STRLEN, ANCHOR_LINGER_MS...). */
  env?: Record<string, string>;
  /** Seconds after which the tracer gets a SIGINT (as from Ctrl-C). */
  sigint_after?: number;
}

const CORPUS = join(SHARED, "bpftrace", "corpus.jsonl");
/** More scripts of the corpus's kinds, recorded from bpftrace 0.17 here by scripts/trace-record.mjs. */
const RECORDED = join(REPO, "test", "fixtures", "bpftrace-recorded.jsonl");
const corpusMissing = (): string | undefined => (existsSync(CORPUS) ? undefined : `${CORPUS} not found`);
const cases = (file = CORPUS): CorpusCase[] =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as CorpusCase);

/** Probes that exist on both backends today. */
const machineOnly = (c: CorpusCase): boolean =>
  !c.script.includes("@ROOT@") &&
  // kernel symbols and types (kaddr, curtask->, struct casts) exist only on the kernel
  !/\bkaddr\(|\bcurtask\b|\(struct /.test(c.script) &&
  !/\b(uprobe|uretprobe|tracepoint|usdt|profile|software|hardware|kprobe|kretprobe|kfunc|kretfunc):/.test(c.script);

/** The tracer's comm is tsbpf where bpftrace's was bpftrace (corpus README); @ROOT@ is the workloads' folder. */
const argvOf = (c: CorpusCase, root: string): string[] =>
  c.bpftrace_argv_text.slice(1).map((a) => a.replaceAll('"bpftrace"', '"tsbpf"').replaceAll("@ROOT@", root));

/** Runs `body` with the workloads built (skipping the test, with the reason, where they cannot be), then removes them. */
async function withWorkloads(t: { skip(reason: string): void }, body: (root: string) => Promise<void>): Promise<void> {
  const built = buildWorkloads();
  if ("reason" in built) {
    t.skip(built.reason);
    return;
  }
  try {
    await body(built.root);
  } finally {
    rmSync(built.root, { recursive: true, force: true });
  }
}

/** The corpus folder copied to a temporary one with its workloads built (bin/) and a work/ folder. */
function buildWorkloads(): { root: string } | { reason: string } {
  const root = mkdtempSync(join(tmpdir(), "tsbpf-bpftrace-"));
  try {
    cpSync(join(SHARED, "bpftrace"), root, { recursive: true });
    execFileSync("sh", [join(root, "build.sh")], { stdio: "pipe" });
    mkdirSync(join(root, "work"), { recursive: true });
    return { root };
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    return { reason: `the corpus workloads did not build (gcc and systemtap-sdt-dev needed): ${String(e).split("\n")[0]}` };
  }
}

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

/**
 * The WARNING lines of a stderr text. Columns shift with the length of @ROOT@'s path, so scripts that hold
 * it are compared by line and message only.
 */
const warnings = (stderr: string, columns: boolean): string =>
  stderr
    .split("\n")
    .filter((l) => l.includes("WARNING:"))
    .map((l) => (columns ? l : l.replace(/^(stdin:\d+):[\d-]+:/, "$1:")))
    .join("\n");

const location = (stderr: string): string => (/^stdin:\d+/.exec(stderr) ?? [stderr.split("\n")[0]])[0] as string;

async function checkCorpus(backend: "vm" | "kernel", root: string, file = CORPUS): Promise<void> {
  const failures: string[] = [];
  let checked = 0;
  const all = cases(file);
  const chosen = backend === "vm" ? all.filter(machineOnly) : all;
  for (const c of chosen) {
    for (const format of ["text", "json"] as const) {
      const wantExit = format === "json" ? c.exit_json : c.exit;
      if (wantExit === null) continue;
      if (c.pre) execSync(c.pre.replaceAll("@ROOT@", root));
      const saved = Object.entries(c.env ?? {}).map(([k]) => [k, process.env[k]] as const);
      Object.assign(process.env, c.env ?? {});
      // the CLI's SIGINT handler ends the run as Ctrl-C does
      const sigint = c.sigint_after !== undefined ? setTimeout(() => process.emit("SIGINT"), c.sigint_after * 1000) : undefined;
      const r = await run(["--backend", backend, ...(format === "json" ? ["-f", "json"] : []), ...argvOf(c, root)]).finally(() => {
        clearTimeout(sigint);
        for (const [k, v] of saved) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      });
      checked++;
      const want = Buffer.from(((format === "json" ? c.stdout_json : c.stdout_text) ?? "").replaceAll("@ROOT@", root), "utf8");
      if (r.code !== wantExit) failures.push(`${c.name} [${format}]: exit ${r.code}, bpftrace ${wantExit}: ${r.stderr}`);
      else if (c.exit !== 0 && location(r.stderr) !== location(c.stderr_text))
        failures.push(`${c.name} [${format}]: ${location(r.stderr)}, bpftrace ${location(c.stderr_text)}`);
      else if (c.exit === 0 && c.deterministic && !r.stdout.equals(want))
        failures.push(`${c.name} [${format}]:\n${r.stdout.toString()}\n--- bpftrace:\n${want.toString()}`);
      // warnings: bpftrace's, located as it locates them
      else if (
        c.exit === 0 &&
        format === "text" &&
        warnings(r.stderr, !c.script.includes("@ROOT@")) !== warnings(c.stderr_text, !c.script.includes("@ROOT@"))
      )
        failures.push(`${c.name} [${format}]: warnings\n${r.stderr}\n--- bpftrace:\n${c.stderr_text}`);
    }
  }
  console.log(
    `# ${backend}, ${file === CORPUS ? "corpus" : "recorded"}: ${checked - failures.length}/${checked} runs as bpftrace's (${chosen.length} of ${all.length} cases)`,
  );
  assert.deepEqual(failures, []);
}

describe("tsbpf trace", { skip: corpusMissing() }, () => {
  it("prints what bpftrace 0.17 prints, on the userspace machine", async () => {
    await checkCorpus("vm", "/nonexistent");
  });

  it("prints what bpftrace 0.17 prints, on the kernel", { skip: bpfMissing() }, (t) =>
    withWorkloads(t, (root) => checkCorpus("kernel", root)),
  );

  it("prints what bpftrace 0.17 printed for the recorded scripts, on both backends", { skip: bpfMissing() }, (t) =>
    withWorkloads(t, async (root) => {
      await checkCorpus("vm", root, RECORDED);
      await checkCorpus("kernel", root, RECORDED);
    }),
  );

  it("lists probes as tracefs and the binary's symbol table have them (-l)", { skip: bpfMissing() }, async (t) => {
    const events = "/sys/kernel/tracing/events/syscalls";
    const listed = await run(["-l", "tracepoint:syscalls:sys_enter_open*"]);
    assert.equal(listed.code, 0, listed.stderr);
    const want = readdirSync(events)
      .filter((e) => e.startsWith("sys_enter_open"))
      .sort()
      .map((e) => `tracepoint:syscalls:${e}\n`)
      .join("");
    assert.equal(listed.stdout.toString(), want);
    await withWorkloads(t, async (root) => {
      const target = join(root, "bin", "target");
      const functions = execFileSync("nm", ["--defined-only", target], { encoding: "utf8" })
        .split("\n")
        .filter((l) => / [Tt] /.test(l))
        .map((l) => l.split(" ")[2] as string);
      const uprobes = await run(["-l", `uprobe:${target}:*`]);
      assert.equal(
        uprobes.stdout.toString(),
        [...new Set(functions)]
          .sort()
          .map((f) => `uprobe:${target}:${f}\n`)
          .join(""),
      );
    });
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
    const scripts = [...cases(), ...cases(RECORDED)].map((c) => c.script);
    // on Linux the probes resolve for real too: tracefs, ELF files that are not there, wildcards
    const resolver = bpfMissing() === undefined ? linuxProbeResolver() : undefined;
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
        compileScript(s, { params: ["1"], cpid: 1, ...(resolver ? { resolver } : {}) });
      } catch (e) {
        if (e instanceof TraceScriptError) {
          assert.match(e.message, /^(stdin:\d+(:\d+-\d+|-\d+): )?ERROR: /, s);
          rejected++;
        } else if (!(e instanceof NotSupportedError)) assert.fail(`${String(e)} on ${JSON.stringify(s)}`);
      }
    }
    assert.ok(rejected > 500);
  });
});
