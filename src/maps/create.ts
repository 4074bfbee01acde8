/** Creating a userspace map from its spec, by map type; types not built yet fail with a typed error naming them. */
import { NotSupportedError } from "../errors.js";
import type { MapSpec } from "../object/maps.js";
import { ArrayMap, ReferenceArrayMap } from "./array.js";
import { BloomFilterMap } from "./bloom.js";
import { HashMap } from "./hash.js";
import { LpmTrieMap } from "./lpm.js";
import type { MapEnv, VmMap } from "./map.js";
import { PerfEventArrayMap } from "./perf.js";
import { QueueMap } from "./queue.js";
import { RingBufMap } from "./ringbuf.js";
import { StackTraceMap } from "./stack-trace.js";

/** Objects by id, for the maps whose values are references. */
export interface ObjectRegistry {
  program(id: number): { address: number; type: string } | undefined;
  map(id: number): VmMap | undefined;
}

export function createMap(spec: MapSpec, env: MapEnv, objects: ObjectRegistry): VmMap {
  const anything = () => ({ address: 0 });
  const innerMap = (id: number) => {
    const m = objects.map(id);
    const inner = spec.inner;
    // the kernel checks the inner map against the template: same type, key and value sizes
    return m && (!inner || (m.spec.type === inner.type && m.spec.keySize === inner.keySize && m.spec.valueSize === inner.valueSize))
      ? m
      : undefined;
  };
  switch (spec.type) {
    case 1:
      return new HashMap(spec, env);
    case 2:
      return new ArrayMap(spec, env);
    case 3:
      return new ReferenceArrayMap(spec, env, (id) => objects.program(id));
    case 4:
      return new PerfEventArrayMap(spec, env);
    case 5:
      return new HashMap(spec, env, { perCpu: true });
    case 6:
      return new ArrayMap(spec, env, true);
    case 7:
      return new StackTraceMap(spec, env);
    case 8: // cgroup_array
    case 14: // devmap
    case 16: // cpumap
    case 17: // xskmap
      return new ReferenceArrayMap(spec, env, anything);
    case 9:
      return new HashMap(spec, env, { lru: true });
    case 10:
      return new HashMap(spec, env, { lru: true, perCpu: true });
    case 11:
      return new LpmTrieMap(spec, env);
    case 12:
      return new ReferenceArrayMap(spec, env, innerMap);
    case 13:
      return new HashMap(spec, env, { resolve: innerMap });
    case 22:
      return new QueueMap(spec, env, false);
    case 23:
      return new QueueMap(spec, env, true);
    case 25: // devmap_hash
      return new HashMap(spec, env);
    case 27:
      return new RingBufMap(spec, env);
    case 30:
      return new BloomFilterMap(spec, env);
    default:
      throw new NotSupportedError(
        `map ${spec.name} of type ${spec.typeName}`,
        "the userspace machine does not implement this map type yet",
      );
  }
}
