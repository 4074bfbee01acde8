/**
 * `tsbpf flowlat`: TCP handshake (SYN → SYN/ACK) and UDP request/response latency per flow, measured by
 * testdata/flowlat.o on an interface's tc ingress and egress (tcx links), streamed over a ring buffer.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadCollectionSpec } from "../object/collection.js";
import { loadKernelCollection } from "./collection.js";
import { KernelError } from "./errors.js";
import { attachTcx } from "./link.js";
import type { KernelMap } from "./map.js";
import type { KernelProgram } from "./program.js";
import { RingBufReader } from "./ringbuf.js";

export interface FlowEvent {
  protocol: "TCP" | "UDP";
  src: string;
  sport: number;
  dst: string;
  dport: number;
  ttl: number;
  latencyNs: bigint;
}

export interface FlowFilter {
  /** Only flows with this address at either end. */
  ip?: string;
  /** Only flows with this port at either end. */
  port?: number;
}

const OBJECT = fileURLToPath(new URL("../../../testdata/flowlat.o", import.meta.url));

function decode(r: Uint8Array): FlowEvent {
  const v = new DataView(r.buffer, r.byteOffset, r.byteLength);
  const ip = (at: number): string => Array.from(r.subarray(at, at + 4)).join(".");
  return {
    protocol: v.getUint32(12, true) === 6 ? "TCP" : "UDP",
    src: ip(0),
    dst: ip(4),
    sport: v.getUint16(8, false),
    dport: v.getUint16(10, false),
    ttl: v.getUint32(16, true),
    latencyNs: v.getBigUint64(24, true),
  };
}

/** One event as the tool prints it. */
export function formatFlowEvent(e: FlowEvent): string {
  const ms = (Number(e.latencyNs) / 1e6).toFixed(3);
  return `(${e.protocol}) | src: ${e.src}:${e.sport}  dst: ${e.dst}:${e.dport}  TTL: ${e.ttl}  latency: ${ms} ms`;
}

function matches(e: FlowEvent, f: FlowFilter): boolean {
  if (f.ip !== undefined && e.src !== f.ip && e.dst !== f.ip) return false;
  if (f.port !== undefined && e.sport !== f.port && e.dport !== f.port) return false;
  return true;
}

/**
 * Measures flows on the interface until `onEvent` returns true or `signal` aborts. Detaches and unloads on
 * the way out, also on errors.
 */
export async function flowlat(
  ifname: string,
  filter: FlowFilter,
  onEvent: (e: FlowEvent) => boolean | undefined,
  signal?: AbortSignal,
): Promise<void> {
  let ifindex: number;
  try {
    ifindex = Number(readFileSync(`/sys/class/net/${ifname}/ifindex`, "utf8").trim());
  } catch {
    throw new KernelError("flowlat", 19 /* ENODEV */, `no interface ${ifname}`);
  }
  using objs = loadKernelCollection(loadCollectionSpec(readFileSync(OBJECT)));
  using reader = new RingBufReader(objs.maps.get("events") as KernelMap);
  using _in = attachTcx(objs.programs.get("flowlat_ingress") as KernelProgram, ifindex, "ingress");
  using _out = attachTcx(objs.programs.get("flowlat_egress") as KernelProgram, ifindex, "egress");
  let done = false;
  while (!done && !signal?.aborted) {
    reader.poll((r) => {
      if (done) return;
      const e = decode(r);
      if (matches(e, filter) && onEvent(e)) done = true;
    });
    if (!done) await reader.wait(100);
  }
}
