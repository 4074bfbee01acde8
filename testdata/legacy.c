// Legacy map definitions: struct bpf_map_def in "maps", and iproute2's struct bpf_elf_map in "maps".
#include "tsbpf.h"

struct bpf_elf_map {
  __u32 type;
  __u32 size_key;
  __u32 size_value;
  __u32 max_elem;
  __u32 flags;
  __u32 id;
  __u32 pinning;
  __u32 inner_id;
  __u32 inner_idx;
};

struct bpf_elf_map SEC("maps") counters = { .type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 8, .max_elem = 256, .id = 7, .pinning = 2 };
struct bpf_elf_map SEC("maps") flows = { .type = BPF_MAP_TYPE_HASH, .size_key = 16, .size_value = 4, .max_elem = 1024, .flags = 1 };

SEC("classifier") int count(struct __sk_buff *skb) {
  __u32 key = skb->mark & 0xff;
  __u64 *v = bpf_map_lookup_elem(&counters, &key);
  if (v) __sync_fetch_and_add(v, 1);
  return 0;
}

char _license[] SEC("license") = "GPL";
