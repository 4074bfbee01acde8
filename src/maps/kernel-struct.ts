/**
 * What a program sees through a map pointer (`&my_map`, CONST_PTR_TO_MAP): the kernel's struct for the map
 * type, read-only. The verifier bounds such reads by that struct's size (check_ptr_to_map_access: "access
 * beyond struct ..."), and the machine maps a block of that size for each map, with the struct bpf_map
 * fields programs read (type, sizes, max_entries, flags, id) at the kernel's offsets. Sizes and offsets are
 * Linux 6.18's (x86-64), from its vmlinux BTF.
 */
const BPF_ARRAY = { name: "bpf_array", size: 312 };
const BPF_HTAB = { name: "bpf_htab", size: 832 };

const BY_TYPE: Readonly<Record<number, { name: string; size: number }>> = {
  1: BPF_HTAB,
  2: BPF_ARRAY,
  3: BPF_ARRAY,
  4: BPF_ARRAY,
  5: BPF_HTAB,
  6: BPF_ARRAY,
  7: { name: "bpf_stack_map", size: 320 },
  8: BPF_ARRAY,
  9: BPF_HTAB,
  10: BPF_HTAB,
  11: { name: "lpm_trie", size: 416 },
  12: BPF_ARRAY,
  13: BPF_HTAB,
  14: { name: "bpf_dtab", size: 344 },
  15: { name: "bpf_stab", size: 376 },
  16: { name: "bpf_cpu_map", size: 304 },
  17: { name: "xsk_map", size: 304 },
  18: { name: "bpf_shtab", size: 384 },
  20: { name: "reuseport_array", size: 296 },
  22: { name: "bpf_queue_stack", size: 312 },
  23: { name: "bpf_queue_stack", size: 312 },
  25: { name: "bpf_dtab", size: 344 },
  27: { name: "bpf_ringbuf_map", size: 304 },
  30: { name: "bpf_bloom_filter", size: 312 },
};

/** The kernel struct behind a map of this type (struct bpf_map itself where this table has none). */
export function mapStruct(type: number): { name: string; size: number } {
  return BY_TYPE[type] ?? { name: "bpf_map", size: 296 };
}

/** struct bpf_map's fields a program may read, by byte offset. */
export const MAP_FIELD = { mapType: 64, keySize: 68, valueSize: 72, maxEntries: 76, mapFlags: 88, id: 92 } as const;
