/** tracefs: mounted on demand (as bpftool and libbpf users do on a fresh machine), and tracepoint ids. */

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { KernelError } from "./errors.js";

const TRACEFS = "/sys/kernel/tracing";

/** The tracefs mount point, mounting it when needed (root only). */
export function tracefs(): string {
  if (existsSync(`${TRACEFS}/events`)) return TRACEFS;
  try {
    execFileSync("mount", ["-t", "tracefs", "tracefs", TRACEFS], { stdio: "ignore" });
  } catch (e) {
    throw new KernelError(
      "mount tracefs",
      1,
      `${TRACEFS} is not mounted and mounting it failed: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  return TRACEFS;
}

/** The id of tracepoint CATEGORY/NAME (tracefs events/CATEGORY/NAME/id). */
const ids = new Map<string, number>();

/** A tracepoint's id (read once per process: ids do not change while the kernel runs). */
export function tracepointId(category: string, name: string): number {
  const known = ids.get(`${category}/${name}`);
  if (known !== undefined) return known;
  const path = `${tracefs()}/events/${category}/${name}/id`;
  try {
    const id = Number(readFileSync(path, "utf8").trim());
    ids.set(`${category}/${name}`, id);
    return id;
  } catch {
    throw new KernelError("tracepoint", 2, `no tracepoint ${category}/${name} (${path})`);
  }
}
