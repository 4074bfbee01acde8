/** Kernel map types (enum bpf_map_type) by name, and the reverse. */
export const MAP_TYPES = [
  "unspec",
  "hash",
  "array",
  "prog_array",
  "perf_event_array",
  "percpu_hash",
  "percpu_array",
  "stack_trace",
  "cgroup_array",
  "lru_hash",
  "lru_percpu_hash",
  "lpm_trie",
  "array_of_maps",
  "hash_of_maps",
  "devmap",
  "sockmap",
  "cpumap",
  "xskmap",
  "sockhash",
  "cgroup_storage",
  "reuseport_sockarray",
  "percpu_cgroup_storage",
  "queue",
  "stack",
  "sk_storage",
  "devmap_hash",
  "struct_ops",
  "ringbuf",
  "inode_storage",
  "task_storage",
  "bloom_filter",
  "user_ringbuf",
  "cgrp_storage",
  "arena",
] as const;

/** A map type's name, or `type_N` for numbers this table does not know. */
export function mapTypeName(type: number): string {
  return MAP_TYPES[type] ?? `type_${type}`;
}

/** The number of a map type's name (mapTypeName's inverse); -1 for a name that is neither. */
export function mapTypeNumber(name: string): number {
  const known = (MAP_TYPES as readonly string[]).indexOf(name);
  return known >= 0 ? known : Number(/^type_(\d+)$/.exec(name)?.[1] ?? -1);
}

export const BPF_F_RDONLY_PROG = 0x80;
export const BPF_F_WRONLY_PROG = 0x100;
export const BPF_F_MMAPABLE = 0x400;
