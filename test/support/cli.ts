/** Runs the real `tsbpf` binary as a child process (the contract users' scripts rely on). */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { BIN } from "./paths.js";

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function tsbpf(args: string[], stdin?: string | Uint8Array): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { input: stdin ?? "", encoding: "utf8" });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** What a child process has written so far: the fields grow as its output arrives. */
export function outputOf(child: ChildProcess): { stdout: string; stderr: string } {
  const output = { stdout: "", stderr: "" };
  child.stdout?.on("data", (d: Buffer) => {
    output.stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output.stderr += d.toString();
  });
  return output;
}

export function tsbpfAsync(args: string[], stdin: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args]);
    const output = outputOf(child);
    child.on("error", reject);
    child.on("close", (status) => resolve({ status: status ?? -1, ...output }));
    child.stdin.end(stdin);
  });
}

/** Runs async jobs with at most `limit` in flight. */
export async function pool<T, R>(items: readonly T[], limit: number, job: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await job(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
