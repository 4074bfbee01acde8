/**
 * `tsbpf cgroup show CGROUP [effective]`: the programs attached to a cgroup (v2 directory), hook by hook, as
 * `bpftool cgroup show` lists them — BPF_PROG_QUERY on the cgroup's fd for every attach type; `effective` adds
 * what the cgroup inherits from its ancestors.
 */
import { closeSync, openSync } from "node:fs";
import { ATTACH_TYPE_IDS } from "../kernel/attach-types.js";
import { KernelError } from "../kernel/errors.js";
import { programById, queryAttached } from "../kernel/inventory.js";
import { parseArgs, UsageError } from "./args.js";
import type { Io } from "./commands.js";

const ATTACH_TYPE_NAMES = Object.entries(ATTACH_TYPE_IDS).sort((a, b) => a[1] - b[1]);

/** One attached program, with bpftool's JSON names (attach_flags only outside `effective`). */
interface CgroupEntry {
  id: number;
  attach_type: string;
  attach_flags?: string;
  name: string;
  attach_btf_name: string;
  attach_btf_obj_id: number;
  attach_btf_id: number;
}

export function cgroupCommand(argv: string[], io: Io): number {
  const [sub, ...rest] = argv;
  if (sub !== "show" && sub !== "list") throw new UsageError("usage: tsbpf cgroup show|list CGROUP [effective] [--json]");
  const p = parseArgs(rest, { json: {} });
  const [path, mode, ...extra] = p.positional;
  if (path === undefined) throw new UsageError(`cgroup ${sub} needs a CGROUP (a cgroup v2 directory)`);
  if ((mode !== undefined && mode !== "effective") || extra.length > 0)
    throw new UsageError(`cgroup ${sub}: unexpected '${extra[0] ?? mode}'`);
  const effective = mode === "effective";
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new KernelError(`cgroup ${sub}`, Math.abs((e as { errno?: number }).errno ?? 2), `cannot open ${path}`);
  }
  const entries: CgroupEntry[] = [];
  try {
    for (const [index, [attachType, number]] of ATTACH_TYPE_NAMES.entries()) {
      let hook: ReturnType<typeof queryAttached>;
      try {
        hook = queryAttached(fd, number, { effective });
      } catch (e) {
        if (!(e instanceof KernelError)) throw e;
        // the first query (a hook every cgroup has) tells a cgroup from anything else; hooks a cgroup does not
        // have answer with errors that only say so (EINVAL, or ENODEV where the kernel takes the fd for an
        // ifindex), as bpftool finds
        if (index === 0 && e.code === "EBADF") throw new KernelError(`cgroup ${sub}`, e.errno, `${path} is not a cgroup v2 directory`);
        continue;
      }
      for (const a of hook.attached) {
        const info = programById(a.programId);
        entries.push({
          id: a.programId,
          attach_type: attachType,
          ...(effective ? {} : { attach_flags: flagsText(hook.flags) }),
          name: info?.name ?? "",
          attach_btf_name: "", // the kernel function an lsm_cgroup program hooks: none here (LSM is refused on this kernel)
          attach_btf_obj_id: info?.attachBtfObjId ?? 0,
          attach_btf_id: info?.attachBtfId ?? 0,
        });
      }
    }
  } finally {
    closeSync(fd);
  }
  if (p.flags.has("json")) io.stdout(`${JSON.stringify(entries)}\n`);
  else if (entries.length > 0) {
    // bpftool prints nothing, not even the header, for a cgroup without programs; `effective` has no flags column
    const row = (cells: string[]): string => `${cells.map((c, i) => (i === 0 ? c.padEnd(8) : c.padEnd(15))).join(" ")}\n`;
    const columns = (id: string, type: string, flags: string | undefined, rest: string[]): string[] => [
      id,
      type,
      ...(effective ? [] : [flags ?? ""]),
      ...rest,
    ];
    io.stdout(
      row(columns("ID", "AttachType", "AttachFlags", ["Name"])) +
        entries.map((e) => row(columns(String(e.id), e.attach_type, e.attach_flags, [e.name, e.attach_btf_name]))).join(""),
    );
  }
  return 0;
}

/** bpftool's words for a hook's attach flags. */
function flagsText(flags: number): string {
  if (flags === 0) return "";
  if (flags === 2) return "multi"; // BPF_F_ALLOW_MULTI
  if (flags === 1) return "override"; // BPF_F_ALLOW_OVERRIDE
  return `unknown(${flags.toString(16)})`;
}
