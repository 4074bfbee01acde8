// Userspace-machine features, each checked against the kernel running the same object: tail calls up to
// the kernel's limit of 33, ring buffer records in order (reserve/submit, discard, output from a bpf_loop
// callback), for_each_map_elem over a hash, bpf2bpf calls with their own stacks, and a packet rewrite with
// checksum fix-ups.
#include "tsbpf.h"

static void *(*bpf_ringbuf_reserve)(void *ringbuf, __u64 size, __u64 flags) = (void *)131;
static void (*bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)132;
static void (*bpf_ringbuf_discard)(void *data, __u64 flags) = (void *)133;
static long (*bpf_ringbuf_output)(void *ringbuf, void *data, __u64 size, __u64 flags) = (void *)130;
static long (*bpf_l3_csum_replace)(void *skb, __u32 offset, __u64 from, __u64 to, __u64 flags) = (void *)10;
static long (*bpf_skb_store_bytes)(void *skb, __u32 offset, const void *from, __u32 len, __u64 flags) = (void *)9;
static long (*bpf_skb_adjust_room)(struct __sk_buff *skb, __s32 len_diff, __u32 mode, __u64 flags) = (void *)50;
static long (*bpf_skb_change_proto)(struct __sk_buff *skb, __u16 proto, __u64 flags) = (void *)31;
static long (*bpf_snprintf)(char *str, __u32 str_size, const char *fmt, __u64 *data, __u32 data_len) = (void *)165;

int hop(struct xdp_md *ctx);

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 1);
  __uint(key_size, 4);
  __array(values, int (void *));
} chain SEC(".maps") = { .values = { [0] = (void *)&hop } };

__u32 hops;

// Tail-calls itself until the kernel's limit stops it: returns how many times it ran.
SEC("xdp") int hop(struct xdp_md *ctx) {
  hops++;
  bpf_tail_call(ctx, &chain, 0);
  return hops;
}

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} events SEC(".maps");

struct record {
  __u32 seq;
  __u32 square;
};

static long emit(__u32 i, void *ctx) {
  struct record r = {.seq = 100 + i, .square = i * i};
  bpf_ringbuf_output(&events, &r, sizeof(r), 0);
  return 0;
}

// Ring buffer records: 0..2 reserved and submitted, one discarded, then 100..104 from a bpf_loop callback.
SEC("xdp") int produce(struct xdp_md *ctx) {
  for (__u32 i = 0; i < 3; i++) {
    struct record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
    if (!r) return 1;
    r->seq = i;
    r->square = i * i;
    bpf_ringbuf_submit(r, 0);
  }
  struct record *d = bpf_ringbuf_reserve(&events, sizeof(*d), 0);
  if (d) bpf_ringbuf_discard(d, 0);
  return bpf_loop(5, emit, 0, 0);
}

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 16);
} weights SEC(".maps");

static long add_weight(void *map, __u32 *key, __u64 *value, __u64 *sum) {
  *sum += *key * 1000 + *value;
  return 0;
}

static __noinline __u64 fill_and_sum(__u32 n) {
  __u64 buf[8] = {};  // a frame of its own
  for (__u32 i = 0; i < 8 && i < n; i++) {
    __u32 k = i + 1;
    buf[i] = k * 3;
    bpf_map_update_elem(&weights, &k, &buf[i], 0);
  }
  __u64 sum = 0;
  bpf_for_each_map_elem(&weights, add_weight, &sum, 0);
  return sum;
}

// Sums key * 1000 + value over the hash: 5 entries of (k, 3k).
SEC("xdp") int weigh(struct xdp_md *ctx) {
  __u64 local[4] = {1, 2, 3, 4};
  __u64 s = fill_and_sum(5);
  return (int)(s + local[3] - 4);
}

// Rewrites the IPv4 destination to 10.0.0.99 and fixes the header checksum.
SEC("tc") int rewrite(struct __sk_buff *skb) {
  __u32 old_dst = 0x0200000a, new_dst = 0x6300000a; // 10.0.0.2 -> 10.0.0.99, network order
  if (bpf_l3_csum_replace(skb, 14 + 10, old_dst, new_dst, 4)) return 2;
  if (bpf_skb_store_bytes(skb, 14 + 16, &new_dst, 4, 0)) return 2;
  return 0;
}

// Makes 8 bytes of room after the IPv4 header (BPF_ADJ_ROOM_NET): returns the new length.
SEC("tc") int grow(struct __sk_buff *skb) {
  if (bpf_skb_adjust_room(skb, 8, 0, 0)) return -1;
  return skb->len;
}

// IPv4 -> IPv6 (20 zeroed bytes after the MAC header), a refused IPv6 -> IPv6, then 8 bytes of room after
// the 40-byte base an IPv6 skb has: returns the growth, and whether skb->protocol and the refusal were right.
SEC("tc") int xlat(struct __sk_buff *skb) {
  __u32 len0 = skb->len;
  if (bpf_skb_change_proto(skb, __builtin_bswap16(0x86DD), 0)) return -1;
  __u32 proto6 = skb->protocol;
  long again = bpf_skb_change_proto(skb, __builtin_bswap16(0x86DD), 0);
  if (bpf_skb_adjust_room(skb, 8, 0, 0)) return -2;
  return (skb->len - len0) | (proto6 == __builtin_bswap16(0x86DD)) << 8 | (again == -524) << 9;
}

// IPv4 -> IPv6 -> IPv4: the packet comes back as it was; returns its length.
SEC("tc") int xlat_back(struct __sk_buff *skb) {
  if (bpf_skb_change_proto(skb, __builtin_bswap16(0x86DD), 0)) return -1;
  if (bpf_skb_change_proto(skb, __builtin_bswap16(0x0800), 0)) return -2;
  return skb->len;
}

char text[32];

// Formats four values into `text`: returns snprintf's length (with the NUL).
SEC("xdp") int format(struct xdp_md *ctx) {
  static const char fmt[] = "%d-%u %x|%c";
  __u64 args[4] = {(__u64)-5, 7, 255, 'z'};
  return bpf_snprintf(text, sizeof(text), fmt, args, sizeof(args));
}

// sched_switch's record as its tracefs format lays it out (testdata/sched_switch.format).
struct sched_switch_args {
  unsigned short common_type;
  unsigned char common_flags;
  unsigned char common_preempt_count;
  int common_pid;
  char prev_comm[16];
  int prev_pid;
  int prev_prio;
  long prev_state;
  char next_comm[16];
  int next_pid;
  int next_prio;
};

// Reads two fields of the record: next_pid + the first letter of prev_comm.
SEC("tracepoint/sched/sched_switch") int switched(struct sched_switch_args *ctx) {
  return ctx->next_pid + ctx->prev_comm[0];
}

char _license[] SEC("license") = "GPL";
