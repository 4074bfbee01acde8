/**
 * cgroup v2 for cgroup programs: a private cgroup2 mount and a child cgroup of our own (made and removed by us,
 * also on SIGINT), and attaching through BPF_LINK_CREATE on the cgroup directory's fd.
 */
import { execFileSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ATTACH_TYPE_IDS } from "./attach-types.js";
import { onExit } from "./cleanup.js";
import { KernelError } from "./errors.js";
import { KernelLink } from "./link.js";
import type { KernelProgram } from "./program.js";
import { linuxSys, type Sys } from "./sys.js";

const BPF_LINK_CREATE = 28;

export interface TestCgroup {
  readonly path: string;
  /** Moves a process into the cgroup. */
  add(pid: number): void;
  close(): void;
  [Symbol.dispose](): void;
}

/** The cgroup2 hierarchy: the system's if mounted, otherwise a private mount of our own. */
function cgroup2Root(): { root: string; unmount: () => void } {
  const mounts = readFileSync("/proc/self/mounts", "utf8").split("\n");
  const existing = mounts.map((l) => l.split(" ")).find((f) => f[2] === "cgroup2");
  if (existing?.[1]) return { root: existing[1], unmount: () => {} };
  const root = mkdtempSync(join(tmpdir(), "tsbpf-cgroup2-"));
  execFileSync("mount", ["-t", "cgroup2", "none", root], { stdio: "ignore" });
  return {
    root,
    unmount: () => {
      execFileSync("umount", [root], { stdio: "ignore" });
      rmdirSync(root);
    },
  };
}

export function createTestCgroup(): TestCgroup {
  const { root, unmount } = cgroup2Root();
  const path = join(root, `tsbpf_${process.pid}_${Date.now().toString(36)}`);
  mkdirSync(path);
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    removeExit();
    // Processes must leave before the cgroup can go: move them back to the root.
    if (existsSync(join(path, "cgroup.procs"))) {
      for (const pid of readFileSync(join(path, "cgroup.procs"), "utf8")
        .split("\n")
        .filter((l) => l !== "")) {
        try {
          writeFileSync(join(root, "cgroup.procs"), pid);
        } catch {
          // the process exited meanwhile
        }
      }
    }
    try {
      rmdirSync(path);
    } catch {
      // already gone
    }
    try {
      unmount();
    } catch {
      // still busy: left for the next cleanup
    }
  };
  const removeExit = onExit(close);
  return {
    path,
    add: (pid) => writeFileSync(join(path, "cgroup.procs"), String(pid)),
    close,
    [Symbol.dispose]: close,
  };
}

/** Attaches a cgroup program (its expected attach type, e.g. "cgroup_inet_egress") to the cgroup at `path`. */
export function attachCgroup(program: KernelProgram, path: string, attachType: string, sys: Sys = linuxSys()): KernelLink {
  const type = ATTACH_TYPE_IDS[attachType];
  if (type === undefined) throw new KernelError("cgroup attach", 22, `unknown attach type ${attachType}`);
  const dirFd = openSync(path, "r");
  try {
    const attr = new Uint8Array(144);
    const v = new DataView(attr.buffer);
    v.setUint32(0, program.fd, true);
    v.setUint32(4, dirFd, true);
    v.setUint32(8, type, true);
    const fd = sys.bpf(BPF_LINK_CREATE, attr, `BPF_LINK_CREATE ${attachType} ${path}`);
    return new KernelLink(fd, `${attachType} ${path} → ${program.name}`, sys);
  } finally {
    closeSync(dirFd); // the link holds the cgroup
  }
}
