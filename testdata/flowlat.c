// Seed (c): flow latency on an interface. tc programs on ingress and egress see both directions of each
// flow: a TCP SYN (or a flow's first UDP datagram) starts the clock; the SYN/ACK (or the first datagram going
// the other way) stops it, and an event goes to user space over a ring buffer.
#include "tsbpf.h"

#define TCX_PASS 0
static void *(*bpf_ringbuf_reserve)(void *ringbuf, __u64 size, __u64 flags) = (void *)131;
static void (*bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)132;
static long (*bpf_map_delete_elem)(void *map, const void *key) = (void *)3;

struct flow {
  __u32 saddr, daddr; // network byte order, as on the wire
  __u16 sport, dport; // network byte order
  __u32 proto;
};

struct start {
  __u64 ns;
  __u32 ttl;
  __u32 pad;
};

struct event {
  struct flow flow; // the initiator's direction
  __u32 ttl;        // of the initiating packet
  __u32 pad;
  __u64 latency_ns;
};

struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, struct flow); __type(value, struct start); __uint(max_entries, 16384); } pending SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 1 << 20); } events SEC(".maps");

struct ethhdr { __u8 dst[6], src[6]; __u16 proto; } __attribute__((packed));
struct iphdr { __u8 ihl_version, tos; __u16 tot_len, id, frag_off; __u8 ttl, protocol; __u16 check; __u32 saddr, daddr; };
struct ports { __u16 source, dest; };
struct tcphdr { __u16 source, dest; __u32 seq, ack_seq; __u8 doff, flags; __u16 window, check, urg; };

#define TCP_SYN 0x02
#define TCP_ACK 0x10

static __always_inline int handle(struct __sk_buff *skb) {
  void *data = (void *)(long)skb->data;
  void *end = (void *)(long)skb->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end || eth->proto != __builtin_bswap16(0x0800)) return TCX_PASS;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > end) return TCX_PASS;
  __u32 ihl = (ip->ihl_version & 0x0f) * 4;
  if (ihl < 20 || (ip->protocol != 6 && ip->protocol != 17)) return TCX_PASS;
  struct ports *l4 = (void *)ip + ihl;
  if ((void *)(l4 + 1) > end) return TCX_PASS;
  struct flow f = {ip->saddr, ip->daddr, l4->source, l4->dest, ip->protocol};
  struct flow back = {ip->daddr, ip->saddr, l4->dest, l4->source, ip->protocol};
  int starts = 0, ends = 0;
  if (ip->protocol == 6) {
    struct tcphdr *tcp = (void *)l4;
    if ((void *)(tcp + 1) > end) return TCX_PASS;
    starts = (tcp->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
    ends = (tcp->flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK);
  } else {
    ends = bpf_map_lookup_elem(&pending, &back) != 0;
    starts = !ends && bpf_map_lookup_elem(&pending, &f) == 0;
  }
  if (starts) {
    struct start s = {bpf_ktime_get_ns(), ip->ttl, 0};
    bpf_map_update_elem(&pending, &f, &s, 0);
  } else if (ends) {
    struct start *s = bpf_map_lookup_elem(&pending, &back);
    if (!s) return TCX_PASS;
    struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (e) {
      e->flow = back;
      e->ttl = s->ttl;
      e->pad = 0;
      e->latency_ns = bpf_ktime_get_ns() - s->ns;
      bpf_ringbuf_submit(e, 0);
    }
    bpf_map_delete_elem(&pending, &back);
  }
  return TCX_PASS;
}

SEC("tc/ingress") int flowlat_ingress(struct __sk_buff *skb) { return handle(skb); }
SEC("tc/egress") int flowlat_egress(struct __sk_buff *skb) { return handle(skb); }

char _license[] SEC("license") = "GPL";
