// Global data in every kind of section, bpf2bpf calls (static and global), a bpf_loop callback, a
// bpf_for_each_map_elem callback, and two programs in one section.
#include "tsbpf.h"

__u64 counter = 5;                                       // .data
const volatile __u32 limit = 100;                        // .rodata
__u32 zeroed;                                            // .bss
__u32 custom_data SEC(".data.custom") = 0xabcd;          // .data.custom
const char greeting[] SEC(".rodata.str") = "hello tsbpf"; // .rodata.str

struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, __u64); __uint(max_entries, 4); } sums SEC(".maps");

static __noinline __u64 twice(__u64 x) { return x * 2 + limit; }
__noinline __u64 global_add(__u64 a, __u64 b) { return twice(a) + b; }

static long loop_step(__u32 index, void *ctx) {
  *(__u64 *)ctx += index;
  return 0;
}

static long sum_elem(void *map, __u32 *key, __u64 *value, void *ctx) {
  *(__u64 *)ctx += *value;
  return 0;
}

SEC("socket") int first(struct __sk_buff *skb) {
  __u64 acc = 0;
  bpf_loop(10, loop_step, &acc, 0);
  counter += acc + zeroed + custom_data + greeting[0];
  return (int)global_add(acc, counter);
}

SEC("socket") int second(struct __sk_buff *skb) {
  __u64 total = 0;
  bpf_for_each_map_elem(&sums, sum_elem, &total, 0);
  zeroed = (__u32)twice(total);
  return 0;
}

char _license[] SEC("license") = "GPL";
