/**
 * `tsbpf net show [dev NAME]`: the programs on this network namespace's interfaces and on its flow dissector,
 * as `bpftool net show` lists them — XDP (rtnetlink's IFLA_XDP), tc (clsact `bpf` filters by rtnetlink, tcx
 * by BPF_PROG_QUERY) and the flow dissector (BPF_PROG_QUERY on the namespace).
 */
import { closeSync, openSync, readdirSync, readFileSync } from "node:fs";
import { ATTACH_TYPE_IDS } from "../kernel/attach-types.js";
import { KernelError } from "../kernel/errors.js";
import { programById, queryAttached } from "../kernel/inventory.js";
import { tcFilters, xdpState } from "../kernel/rtnetlink.js";
import { parseArgs, UsageError } from "./args.js";
import type { Io } from "./commands.js";

const {
  flow_dissector: BPF_FLOW_DISSECTOR,
  tcx_ingress: BPF_TCX_INGRESS,
  tcx_egress: BPF_TCX_EGRESS,
} = ATTACH_TYPE_IDS as Record<string, number>;

interface Interface {
  devname: string;
  ifindex: number;
}

type XdpEntry = Interface & { mode: string; id: number };
type TcEntry = Interface & ({ kind: string; name: string; id: number } | { kind: string; name: string; prog_id: number; link_id: number });

export function netCommand(argv: string[], io: Io): number {
  const [sub, ...rest] = argv;
  if (sub !== "show" && sub !== "list") throw new UsageError("usage: tsbpf net show|list [dev NAME] [--json]");
  const p = parseArgs(rest, { json: {} });
  const [word, name, ...extra] = p.positional;
  if (word !== undefined && (word !== "dev" || name === undefined)) throw new UsageError(`net ${sub}: expected dev NAME (got '${word}')`);
  if (extra.length > 0) throw new UsageError(`net ${sub}: unexpected '${extra[0]}'`);
  const interfaces = listInterfaces().filter((i) => name === undefined || i.devname === name);
  if (name !== undefined && interfaces.length === 0) throw new KernelError(`net ${sub}`, 19 /* ENODEV */, `no interface ${name}`);

  const xdp: XdpEntry[] = [];
  const tc: TcEntry[] = [];
  for (const i of interfaces) {
    const state = xdpState(i.ifindex);
    if (state.mode !== "none") xdp.push({ ...i, mode: state.mode, id: state.programId });
    const filters = tcFilters(i.ifindex); // both directions in one go
    for (const [direction, attachType] of [
      ["ingress", BPF_TCX_INGRESS],
      ["egress", BPF_TCX_EGRESS],
    ] as const) {
      for (const a of queryAttached(i.ifindex, attachType).attached)
        tc.push({ ...i, kind: `tcx/${direction}`, name: programById(a.programId)?.name ?? "", prog_id: a.programId, link_id: a.linkId });
      for (const f of filters.filter((f) => f.direction === direction))
        tc.push({ ...i, kind: `clsact/${direction}`, name: f.name, id: f.programId });
    }
  }
  const flowDissector = name === undefined ? namespaceFlowDissector() : [];

  if (p.flags.has("json")) {
    io.stdout(`${JSON.stringify([{ xdp, tc, flow_dissector: flowDissector.map((id) => ({ id })) }])}\n`);
    return 0;
  }
  let out = "xdp:\n";
  for (const x of xdp) out += `${x.devname}(${x.ifindex}) ${x.mode} id ${x.id}\n`;
  out += "\ntc:\n";
  for (const t of tc)
    out += `${t.devname}(${t.ifindex}) ${t.kind} ${t.name}${"id" in t ? ` id ${t.id}` : ` prog_id ${t.prog_id} link_id ${t.link_id}`}\n`;
  // bpftool ends each list with a newline, and prints the flow dissector's one entry without its own
  out += `\nflow_dissector:\n${flowDissector.map((id) => `id ${id}`).join("\n")}`;
  io.stdout(`${out}\n`);
  return 0;
}

/** This network namespace's interfaces, by ifindex. */
function listInterfaces(): Interface[] {
  return readdirSync("/sys/class/net")
    .flatMap((devname) => {
      try {
        return [{ devname, ifindex: Number(readFileSync(`/sys/class/net/${devname}/ifindex`, "utf8").trim()) }];
      } catch {
        return []; // gone meanwhile
      }
    })
    .sort((a, b) => a.ifindex - b.ifindex);
}

/** The flow dissector program of this network namespace, if one is attached. */
function namespaceFlowDissector(): number[] {
  const fd = openSync("/proc/self/ns/net", "r");
  try {
    return queryAttached(fd, BPF_FLOW_DISSECTOR).attached.map((a) => a.programId);
  } finally {
    closeSync(fd);
  }
}
