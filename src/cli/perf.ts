/**
 * `tsbpf perf list`: the programs processes attach through perf events and raw tracepoints — tracepoints,
 * kprobes, uprobes — found fd by fd in /proc as `bpftool perf list` finds them (BPF_TASK_FD_QUERY).
 */
import { readdirSync, readlinkSync } from "node:fs";
import { type TaskFdAttachment, taskFdQuery } from "../kernel/inventory.js";
import { parseArgs, UsageError } from "./args.js";
import type { Io } from "./commands.js";

interface Found extends TaskFdAttachment {
  pid: number;
  fd: number;
}

export function perfCommand(argv: string[], io: Io): number {
  const [sub, ...rest] = argv;
  if (sub !== "list" && sub !== "show") throw new UsageError("usage: tsbpf perf list|show [--json]");
  const p = parseArgs(rest, { json: {} });
  if (p.positional.length > 0) throw new UsageError(`perf ${sub}: unexpected '${p.positional[0]}'`);
  const found = attachingFds();
  if (p.flags.has("json")) io.stdout(`${JSON.stringify(found.map(asBpftoolJson))}\n`);
  else io.stdout(found.map((f) => `pid ${f.pid}  fd ${f.fd}: prog_id ${f.programId}  ${describe(f)}\n`).join(""));
  return 0;
}

/** Every fd of every process that attaches a program; processes and fds that go meanwhile are passed over. */
function attachingFds(): Found[] {
  const found: Found[] = [];
  const numbers = (dir: string): number[] => {
    try {
      return readdirSync(dir)
        .filter((n) => /^\d+$/.test(n))
        .map(Number)
        .sort((a, b) => a - b);
    } catch {
      return [];
    }
  };
  for (const pid of numbers("/proc")) {
    for (const fd of numbers(`/proc/${pid}/fd`)) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      // perf events and bpf links are anonymous inodes; files, sockets and pipes are not worth a system call
      if (!target.startsWith("anon_inode:")) continue;
      const attachment = taskFdQuery(pid, fd);
      if (attachment) found.push({ pid, fd, ...attachment });
    }
  }
  return found;
}

/** bpftool's words for what an fd attaches. */
function describe(f: Found): string {
  switch (f.fdType) {
    case "raw_tracepoint":
    case "tracepoint":
      return `${f.fdType}  ${f.name}`;
    case "kprobe":
    case "kretprobe":
      return f.name ? `${f.fdType}  func ${f.name}  offset ${f.probeOffset}` : `${f.fdType}  addr ${f.probeAddr}`;
    case "uprobe":
    case "uretprobe":
      return `${f.fdType}  filename ${f.name}  offset ${f.probeOffset}`;
    default:
      return f.fdType;
  }
}

/** The fields bpftool perf list -j prints for an fd. */
function asBpftoolJson(f: Found): Record<string, string | number> {
  const base = { pid: f.pid, fd: f.fd, prog_id: f.programId, fd_type: f.fdType };
  switch (f.fdType) {
    case "raw_tracepoint":
    case "tracepoint":
      return { ...base, tracepoint: f.name };
    case "kprobe":
    case "kretprobe":
      return f.name ? { ...base, func: f.name, offset: Number(f.probeOffset) } : { ...base, addr: Number(f.probeAddr) };
    case "uprobe":
    case "uretprobe":
      return { ...base, filename: f.name, offset: Number(f.probeOffset) };
    default:
      return base;
  }
}
