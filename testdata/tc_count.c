// A tcx ingress program counting the packets that arrive on an interface (and letting them pass).
#include "tsbpf.h"

#define TCX_PASS 0

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 1);
} packets SEC(".maps");

SEC("tc/ingress") int count_ingress(struct __sk_buff *skb) {
  __u32 k = 0;
  __u64 *n = bpf_map_lookup_elem(&packets, &k);
  if (n) __sync_fetch_and_add(n, 1);
  return TCX_PASS;
}

char _license[] SEC("license") = "GPL";
