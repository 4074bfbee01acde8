// A flow dissector: fills struct bpf_flow_keys for IPv4 (with fragments) and IPv6 packets carrying TCP or
// UDP, and drops anything else. BPF_PROG_TEST_RUN returns the keys as data_out, which the machine's test
// run must reproduce; it also records what bpf_skb_load_bytes gives a flow dissector in a test run (the
// kernel has no skb there: -EFAULT).
#include "tsbpf.h"

#define BPF_OK 0
#define BPF_DROP 2
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define htons(x) __builtin_bswap16(x)
#define htonl(x) __builtin_bswap32(x)

static long (*bpf_skb_load_bytes)(const void *skb, __u32 offset, void *to, __u32 len) = (void *)26;

struct bpf_flow_keys {
  __u16 nhoff;
  __u16 thoff;
  __u16 addr_proto;
  __u8 is_frag;
  __u8 is_first_frag;
  __u8 is_encap;
  __u8 ip_proto;
  __u16 n_proto;
  __u16 sport;
  __u16 dport;
  union {
    struct {
      __u32 ipv4_src;
      __u32 ipv4_dst;
    };
    struct {
      __u32 ipv6_src[4];
      __u32 ipv6_dst[4];
    };
  };
  __u32 flags;
  __u32 flow_label;
};

/* struct __sk_buff as far as a flow dissector may read it: data, data_end and flow_keys. */
struct dissector_skb {
  __u32 before_data[19];
  __u32 data;
  __u32 data_end;
  __u32 napi_id_to_data_meta[15];
  union {
    struct bpf_flow_keys *flow_keys;
    __u64 flow_keys_slot;
  };
};

struct ipv4 {
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

struct ipv6 {
  __u32 vtc_flow;
  __u16 payload_len;
  __u8 nexthdr;
  __u8 hop_limit;
  __u32 saddr[4];
  __u32 daddr[4];
};

long load_bytes_result;

SEC("flow_dissector") int dissect(struct dissector_skb *skb) {
  struct bpf_flow_keys *keys = skb->flow_keys;
  void *data = (void *)(long)skb->data;
  void *data_end = (void *)(long)skb->data_end;
  __u8 first;
  __u8 proto;

  load_bytes_result = bpf_skb_load_bytes(skb, 0, &first, 1);
  /* bounded offsets, so that the verifier can prove the header checks below */
  __u16 nhoff = keys->nhoff;
  if (nhoff > 1024) return BPF_DROP;
  if (keys->n_proto == htons(ETH_P_IP)) {
    struct ipv4 *ip = data + nhoff;
    if ((void *)(ip + 1) > data_end) return BPF_DROP;
    __u8 ihl = ip->ihl_version & 0xf;
    if (ihl < 5) return BPF_DROP;
    keys->addr_proto = ETH_P_IP;
    keys->ipv4_src = ip->saddr;
    keys->ipv4_dst = ip->daddr;
    keys->ip_proto = ip->protocol;
    keys->thoff = nhoff + (ihl << 2);
    proto = ip->protocol;
    if (ip->frag_off & htons(0x3fff)) {
      keys->is_frag = 1;
      if (ip->frag_off & htons(0x1fff)) return BPF_OK; /* a later fragment has no ports */
      keys->is_first_frag = 1;
    }
  } else if (keys->n_proto == htons(ETH_P_IPV6)) {
    struct ipv6 *ip6 = data + nhoff;
    if ((void *)(ip6 + 1) > data_end) return BPF_DROP;
    keys->addr_proto = ETH_P_IPV6;
    for (int i = 0; i < 4; i++) {
      keys->ipv6_src[i] = ip6->saddr[i];
      keys->ipv6_dst[i] = ip6->daddr[i];
    }
    keys->ip_proto = ip6->nexthdr;
    keys->flow_label = ip6->vtc_flow & htonl(0xfffff);
    keys->thoff = nhoff + sizeof(*ip6);
    proto = ip6->nexthdr;
  } else {
    return BPF_DROP;
  }
  __u16 thoff = keys->thoff;
  if (thoff > 1024) return BPF_DROP;
  if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
    __u16 *ports = data + thoff;
    if ((void *)(ports + 2) > data_end) return BPF_DROP;
    keys->sport = ports[0];
    keys->dport = ports[1];
  }
  return BPF_OK;
}

char _license[] SEC("license") = "GPL";
