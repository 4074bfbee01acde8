// Seed (d): XDP on a veth, dropping IPv4 packets whose source address is in an LPM-trie deny list.
#include "tsbpf.h"

#define XDP_DROP 1
#define XDP_PASS 2

struct lpm_v4 {
  __u32 prefixlen;
  __u32 addr; // network byte order
};

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __type(key, struct lpm_v4);
  __type(value, __u64); // packets dropped for this prefix
  __uint(max_entries, 1024);
  __uint(map_flags, BPF_F_NO_PREALLOC);
} deny SEC(".maps");

struct ethhdr {
  __u8 dst[6];
  __u8 src[6];
  __u16 proto;
} __attribute__((packed));

struct iphdr {
  __u8 ihl_version;
  __u8 tos;
  __u16 tot_len;
  __u16 id;
  __u16 frag_off;
  __u8 ttl;
  __u8 protocol;
  __u16 check;
  __u32 saddr;
  __u32 daddr;
};

SEC("xdp") int xdp_deny(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end) return XDP_PASS;
  if (eth->proto != __builtin_bswap16(0x0800)) return XDP_PASS;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > end) return XDP_PASS;
  struct lpm_v4 key = {32, ip->saddr};
  __u64 *dropped = bpf_map_lookup_elem(&deny, &key);
  if (!dropped) return XDP_PASS;
  __sync_fetch_and_add(dropped, 1);
  return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
