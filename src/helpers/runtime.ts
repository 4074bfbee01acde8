/**
 * What helpers need from the running machine: memory (checked), maps by the address programs hold, the
 * packet of the current run, the current task, clocks, and ways to call back into the program (bpf_loop) or
 * to leave it for another (tail calls). The VM collection provides it; helpers never reach further.
 */

import { VmError } from "../exec/errors.js";
import type { Memory } from "../exec/memory.js";
import type { HelperCall } from "../exec/state.js";
import type { VmMap } from "../maps/map.js";
import type { RingBufMap } from "../maps/ringbuf.js";
import { helperName } from "./names.js";

/**
 * The packet of the current run, for skb and xdp helpers: addresses in linear memory. A flow dissector's
 * test run has a packet but no skb (the kernel's helpers then find nothing to read).
 */
export interface PacketState {
  readonly kind: "skb" | "xdp" | "flow_dissector";
  /** The whole buffer (headroom + data + tailroom). */
  readonly bufferStart: number;
  readonly bufferEnd: number;
  data: number;
  dataEnd: number;
  dataMeta: number;
  /** Writes data/data_end/data_meta (and len) back into the context after a helper moved them. */
  sync(): void;
  /** skb->protocol (an EtherType) and its setter: what skb_change_proto changes and skb_adjust_room reads. */
  protocol?: number;
  setProtocol?(proto: number): void;
  /** skb metadata the vlan and type helpers change (absent for xdp). */
  setVlan?(tci: number | undefined, proto: number): void;
  setPacketType?(type: number): void;
}

export interface TaskInfo {
  pid: number;
  tgid: number;
  uid: number;
  gid: number;
  comm: string;
}

export interface HelperRuntime {
  readonly memory: Memory;
  readonly cpus: number;
  currentCpu(): number;
  mapAt(address: number): VmMap | undefined;
  /** The ring buffer whose data area holds `address` (a reserved record). */
  ringOf(address: number): RingBufMap | undefined;
  /** Nanoseconds (CLOCK_MONOTONIC / BOOTTIME as the kernel's ktime helpers give them). */
  now(): bigint;
  random(): number;
  task: TaskInfo;
  /** What bpf_get_current_task returns: the address of a zeroed, read-only block. */
  currentTaskAddress(): number;
  /** bpf_trace_printk output. */
  print(line: string): void;
  /** The current run's packet (undefined for programs without one). */
  packet(): PacketState | undefined;
  /** Runs the function at `slot` of the current program with r1-r5 = args (u64 halves); returns its r0. */
  callback(call: HelperCall, slot: number, args: ReadonlyArray<bigint>): bigint;
  /** Leaves the program for the one in `map` at `index` after this helper; false when there is none. */
  tailCall(call: HelperCall, map: VmMap, index: number): boolean;
  /** bpf_fib_lookup on the params at `params`: a BPF_FIB_LKUP_RET_* code (the params are updated in place). */
  fibLookup(params: number, flags: number): number;
  /** bpf_redirect / bpf_redirect_map: what the program asked for, reported with the result. */
  redirect(target: { ifindex?: number; map?: string; key?: number; flags: number }): void;
}

export type HelperImpl = (call: HelperCall, rt: HelperRuntime) => void;

// ---- argument and result access ----

/** Argument register r (1-5) as an unsigned number (pointers, sizes: the low 32 bits, 0 when above 4 GiB). */
export function arg(call: HelperCall, r: number): number {
  return call.hi[r] === 0 ? (call.lo[r] as number) >>> 0 : 0xffffffff;
}

/** Argument register r as a u64. */
export function arg64(call: HelperCall, r: number): bigint {
  return (BigInt((call.hi[r] as number) >>> 0) << 32n) | BigInt((call.lo[r] as number) >>> 0);
}

/** Sets r0 (a small signed number: 0, a negative errno, a length). */
export function ret(call: HelperCall, value: number): void {
  call.lo[0] = value | 0;
  call.hi[0] = value < 0 ? -1 : 0;
}

export function ret64(call: HelperCall, value: bigint): void {
  const v = BigInt.asUintN(64, value);
  call.lo[0] = Number(v & 0xffffffffn) | 0;
  call.hi[0] = Number(v >> 32n) | 0;
}

/** Whether [addr, addr+size) is memory a program may reach: the call-frame stacks or a mapped region. */
export function accessible(call: HelperCall, addr: number, size: number, write: boolean): boolean {
  const m = call.memory;
  return (addr >= m.stackBase && addr + size <= m.stackTop) || m.inRegion(addr, size, write);
}

/** Fails the program unless [addr, addr+size) is stack or a mapped region (writable when `write`). */
export function checkRange(call: HelperCall, helper: number, addr: number, size: number, write: boolean, what: string): void {
  if (size === 0 || accessible(call, addr, size, write)) return;
  throw new VmError(
    "OUT_OF_BOUNDS",
    `${helperName(helper)} at pc ${call.pc}: ${what} at 0x${addr.toString(16)} (${size} bytes) is outside the memory the program may ${write ? "write" : "read"}`,
    call.pc,
    { address: `0x${addr.toString(16)}` },
  );
}

/** The map a map-pointer argument names; fails the program when it names none. */
export function mapArg(call: HelperCall, rt: HelperRuntime, helper: number, r: number): VmMap {
  const map = rt.mapAt(arg(call, r));
  if (!map) throw new VmError("HELPER_FAILED", `${helperName(helper)} at pc ${call.pc}: r${r} is not a map`, call.pc);
  return map;
}
