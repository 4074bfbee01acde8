// Seed (h): perf_event sampling on the software CPU clock; each sample records the kernel stack of the
// interrupted code in a stack-trace map and counts how often each stack was seen.
#include "tsbpf.h"

static long (*bpf_get_stackid)(void *ctx, void *map, __u64 flags) = (void *)27;

struct {
  __uint(type, BPF_MAP_TYPE_STACK_TRACE);
  __uint(key_size, 4);
  __uint(value_size, 127 * 8);
  __uint(max_entries, 1024);
} stacks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, __u32);   // stack id
  __type(value, __u64); // samples
  __uint(max_entries, 1024);
} counts SEC(".maps");

SEC("perf_event") int sample(void *ctx) {
  long id = bpf_get_stackid(ctx, &stacks, 0); // kernel stack
  if (id < 0) return 0;
  __u32 key = (__u32)id;
  __u64 one = 1;
  __u64 *n = bpf_map_lookup_elem(&counts, &key);
  if (n)
    __sync_fetch_and_add(n, 1);
  else
    bpf_map_update_elem(&counts, &key, &one, 1);
  return 0;
}

char _license[] SEC("license") = "GPL";
