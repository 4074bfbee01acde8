/**
 * maps/ — the userspace machine's maps, with the kernel's semantics (flags, errnos, iteration), their values in
 * the machine's linear memory. User space uses them through the ByteMap interface (and typed views) shared
 * with the kernel backend; programs through helpers.
 */
export { ArrayMap, ReferenceArrayMap } from "./array.js";
export { BloomFilterMap } from "./bloom.js";
export { createMap, type ObjectRegistry } from "./create.js";
export { HashMap } from "./hash.js";
export { LpmTrieMap } from "./lpm.js";
export { BPF_ANY, BPF_EXIST, BPF_NOEXIST, type MapEnv, MapError, VmMap } from "./map.js";
export { PerfEventArrayMap, type PerfSample } from "./perf.js";
export { QueueMap } from "./queue.js";
export { RingBufMap } from "./ringbuf.js";
export { StackTraceMap } from "./stack-trace.js";
