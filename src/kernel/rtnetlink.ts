/**
 * The older ways of putting XDP and tc programs on an interface, through rtnetlink rather than bpf_link: XDP
 * with IFLA_XDP (generic or driver mode), and tc with a clsact qdisc and a `bpf` filter in direct-action mode —
 * what `ip link set dev X xdp` and `tc filter add dev X ingress bpf da` do, and what kernels without
 * bpf_link support for these hooks need. Each attachment detaches on close, and only removes what it put there.
 */
import { onExit } from "./cleanup.js";
import { KernelError } from "./errors.js";
import {
  cString,
  endsAnswer,
  type NetlinkAttribute,
  type NetlinkReply,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_REQUEST,
  netlinkMessage,
  parseAttributes,
  parseReplies,
  u32,
} from "./netlink.js";
import type { KernelProgram } from "./program.js";
import { linuxSys, type Sys } from "./sys.js";

const RTM_SETLINK = 19;
const RTM_GETLINK = 18;
const RTM_NEWQDISC = 36;
const RTM_DELQDISC = 37;
const RTM_NEWTFILTER = 44;
const RTM_DELTFILTER = 45;
const RTM_GETTFILTER = 46;
const IFLA_XDP = 43;
const IFLA_XDP_FD = 1;
const IFLA_XDP_ATTACHED = 2;
const IFLA_XDP_FLAGS = 3;
const IFLA_XDP_PROG_ID = 4;
const IFLA_XDP_EXPECTED_FD = 8;
export const XDP_FLAGS_UPDATE_IF_NOEXIST = 1;
const XDP_FLAGS_SKB_MODE = 2;
const XDP_FLAGS_DRV_MODE = 4;
const XDP_FLAGS_REPLACE = 16;
const TCA_KIND = 1;
const TCA_OPTIONS = 2;
const TCA_BPF_FD = 6;
const TCA_BPF_NAME = 7;
const TCA_BPF_FLAGS = 8;
const TCA_BPF_ID = 11;
const TCA_BPF_FLAG_ACT_DIRECT = 1;
const TC_H_CLSACT = 0xfffffff1;
const TC_H_MIN_INGRESS = 0xfff2;
const TC_H_MIN_EGRESS = 0xfff3;
const ETH_P_ALL_BE = 0x0300; // htons(ETH_P_ALL)

/** What an rtnetlink attachment gives back: it detaches on close. */
export interface NetlinkAttachment {
  readonly description: string;
  close(): void;
  [Symbol.dispose](): void;
}

function request(
  sys: Sys,
  type: number,
  flags: number,
  family: Uint8Array,
  attrs: readonly NetlinkAttribute[],
  what: string,
): NetlinkReply[] {
  const message = netlinkMessage(type, NLM_F_REQUEST | flags, family, attrs);
  return parseReplies(sys.netlinkRoute(message, endsAnswer), what);
}

function ifinfomsg(ifindex: number): Uint8Array {
  const b = new Uint8Array(16);
  new DataView(b.buffer).setInt32(4, ifindex, true);
  return b;
}

function tcmsg(ifindex: number, handle: number, parent: number, info: number): Uint8Array {
  const b = new Uint8Array(20);
  const v = new DataView(b.buffer);
  v.setInt32(4, ifindex, true);
  v.setUint32(8, handle >>> 0, true);
  v.setUint32(12, parent >>> 0, true);
  v.setUint32(16, info >>> 0, true);
  return b;
}

export type XdpMode = "generic" | "driver";

/** The XDP program an interface has, as rtnetlink reports it. */
export interface XdpState {
  mode: "none" | "driver" | "generic" | "offload" | "multi";
  programId: number;
}

const ATTACHED_MODES: XdpState["mode"][] = ["none", "driver", "generic", "offload", "multi"];

export function xdpState(ifindex: number, sys: Sys = linuxSys()): XdpState {
  const [reply] = request(sys, RTM_GETLINK, NLM_F_ACK, ifinfomsg(ifindex), [], `RTM_GETLINK ifindex ${ifindex}`);
  const xdp = reply && parseAttributes(parseAttributes(reply.payload.subarray(16)).get(IFLA_XDP) ?? new Uint8Array());
  const attached = xdp?.get(IFLA_XDP_ATTACHED)?.[0] ?? 0;
  return { mode: ATTACHED_MODES[attached] ?? "none", programId: u32(xdp?.get(IFLA_XDP_PROG_ID)) ?? 0 };
}

/**
 * An attachment that detaches once: on close, on dispose, and — since unlike an fd-based link it outlives this
 * process — on exit and on SIGINT/SIGTERM.
 */
function attachment(description: string, detach: () => void): NetlinkAttachment {
  let attached = true;
  const close = (): void => {
    if (!attached) return;
    attached = false;
    removeExit();
    detach();
  };
  const removeExit = onExit(close);
  return { description, close, [Symbol.dispose]: close };
}

/**
 * Attaches an XDP program through rtnetlink (IFLA_XDP) in generic (skb) or driver mode. It refuses to replace a
 * program already there (XDP_FLAGS_UPDATE_IF_NOEXIST), and on close removes the program only if it is still ours.
 */
export function attachXdpNetlink(program: KernelProgram, ifindex: number, mode: XdpMode, sys: Sys = linuxSys()): NetlinkAttachment {
  const modeFlag = mode === "generic" ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
  const description = `xdp (${mode}, netlink) ifindex ${ifindex} → ${program.name}`;
  const set = (attrs: NetlinkAttribute[], what: string): void => {
    request(sys, RTM_SETLINK, NLM_F_ACK, ifinfomsg(ifindex), [{ type: IFLA_XDP, nested: attrs }], `${what} ${description}`);
  };
  set(
    [
      { type: IFLA_XDP_FD, s32: program.fd },
      { type: IFLA_XDP_FLAGS, u32: modeFlag | XDP_FLAGS_UPDATE_IF_NOEXIST },
    ],
    "attach",
  );
  return attachment(description, () => {
    try {
      set(
        [
          { type: IFLA_XDP_FD, s32: -1 },
          { type: IFLA_XDP_EXPECTED_FD, s32: program.fd },
          { type: IFLA_XDP_FLAGS, u32: modeFlag | XDP_FLAGS_REPLACE },
        ],
        "detach",
      );
    } catch {
      // the interface is gone (and the program with it), or someone replaced our program: not ours to remove
    }
  });
}

export type TcDirection = "ingress" | "egress";

/** A tc filter as `tc filter show` lists it. */
export interface TcFilter {
  direction: TcDirection;
  priority: number;
  handle: number;
  kind: string;
  name: string;
  programId: number;
}

/** The filters on an interface's clsact hooks (empty when it has no clsact qdisc). */
export function tcFilters(ifindex: number, sys: Sys = linuxSys()): TcFilter[] {
  const out: TcFilter[] = [];
  for (const direction of ["ingress", "egress"] as const) {
    let replies: NetlinkReply[];
    try {
      replies = request(sys, RTM_GETTFILTER, NLM_F_DUMP, tcmsg(ifindex, 0, clsactParent(direction), 0), [], "RTM_GETTFILTER");
    } catch {
      continue; // no clsact qdisc: nothing attached in that direction
    }
    for (const r of replies) {
      const v = new DataView(r.payload.buffer, r.payload.byteOffset, 20);
      const handle = v.getUint32(8, true);
      if (handle === 0) continue; // the per-priority chain entry, not a filter
      const attrs = parseAttributes(r.payload.subarray(20));
      const options = parseAttributes(attrs.get(TCA_OPTIONS) ?? new Uint8Array());
      out.push({
        direction,
        priority: v.getUint32(16, true) >>> 16,
        handle,
        kind: cString(attrs.get(TCA_KIND) ?? new Uint8Array()),
        name: cString(options.get(TCA_BPF_NAME) ?? new Uint8Array()),
        programId: u32(options.get(TCA_BPF_ID)) ?? 0,
      });
    }
  }
  return out;
}

const clsactParent = (direction: TcDirection): number =>
  ((TC_H_CLSACT & 0xffff0000) | (direction === "ingress" ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS)) >>> 0;

export interface TcFilterOptions {
  /** Filter priority (default 1) and handle (default 1), as `tc filter add ... prio P handle H`. */
  priority?: number;
  handle?: number;
}

/**
 * Attaches a sched_cls program as a direct-action `bpf` filter on an interface's clsact hook, adding the clsact
 * qdisc if the interface has none. Closing removes the filter, and the qdisc too if this call added it and no
 * other filter remains on it.
 */
export function attachTcFilter(
  program: KernelProgram,
  ifindex: number,
  direction: TcDirection,
  opts: TcFilterOptions = {},
  sys: Sys = linuxSys(),
): NetlinkAttachment {
  const priority = opts.priority ?? 1;
  const handle = opts.handle ?? 1;
  const description = `tc ${direction} (clsact, netlink) ifindex ${ifindex} prio ${priority} handle ${handle} → ${program.name}`;
  const qdisc = tcmsg(ifindex, TC_H_CLSACT & 0xffff0000, TC_H_CLSACT, 0);
  let addedQdisc = false;
  try {
    request(sys, RTM_NEWQDISC, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, qdisc, [{ type: TCA_KIND, string: "clsact" }], "add clsact qdisc");
    addedQdisc = true;
  } catch (e) {
    if (!((e instanceof KernelError && e.errno === 17) /* EEXIST */)) throw e;
  }
  const filter = tcmsg(ifindex, handle, clsactParent(direction), ((priority << 16) | ETH_P_ALL_BE) >>> 0);
  const removeQdisc = (): void => {
    if (addedQdisc && tcFilters(ifindex, sys).length === 0) request(sys, RTM_DELQDISC, NLM_F_ACK, qdisc, [], "delete clsact qdisc");
  };
  try {
    request(
      sys,
      RTM_NEWTFILTER,
      NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
      filter,
      [
        { type: TCA_KIND, string: "bpf" },
        {
          type: TCA_OPTIONS,
          nested: [
            { type: TCA_BPF_FD, u32: program.fd },
            { type: TCA_BPF_NAME, string: program.name },
            { type: TCA_BPF_FLAGS, u32: TCA_BPF_FLAG_ACT_DIRECT },
          ],
        },
      ],
      `attach ${description}`,
    );
  } catch (e) {
    removeQdisc();
    throw e;
  }
  return attachment(description, () => {
    try {
      request(sys, RTM_DELTFILTER, NLM_F_ACK, filter, [{ type: TCA_KIND, string: "bpf" }], `detach ${description}`);
      removeQdisc();
    } catch {
      // the interface is gone, and the qdisc and filter with it
    }
  });
}
