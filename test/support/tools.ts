/**
 * Outside oracles (llvm-objdump, bpftool, clang) for tests: found on PATH, or installed with apt-get when
 * the test runs as root on a Debian machine (as on CI); otherwise the caller skips with the reason.
 */
import { execFileSync, spawnSync } from "node:child_process";

const attempted = new Set<string>();

function onPath(bin: string, versionArgs: string[]): boolean {
  return spawnSync(bin, versionArgs, { stdio: "ignore" }).status === 0;
}

/** The binary when it is (or could be made) available; undefined otherwise. */
export function ensureTool(bin: string, aptPackage: string, versionArgs: string[] = ["--version"]): string | undefined {
  if (onPath(bin, versionArgs)) return bin;
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  if (!root || attempted.has(aptPackage) || !onPath("apt-get", ["--version"])) return undefined;
  attempted.add(aptPackage);
  try {
    execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", aptPackage], {
      stdio: "ignore",
      timeout: 600_000,
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  } catch {
    return undefined;
  }
  return onPath(bin, versionArgs) ? bin : undefined;
}
