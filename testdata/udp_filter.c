// Seed (e): a socket filter on a UDP socket that keeps only datagrams whose payload starts with 'A'.
#include "tsbpf.h"

static long (*bpf_skb_load_bytes)(const void *skb, __u32 offset, void *to, __u32 len) = (void *)26;

SEC("socket") int keep_a(struct __sk_buff *skb) {
  __u8 first = 0;
  // A UDP socket's filter sees the datagram from its UDP header: the payload starts 8 bytes in.
  if (bpf_skb_load_bytes(skb, 8, &first, 1) < 0) return 0;
  return first == 'A' ? skb->len : 0;
}

char _license[] SEC("license") = "GPL";
