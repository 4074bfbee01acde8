// A cgroup_skb egress program: counts the packets processes in the cgroup send, and lets them through.
#include "tsbpf.h"

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 1);
} sent SEC(".maps");

SEC("cgroup_skb/egress") int count_egress(struct __sk_buff *skb) {
  __u32 k = 0;
  __u64 *n = bpf_map_lookup_elem(&sent, &k);
  if (n) __sync_fetch_and_add(n, 1);
  return 1; // allow
}

char _license[] SEC("license") = "GPL";
