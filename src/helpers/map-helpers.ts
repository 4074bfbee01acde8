/**
 * Helpers over maps (lookup/update/delete, queues and bloom filters, ring buffers, perf events), tail calls,
 * and the callback helpers bpf_loop and bpf_for_each_map_elem.
 */

import type { HelperCall } from "../exec/state.js";
import { BloomFilterMap } from "../maps/bloom.js";
import { E2BIG, EAGAIN, EFAULT, EINVAL, ENOENT, type VmMap } from "../maps/map.js";
import { PerfEventArrayMap } from "../maps/perf.js";
import { QueueMap } from "../maps/queue.js";
import { RingBufMap } from "../maps/ringbuf.js";
import { StackTraceMap } from "../maps/stack-trace.js";
import { arg, arg64, checkRange, type HelperImpl, type HelperRuntime, mapArg, ret, ret64 } from "./runtime.js";

/** Callback "addresses" made from lddw BPF_PSEUDO_FUNC by the loader: this tag in the high word, the slot below. */
export const CALLBACK_TAG = 0x7fbfca11;

function callbackSlot(call: HelperCall, r: number): number | undefined {
  return call.hi[r] === CALLBACK_TAG ? (call.lo[r] as number) >>> 0 : undefined;
}

const keyIn = (call: HelperCall, id: number, r: number, size: number): number => {
  const at = arg(call, r);
  checkRange(call, id, at, size, false, "the key");
  return at;
};

export const MAP_HELPERS: ReadonlyMap<number, HelperImpl> = new Map<number, HelperImpl>([
  [
    1, // map_lookup_elem
    (call, rt) => {
      const map = mapArg(call, rt, 1, 1);
      ret(call, map.lookupFromProgram(keyIn(call, 1, 2, map.spec.keySize)));
    },
  ],
  [
    2, // map_update_elem
    (call, rt) => {
      const map = mapArg(call, rt, 2, 1);
      const key = keyIn(call, 2, 2, map.spec.keySize);
      const value = arg(call, 3);
      checkRange(call, 2, value, map.spec.valueSize, false, "the value");
      ret(call, map.updateFromProgram(key, value, Number(arg64(call, 4))));
    },
  ],
  [
    3, // map_delete_elem
    (call, rt) => {
      const map = mapArg(call, rt, 3, 1);
      ret(call, map.deleteFromProgram(keyIn(call, 3, 2, map.spec.keySize)));
    },
  ],
  [
    12, // tail_call(ctx, prog_array, index): on success the program is left; on failure execution goes on
    (call, rt) => {
      const map = mapArg(call, rt, 12, 2);
      if (rt.tailCall(call, map, arg(call, 3))) call.exit();
      else ret(call, -ENOENT);
    },
  ],
  [
    25, // perf_event_output(ctx, map, flags, data, size)
    (call, rt) => {
      const map = mapArg(call, rt, 25, 2);
      const size = arg(call, 5);
      checkRange(call, 25, arg(call, 4), size, false, "the data");
      ret(call, map instanceof PerfEventArrayMap ? map.output(arg64(call, 3), arg(call, 4), size) : -EINVAL);
    },
  ],
  [
    27, // get_stackid(ctx, map, flags)
    (call, rt) => {
      const map = mapArg(call, rt, 27, 2);
      ret(call, map instanceof StackTraceMap ? map.stackId(call.callChain(), Number(arg64(call, 3))) : -EINVAL);
    },
  ],
  [
    67, // get_stack(ctx, buf, size, flags): the call chain as addresses, or EFAULT for a user stack
    (call, rt) => {
      const [buf, size] = [arg(call, 2), arg(call, 3)];
      const flags = Number(arg64(call, 4));
      checkRange(call, 67, buf, size, true, "the buffer");
      if (size % 8 || flags & ~0x1ff) return ret(call, -EINVAL);
      rt.memory.bytes.fill(0, buf, buf + size);
      if (flags & 0x100) return ret(call, -EFAULT); // BPF_F_USER_STACK: the machine's programs have none
      const ips = call.callChain().slice(flags & 0xff, (flags & 0xff) + size / 8);
      ips.forEach((pc, i) => {
        rt.memory.view.setBigUint64(buf + i * 8, BigInt(pc * 8), true);
      });
      ret(call, ips.length * 8);
    },
  ],
  [
    22, // perf_event_read(map, flags): the machine's perf event arrays hold no counters
    (call, rt) => {
      mapArg(call, rt, 22, 1);
      ret(call, -ENOENT);
    },
  ],
  [
    55, // perf_event_read_value(map, flags, buf, size)
    (call, rt) => {
      mapArg(call, rt, 55, 1);
      const [buf, size] = [arg(call, 3), arg(call, 4)];
      checkRange(call, 55, buf, size, true, "the buffer");
      rt.memory.bytes.fill(0, buf, buf + size);
      ret(call, -ENOENT);
    },
  ],
  [
    37, // current_task_under_cgroup(map, index): the machine's task is in no cgroup of a cgroup array
    (call, rt) => {
      const map = mapArg(call, rt, 37, 1);
      const index = arg(call, 2);
      if (index >= map.spec.maxEntries) return ret(call, -E2BIG);
      const k = new Uint8Array(4);
      new DataView(k.buffer).setUint32(0, index, true);
      ret(call, map.get(k) === undefined ? -EAGAIN /* empty slot */ : 0);
    },
  ],
  [87, (call, rt) => queueOp(call, rt, 87)], // map_push_elem(map, value, flags)
  [88, (call, rt) => queueOp(call, rt, 88)], // map_pop_elem(map, value)
  [89, (call, rt) => queueOp(call, rt, 89)], // map_peek_elem(map, value)
  [
    130, // ringbuf_output(map, data, size, flags)
    (call, rt) => {
      const map = mapArg(call, rt, 130, 1);
      const size = arg(call, 3);
      checkRange(call, 130, arg(call, 2), size, false, "the data");
      ret(call, map instanceof RingBufMap ? map.output(arg(call, 2), size, Number(arg64(call, 4))) : -EINVAL);
    },
  ],
  [
    131, // ringbuf_reserve(map, size, flags)
    (call, rt) => {
      const map = mapArg(call, rt, 131, 1);
      ret(call, map instanceof RingBufMap ? map.reserve(arg(call, 2), Number(arg64(call, 3))) : 0);
    },
  ],
  [132, (call, rt) => commit(call, rt, false)], // ringbuf_submit(data, flags)
  [133, (call, rt) => commit(call, rt, true)], // ringbuf_discard(data, flags)
  [
    134, // ringbuf_query(map, flags): 0 avail data, 1 ring size, 2 consumer pos, 3 producer pos
    (call, rt) => {
      const map = mapArg(call, rt, 134, 1);
      if (!(map instanceof RingBufMap)) return ret(call, 0);
      const which = Number(arg64(call, 2));
      ret64(call, BigInt(which === 0 ? map.pending : which === 1 ? map.spec.maxEntries : 0));
    },
  ],
  [
    181, // loop(nr_loops, callback, ctx, flags): calls callback(i, ctx) until it returns 1
    (call, rt) => {
      const n = arg(call, 1);
      const slot = callbackSlot(call, 2);
      if (slot === undefined || arg64(call, 4) !== 0n) return ret(call, -EINVAL);
      if (n > 1 << 23) return ret(call, -E2BIG);
      const ctx = arg64(call, 3);
      let i = 0;
      while (i < n) {
        const r = rt.callback(call, slot, [BigInt(i), ctx]);
        i++;
        if (r === 1n) break;
      }
      ret(call, i);
    },
  ],
  [
    164, // for_each_map_elem(map, callback, ctx, flags): callback(map, &key, &value, ctx) per element
    (call, rt) => {
      const map = mapArg(call, rt, 164, 1);
      const slot = callbackSlot(call, 2);
      if (slot === undefined || arg64(call, 4) !== 0n) return ret(call, -EINVAL);
      const ctx = arg64(call, 3);
      const keyAt = keyScratch(rt, map);
      let n = 0;
      for (const key of map.keys()) {
        rt.memory.bytes.set(key, keyAt);
        const value = map.lookupFromProgram(keyAt, false);
        if (value === 0) continue;
        n++;
        if (rt.callback(call, slot, [BigInt(map.address), BigInt(keyAt), BigInt(value), ctx]) === 1n) break;
      }
      ret(call, n);
    },
  ],
]);

const scratch = new WeakMap<VmMap, number>();

/** Where for_each_map_elem puts the current key for the callback (read-only to it, one per map). */
function keyScratch(rt: HelperRuntime, map: VmMap): number {
  let at = scratch.get(map);
  if (at === undefined) {
    at = rt.memory.map(`map ${map.name} for_each key`, Math.max(map.spec.keySize, 1), false).start;
    scratch.set(map, at);
  }
  return at;
}

function queueOp(call: HelperCall, rt: HelperRuntime, id: number): void {
  const map = mapArg(call, rt, id, 1);
  const value = arg(call, 2);
  checkRange(call, id, value, map.spec.valueSize, id !== 87, "the value");
  if (map instanceof QueueMap) {
    ret(call, id === 87 ? map.pushFromProgram(value, Number(arg64(call, 3))) : map.takeFromProgram(value, id === 88));
  } else if (map instanceof BloomFilterMap && id !== 88) {
    ret(call, id === 87 ? map.pushFromProgram(value, Number(arg64(call, 3))) : map.peekFromProgram(value));
  } else {
    ret(call, -EINVAL);
  }
}

function commit(call: HelperCall, rt: HelperRuntime, discard: boolean): void {
  const at = arg(call, 1);
  rt.ringOf(at)?.commit(at, discard, Number(arg64(call, 2)));
  ret(call, 0);
}
