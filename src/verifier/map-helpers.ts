/**
 * Which helpers a map may be given to (check_map_func_compatibility): a two-way check, first what a special
 * map type works with, then which maps a special helper needs. Sockmaps and sockhashes may also be updated
 * and deleted from where no locked socket can be reached (may_update_sockmap).
 */

import { HELPER_NAMES } from "../helpers/names.js";
import { BPF_F_RDONLY_PROG } from "../object/map-types.js";
import type { Env } from "./env.js";
import type { VerifierMap } from "./reg.js";

export const MAP_TYPE = {
  PROG_ARRAY: 3,
  PERF_EVENT_ARRAY: 4,
  PERCPU_HASH: 5,
  PERCPU_ARRAY: 6,
  STACK_TRACE: 7,
  CGROUP_ARRAY: 8,
  LRU_PERCPU_HASH: 10,
  ARRAY_OF_MAPS: 12,
  HASH_OF_MAPS: 13,
  DEVMAP: 14,
  SOCKMAP: 15,
  CPUMAP: 16,
  XSKMAP: 17,
  SOCKHASH: 18,
  CGROUP_STORAGE: 19,
  REUSEPORT_SOCKARRAY: 20,
  PERCPU_CGROUP_STORAGE: 21,
  QUEUE: 22,
  STACK: 23,
  SK_STORAGE: 24,
  DEVMAP_HASH: 25,
  RINGBUF: 27,
  INODE_STORAGE: 28,
  TASK_STORAGE: 29,
  BLOOM_FILTER: 30,
  USER_RINGBUF: 31,
  CGRP_STORAGE: 32,
} as const;

const H = {
  lookup: 1,
  update: 2,
  delete: 3,
  tailCall: 12,
  perfEventRead: 22,
  perfEventOutput: 25,
  getStackid: 27,
  skbUnderCgroup: 33,
  currentTaskUnderCgroup: 37,
  redirectMap: 51,
  skRedirectMap: 52,
  sockMapUpdate: 53,
  perfEventReadValue: 55,
  msgRedirectMap: 60,
  sockHashUpdate: 70,
  msgRedirectHash: 71,
  skRedirectHash: 72,
  getLocalStorage: 81,
  skSelectReuseport: 82,
  push: 87,
  pop: 88,
  peek: 89,
  skStorageGet: 107,
  skStorageDelete: 108,
  skbOutput: 111,
  xdpOutput: 121,
  ringbufOutput: 130,
  ringbufReserve: 131,
  ringbufQuery: 134,
  inodeStorageGet: 145,
  inodeStorageDelete: 146,
  taskStorageGet: 156,
  taskStorageDelete: 157,
  kptrXchg: 194,
  lookupPercpu: 195,
  ringbufReserveDynptr: 198,
  ringbufSubmitDynptr: 199,
  ringbufDiscardDynptr: 200,
  userRingbufDrain: 209,
  cgrpStorageGet: 210,
  cgrpStorageDelete: 211,
} as const;

const M = MAP_TYPE;
const PERF_HELPERS = [H.perfEventRead, H.perfEventOutput, H.skbOutput, H.perfEventReadValue, H.xdpOutput];
const RINGBUF_HELPERS = [
  H.ringbufOutput,
  H.ringbufReserve,
  H.ringbufQuery,
  H.ringbufReserveDynptr,
  H.ringbufSubmitDynptr,
  H.ringbufDiscardDynptr,
];

/** The helpers each special map type takes (maps not listed take any helper the second table allows). */
const HELPERS_OF_MAP: Readonly<Record<number, readonly number[]>> = {
  [M.PROG_ARRAY]: [H.tailCall],
  [M.PERF_EVENT_ARRAY]: PERF_HELPERS,
  [M.RINGBUF]: RINGBUF_HELPERS,
  [M.USER_RINGBUF]: [H.userRingbufDrain],
  [M.STACK_TRACE]: [H.getStackid],
  [M.CGROUP_ARRAY]: [H.skbUnderCgroup, H.currentTaskUnderCgroup],
  [M.CGROUP_STORAGE]: [H.getLocalStorage],
  [M.PERCPU_CGROUP_STORAGE]: [H.getLocalStorage],
  [M.DEVMAP]: [H.redirectMap, H.lookup],
  [M.DEVMAP_HASH]: [H.redirectMap, H.lookup],
  [M.CPUMAP]: [H.redirectMap],
  [M.XSKMAP]: [H.redirectMap, H.lookup],
  [M.ARRAY_OF_MAPS]: [H.lookup],
  [M.HASH_OF_MAPS]: [H.lookup],
  [M.SOCKMAP]: [H.skRedirectMap, H.sockMapUpdate, H.msgRedirectMap, H.skSelectReuseport, H.lookup],
  [M.SOCKHASH]: [H.skRedirectHash, H.sockHashUpdate, H.msgRedirectHash, H.skSelectReuseport, H.lookup],
  [M.REUSEPORT_SOCKARRAY]: [H.skSelectReuseport],
  [M.QUEUE]: [H.peek, H.pop, H.push],
  [M.STACK]: [H.peek, H.pop, H.push],
  [M.SK_STORAGE]: [H.skStorageGet, H.skStorageDelete, H.kptrXchg],
  [M.INODE_STORAGE]: [H.inodeStorageGet, H.inodeStorageDelete, H.kptrXchg],
  [M.TASK_STORAGE]: [H.taskStorageGet, H.taskStorageDelete, H.kptrXchg],
  [M.CGRP_STORAGE]: [H.cgrpStorageGet, H.cgrpStorageDelete, H.kptrXchg],
  [M.BLOOM_FILTER]: [H.peek, H.push],
};

/** The maps each special helper needs. */
const MAPS_OF_HELPER: Readonly<Record<number, readonly number[]>> = {
  [H.tailCall]: [M.PROG_ARRAY],
  ...Object.fromEntries(PERF_HELPERS.map((h) => [h, [M.PERF_EVENT_ARRAY]])),
  ...Object.fromEntries(RINGBUF_HELPERS.map((h) => [h, [M.RINGBUF]])),
  [H.userRingbufDrain]: [M.USER_RINGBUF],
  [H.getStackid]: [M.STACK_TRACE],
  [H.currentTaskUnderCgroup]: [M.CGROUP_ARRAY],
  [H.skbUnderCgroup]: [M.CGROUP_ARRAY],
  [H.redirectMap]: [M.DEVMAP, M.DEVMAP_HASH, M.CPUMAP, M.XSKMAP],
  [H.skRedirectMap]: [M.SOCKMAP],
  [H.msgRedirectMap]: [M.SOCKMAP],
  [H.sockMapUpdate]: [M.SOCKMAP],
  [H.skRedirectHash]: [M.SOCKHASH],
  [H.msgRedirectHash]: [M.SOCKHASH],
  [H.sockHashUpdate]: [M.SOCKHASH],
  [H.getLocalStorage]: [M.CGROUP_STORAGE, M.PERCPU_CGROUP_STORAGE],
  [H.skSelectReuseport]: [M.REUSEPORT_SOCKARRAY, M.SOCKMAP, M.SOCKHASH],
  [H.pop]: [M.QUEUE, M.STACK],
  [H.peek]: [M.QUEUE, M.STACK, M.BLOOM_FILTER],
  [H.push]: [M.QUEUE, M.STACK, M.BLOOM_FILTER],
  [H.lookupPercpu]: [M.PERCPU_ARRAY, M.PERCPU_HASH, M.LRU_PERCPU_HASH],
  [H.skStorageGet]: [M.SK_STORAGE],
  [H.skStorageDelete]: [M.SK_STORAGE],
  [H.inodeStorageGet]: [M.INODE_STORAGE],
  [H.inodeStorageDelete]: [M.INODE_STORAGE],
  [H.taskStorageGet]: [M.TASK_STORAGE],
  [H.taskStorageDelete]: [M.TASK_STORAGE],
  [H.cgrpStorageGet]: [M.CGRP_STORAGE],
  [H.cgrpStorageDelete]: [M.CGRP_STORAGE],
};

export const helperName = (id: number): string => `bpf_${HELPER_NAMES[id] ?? `unknown`}`;

/** Program types that reach no locked socket, so they may update and delete sockmap entries. */
const SOCKMAP_WRITERS = new Set(["socket_filter", "sched_cls", "sched_act", "xdp", "sk_reuseport", "flow_dissector", "sk_lookup"]);

/** may_update_sockmap: true, false, or the line the kernel logs when the type is why it says no. */
function mayUpdateSockmap(env: Env, id: number): true | false | string {
  if (id !== H.update && id !== H.delete) return false;
  const ok =
    SOCKMAP_WRITERS.has(env.type) ||
    (env.type === "tracing" && env.attachType === "trace_iter") ||
    (env.type === "sock_ops" && id === H.delete);
  return ok || "cannot update sockmap in this context\n";
}

/** check_map_func_compatibility: `map` given to helper `id`. */
export function checkMapHelper(env: Env, map: VerifierMap, id: number): void {
  const bad = (why = ""): never => env.reject(`${why}cannot pass map_type ${map.type} into func ${helperName(id)}#${id}`, "EINVAL");
  const helpers = HELPERS_OF_MAP[map.type];
  if (helpers && !helpers.includes(id)) {
    const update = map.type === M.SOCKMAP || map.type === M.SOCKHASH ? mayUpdateSockmap(env, id) : false;
    if (update !== true) bad(update || "");
  }
  const maps = MAPS_OF_HELPER[id];
  if (maps && !maps.includes(map.type)) bad();
}

/** record_func_map: a map the program may only read cannot be changed through a helper either. */
export function checkMapWritable(env: Env, map: VerifierMap, id: number): void {
  if ((map.flags & BPF_F_RDONLY_PROG) !== 0 && [H.update, H.delete, H.push, H.pop].includes(id as 2))
    env.reject("write into map forbidden");
}
