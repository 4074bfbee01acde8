// Records what the installed bpftrace prints for every script of scripts/trace-diff/ into
// test/fixtures/bpftrace-recorded.jsonl, in ../shared/bpftrace/corpus.jsonl's format: each script 3 times in
// text and 3 times with -f json, as root, on the corpus workloads built into a temporary copy of
// ../shared/bpftrace (@ROOT@ in the records); `deterministic` when all runs agree. The suite runs the
// deterministic records like the corpus. Usage (root, bpftrace installed): node scripts/trace-record.mjs
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("..", import.meta.url));
const SHARED = process.env.TSBPF_SHARED ?? join(REPO, "..", "shared");
const CASES = join(REPO, "scripts", "trace-diff");
const OUT = join(REPO, "test", "fixtures", "bpftrace-recorded.jsonl");

const version = spawnSync("bpftrace", ["--version"], { encoding: "utf8" });
if (version.status !== 0) {
  console.error("trace-record: bpftrace is not installed");
  process.exit(2);
}
const root = mkdtempSync(join(tmpdir(), "tsbpf-trace-record-"));
try {
  cpSync(join(SHARED, "bpftrace"), root, { recursive: true });
  execFileSync("sh", [join(root, "build.sh")], { stdio: "inherit" });
  mkdirSync(join(root, "work"), { recursive: true });
  const pre = `printf 'hello file' > @ROOT@/work/f.txt; touch @ROOT@/work/anchor_file.txt`;
  const sub = (s) => s.replaceAll("@ROOT@", root);
  const unsub = (s) => s.replaceAll(root, "@ROOT@");
  const records = [];
  for (const file of readdirSync(CASES).sort()) {
    const lines = readFileSync(join(CASES, file), "utf8").split("\n");
    lines.forEach((line, i) => {
      if (line.trim() === "") return;
      // SCRIPT<TAB>COMMAND[<TAB>NAME=VALUE ...] (environment for bpftrace and the command)
      const [script, command = "", envText = ""] = line.split("\t");
      // SIGINT_AFTER=SECONDS in that column is no variable: bpftrace gets a SIGINT then, as from Ctrl-C
      const vars = Object.fromEntries(
        envText
          .split(" ")
          .filter((x) => x.includes("="))
          .map((x) => [x.slice(0, x.indexOf("=")), x.slice(x.indexOf("=") + 1)]),
      );
      const { SIGINT_AFTER: sigintAfter, ...env } = vars;
      const argv = ["bpftrace", "-e", `${script}\n`, ...(command ? ["-c", command] : [])];
      const runs = { text: [], json: [] };
      for (const format of ["text", "json"]) {
        for (let n = 0; n < 3; n++) {
          execFileSync("sh", ["-c", sub(pre)]);
          const args = [...(format === "json" ? ["-f", "json"] : []), ...argv.slice(1).map(sub)];
          const [cmd, cmdArgs] = sigintAfter
            ? ["timeout", ["--preserve-status", "-s", "INT", sigintAfter, "bpftrace", ...args]]
            : ["bpftrace", args];
          const r = spawnSync(cmd, cmdArgs, { encoding: "utf8", timeout: 30000, env: { ...process.env, ...env } });
          const stderr = r.stderr
            .split("\n")
            .filter((l) => !l.includes("RLIMIT_MEMLOCK"))
            .join("\n");
          runs[format].push({ stdout: unsub(r.stdout), stderr: unsub(stderr), exit: r.status ?? -1 });
        }
      }
      const same = (list) => list.every((x) => x.stdout === list[0].stdout && x.exit === list[0].exit);
      records.push({
        name: `${file.replace(/\.\w+$/, "")}:${i + 1}`,
        category: file.replace(/\.\w+$/, ""),
        script: `${script}\n`,
        bpftrace_argv_text: argv,
        pre,
        env,
        ...(sigintAfter ? { sigint_after: Number(sigintAfter) } : {}),
        stdout_text: runs.text[0].stdout,
        stderr_text: runs.text[0].stderr,
        stdout_json: runs.json[0].stdout,
        exit: runs.text[0].exit,
        exit_json: runs.json[0].exit,
        deterministic: same(runs.text) && same(runs.json),
        bpftrace: version.stdout.trim(),
      });
      process.stdout.write(".");
    });
  }
  writeFileSync(OUT, `${records.map((r) => JSON.stringify(r)).join("\n")}\n`);
  console.log(`\ntrace-record: ${records.length} scripts, ${records.filter((r) => r.deterministic).length} deterministic → ${OUT}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
