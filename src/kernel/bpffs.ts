/**
 * bpffs: where pins live. On a fresh machine /sys/fs/bpf may be a bare sysfs directory (nothing mounted on it
 * yet): the first pin under it mounts bpffs there, as bpftool and libbpf users do (root only). Directories
 * for pins are made one level at a time, because a directory cannot be made on sysfs and a recursive mkdir
 * there never ends (Node's `mkdirSync(..., { recursive: true })` retries ENOENT forever).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { KernelError } from "./errors.js";

/** The usual bpffs mount point. */
export const BPFFS = "/sys/fs/bpf";

let mounted = false;

/** The mount points of bpf filesystems, from /proc/self/mounts. */
function bpffsMounts(): string[] {
  return readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((line) => line.split(" "))
    .filter((f) => f[2] === "bpf" && f[1] !== undefined)
    .map((f) => (f[1] as string).replace(/\\040/g, " "));
}

/**
 * Why nothing could be opened (BPF_OBJ_GET) or pinned at `path`, for the error: the path lies outside every
 * bpf filesystem (the kernel says only EACCES, EPERM or EINVAL then), nothing is pinned there, or the name has a
 * dot, which bpffs keeps for itself (EPERM).
 */
export function pinPathProblem(path: string, code: string): string | undefined {
  const full = resolve(path);
  const mounts = bpffsMounts();
  if (!mounts.some((m) => full === m || full.startsWith(`${m === "/" ? "" : m}/`)))
    return `${full} is not in a bpf filesystem; ${mounts.length > 0 ? `bpffs is mounted at ${mounts.join(", ")}` : "none is mounted"}`;
  if (code === "ENOENT") return `nothing is pinned at ${full}`;
  if (code === "EPERM" && basename(full).includes(".")) return `bpffs allows no '.' in a name (${basename(full)})`;
  return undefined;
}

/** Makes sure a bpf filesystem holds `path`: mounts bpffs on /sys/fs/bpf when `path` is under it and nothing is. */
export function ensureBpffs(path: string): void {
  const full = resolve(path);
  if (mounted || !(full === BPFFS || full.startsWith(`${BPFFS}/`))) return;
  if (bpffsMounts().includes(BPFFS)) {
    mounted = true;
    return;
  }
  try {
    execFileSync("mount", ["-t", "bpf", "bpf", BPFFS], { stdio: "ignore" });
  } catch (e) {
    throw new KernelError(
      "mount bpffs",
      1,
      `${BPFFS} is not a bpf filesystem and mounting one there failed: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  mounted = true;
}

/** mkdir -p for a pin directory in bpffs (mounting it first where needed); an error names what is not bpffs. */
export function makePinDir(dir: string): void {
  const full = resolve(dir);
  ensureBpffs(full);
  const fail = (d: string, e: unknown): never => {
    const errno = Math.abs((e as { errno?: number }).errno ?? 2);
    throw new KernelError(`mkdir ${d}`, errno, `cannot make the pin directory ${full}: is ${dirname(d)} in a bpf filesystem?`);
  };
  // walk up to the first directory that exists, then make the missing ones from the top down
  const missing: string[] = [];
  for (let d = full; ; d = dirname(d)) {
    try {
      mkdirSync(d);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "EEXIST") break;
      if (code !== "ENOENT" || dirname(d) === d) fail(d, e);
      missing.push(d);
      continue;
    }
    break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      fail(d, e);
    }
  }
}
