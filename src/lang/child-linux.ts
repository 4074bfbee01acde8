/**
 * The processes a trace follows on Linux: the -c command, forked stopped until every probe is attached, and
 * a -p process, whose exit ends the run.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Writable } from "node:stream";

export interface Child {
  readonly pid: number;
  readonly exited: Promise<unknown>;
  /** Lets the command run (it waits, already forked, until every probe is attached). */
  start(): void;
  kill(): void;
}

/**
 * The -c command, forked now but held before its exec (as bpftrace holds it) so that its pid is known when
 * the script compiles (cpid) and uprobes are attached before its first instruction. A shell stops itself,
 * and once continued closes its gate descriptor and execs the command (split on spaces, no shell parsing)
 * under the same pid: between the release and the exec it makes one close(), as bpftrace's child does.
 */
export function forkChild(cmd: string, args: readonly string[]): Child {
  // the shell runs as "tsbpf" (a link's name becomes the comm), as bpftrace's forked child is "bpftrace"
  const dir = mkdtempSync(join(tmpdir(), "tsbpf-child-"));
  const gate = join(dir, "tsbpf");
  symlinkSync("/bin/sh", gate);
  let proc: ReturnType<typeof spawn>;
  try {
    proc = spawn(gate, ["-c", 'kill -STOP $$; exec 3<&- "$0" "$@"', cmd, ...args], {
      stdio: ["ignore", "inherit", "inherit", "pipe"],
    });
  } finally {
    // spawn returns after the exec: the link is no longer needed
    rmSync(dir, { recursive: true, force: true });
  }
  (proc.stdio[3] as Writable).on("error", () => {});
  const pid = proc.pid ?? 0;
  // wait (≤ 5 s) until the shell has stopped: its own start-up (the loader's opens) must come before any
  // probe is attached, and a SIGCONT sent before the stop would be lost
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 5000 && running(pid); i++) Atomics.wait(nap, 0, 0, 1);
  let started = false;
  return {
    pid,
    exited: new Promise((resolve) => proc.once("exit", resolve)),
    start() {
      started = true;
      proc.kill("SIGCONT");
    },
    kill: () => {
      // a child still stopped would not see SIGTERM until continued
      proc.kill(started ? "SIGTERM" : "SIGKILL");
    },
  };
}

/** Whether the process still runs: neither stopped (T), nor a zombie (Z), nor gone (/proc/PID/stat). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [TZ]/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** -p PID: the run ends when the process does. */
export function watchProcess(pid: number): Child {
  let timer: ReturnType<typeof setInterval> | undefined;
  const exited = new Promise((resolve) => {
    timer = setInterval(() => {
      if (!existsSync(`/proc/${pid}`)) resolve(undefined);
    }, 100);
    timer.unref();
  });
  return { pid, exited, start() {}, kill: () => clearInterval(timer) };
}
