/**
 * libbpf's side of the kernel benchmarks, measured in the same run as ours: the C programs in bench/libbpf/
 * built against the system's libbpf (Debian: libbpf-dev) with the system C compiler.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Builds bench/libbpf/NAME.c and hands `run` a function running it (stdout, trimmed); a string says why not. */
export function withLibbpfProgram<T>(name: string, run: (exec: (args: string[]) => string) => T): T | string {
  if (!existsSync("/usr/include/bpf/libbpf.h")) return "libbpf headers not installed (apt-get install libbpf-dev)";
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-libbpf-"));
  try {
    const exe = join(dir, name);
    const source = fileURLToPath(new URL(`../../bench/libbpf/${name}.c`, import.meta.url));
    execFileSync("cc", ["-O2", "-o", exe, source, "-lbpf"], { stdio: "pipe" });
    return run((args) => execFileSync(exe, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim());
  } catch (e) {
    return `could not build or run bench/libbpf/${name}.c: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Median ms of 21 runs for sched_count.o and core.o, or why libbpf could not be measured. */
export function libbpfLoadAttachMs(testdata: string): { plain: number; core: number } | string {
  return withLibbpfProgram("load_attach", (exec) => {
    const run = (object: string, program: string): number => Number(exec([join(testdata, object), program, "21"]));
    return { plain: run("sched_count.o", "count_switches"), core: run("core.o", "core_reads") };
  });
}

/** ns per bpf_map_update_elem / bpf_map_lookup_elem from C (bench/libbpf/map_ops.c), or why not measured. */
export function libbpfMapOpsNs(runs: number): { update: number; lookup: number } | string {
  return withLibbpfProgram("map_ops", (exec) => {
    const [update, lookup] = exec([String(runs)])
      .split(" ")
      .map(Number);
    return { update: update as number, lookup: lookup as number };
  });
}

/** ns per element of a whole-map dump by bpf_map_lookup_batch from C (bench/libbpf/map_batch.c), or why not. */
export function libbpfBatchDumpNs(entries: number, chunk: number): number | string {
  return withLibbpfProgram("map_batch", (exec) => Number(exec([String(entries), String(chunk)])));
}
