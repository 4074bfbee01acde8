// BTF-defined maps of many types, a prog array and a map-in-map with initial values, and a pinned map.
#include "tsbpf.h"

struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, __u32); __type(value, __u64); __uint(max_entries, 128); } hash SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, __u64); __uint(max_entries, 16); } array SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_HASH); __uint(key_size, 8); __uint(value_size, 16); __uint(max_entries, 32); } percpu_hash SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __type(key, __u32); __type(value, __u32); __uint(max_entries, 4); } percpu_array SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LRU_HASH); __type(key, __u64); __type(value, __u32); __uint(max_entries, 64); } lru_hash SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH); __type(key, __u64); __type(value, __u32); __uint(max_entries, 64); } lru_percpu_hash SEC(".maps");
struct lpm_key { __u32 prefixlen; __u32 addr; };
struct { __uint(type, BPF_MAP_TYPE_LPM_TRIE); __type(key, struct lpm_key); __type(value, __u32); __uint(max_entries, 256); __uint(map_flags, BPF_F_NO_PREALLOC); } lpm SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY); __uint(key_size, 4); __uint(value_size, 4); } events SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } ringbuf SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_QUEUE); __type(value, __u32); __uint(max_entries, 8); } queue SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_STACK); __type(value, __u64); __uint(max_entries, 8); } stack SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_BLOOM_FILTER); __type(value, __u32); __uint(max_entries, 100); __uint(map_extra, 3); } bloom SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_STACK_TRACE); __uint(key_size, 4); __uint(value_size, 127 * 8); __uint(max_entries, 128); } stacks SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_DEVMAP); __uint(key_size, 4); __uint(value_size, 4); __uint(max_entries, 8); } devmap SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_CPUMAP); __uint(key_size, 4); __uint(value_size, 4); __uint(max_entries, 2); } cpumap SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_SOCKMAP); __uint(key_size, 4); __uint(value_size, 4); __uint(max_entries, 2); } sockmap SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, __u32); __type(value, __u32); __uint(max_entries, 1); __uint(pinning, LIBBPF_PIN_BY_NAME); } pinned SEC(".maps");

struct inner { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, __u32); __uint(max_entries, 2); };
struct inner inner_a SEC(".maps");
struct inner inner_b SEC(".maps");
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
  __type(key, __u32);
  __uint(max_entries, 4);
  __array(values, struct inner);
} outer SEC(".maps") = { .values = { [0] = &inner_a, [2] = &inner_b } };

struct {
  __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
  __type(key, __u32);
  __uint(max_entries, 4);
  __array(values, struct inner);
} outer_hash SEC(".maps");

SEC("xdp") int tail_a(struct xdp_md *ctx) { return 1; }
SEC("xdp") int tail_b(struct xdp_md *ctx) { return 2; }

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 4);
  __uint(key_size, 4);
  __array(values, int (void *));
} jumps SEC(".maps") = { .values = { [1] = (void *)&tail_a, [3] = (void *)&tail_b } };

SEC("xdp") int entry(struct xdp_md *ctx) {
  __u32 key = 0;
  __u64 *v = bpf_map_lookup_elem(&array, &key);
  if (v) *v += 1;
  void *in = bpf_map_lookup_elem(&outer, &key);
  if (in) bpf_map_lookup_elem(in, &key);
  bpf_tail_call(ctx, &jumps, 1);
  return 2;
}

char _license[] SEC("license") = "GPL";
