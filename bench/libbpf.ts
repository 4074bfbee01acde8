/**
 * libbpf's load+attach time for the same objects, measured in the same run as ours: bench/libbpf/load_attach.c
 * built against the system's libbpf (Debian: libbpf-dev) with the system C compiler.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Median ms of 21 runs for sched_count.o and core.o, or why libbpf could not be measured. */
export function libbpfLoadAttachMs(testdata: string): { plain: number; core: number } | string {
  if (!existsSync("/usr/include/bpf/libbpf.h")) return "libbpf headers not installed (apt-get install libbpf-dev)";
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-libbpf-"));
  try {
    const exe = join(dir, "load_attach");
    const source = fileURLToPath(new URL("../../bench/libbpf/load_attach.c", import.meta.url));
    execFileSync("cc", ["-O2", "-o", exe, source, "-lbpf"], { stdio: "pipe" });
    const run = (object: string, program: string): number =>
      Number(execFileSync(exe, [join(testdata, object), program, "21"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim());
    return { plain: run("sched_count.o", "count_switches"), core: run("core.o", "core_reads") };
  } catch (e) {
    return `could not build or run bench/libbpf/load_attach.c: ${e instanceof Error ? e.message.split("\\n")[0] : String(e)}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
