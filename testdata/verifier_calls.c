// Programs the verifier walks with callbacks and locks, each judged by the live kernel too (test/verifier.test.ts):
// a bpf_loop summing into its context, a bpf_for_each_map_elem counting a hash's entries, a callback
// returning out of [0, 1], a counter updated under a bpf_spin_lock, with and without its unlock, and
// bpf_strncmp against a .rodata string, terminated or not; classic packet loads in subprograms returning int and
// void (a failing load returns from the subprogram, so its prototype must say it returns an integer).
#include "tsbpf.h"

struct bpf_spin_lock {
  __u32 val;
};
static void (*bpf_spin_lock)(struct bpf_spin_lock *lock) = (void *)93;
static void (*bpf_spin_unlock)(struct bpf_spin_lock *lock) = (void *)94;

struct counter {
  __u64 packets;
  struct {
    __u32 flags;
    struct bpf_spin_lock lock; // nested: the verifier finds it at offset 12
  } guard;
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, struct counter);
  __uint(max_entries, 4);
} counters SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 64);
} flows SEC(".maps");

struct sum {
  __u64 total;
  __u32 steps;
};

static long add_step(__u32 i, struct sum *s) {
  s->total += i;
  s->steps++;
  return 0;
}

SEC("tc") int loop_sum(struct __sk_buff *skb) {
  struct sum s = {0, 0};
  bpf_loop(16, add_step, &s, 0);
  return s.steps == 16 ? 0 : 2;
}

static long count_flow(void *map, __u32 *key, __u64 *value, __u64 *seen) {
  *seen += *value;
  return 0;
}

SEC("tc") int for_each_flow(struct __sk_buff *skb) {
  __u64 seen = 0;
  bpf_for_each_map_elem(&flows, count_flow, &seen, 0);
  return seen > 100;
}

static long stop_badly(__u32 i, void *ctx) {
  return 2; // a callback returns 0 (go on) or 1 (stop)
}

SEC("tc") int loop_bad_return(struct __sk_buff *skb) {
  bpf_loop(4, stop_badly, 0, 0);
  return 0;
}

SEC("cgroup_skb/egress") int locked_count(struct __sk_buff *skb) {
  __u32 k = skb->len & 3;
  struct counter *c = bpf_map_lookup_elem(&counters, &k);
  if (!c) return 1;
  bpf_spin_lock(&c->guard.lock);
  c->packets++;
  bpf_spin_unlock(&c->guard.lock);
  return 1;
}

SEC("cgroup_skb/egress") int locked_leave(struct __sk_buff *skb) {
  __u32 k = 0;
  struct counter *c = bpf_map_lookup_elem(&counters, &k);
  if (!c) return 1;
  bpf_spin_lock(&c->guard.lock);
  if (c->packets > 1000) return 0; // leaves with the lock held
  c->packets++;
  bpf_spin_unlock(&c->guard.lock);
  return 1;
}

static long (*bpf_strncmp)(const char *s1, __u32 s1_sz, const char *s2) = (void *)182;
static long (*bpf_trace_vprintk)(const char *fmt, __u32 fmt_size, const void *data, __u32 data_len) = (void *)177;

const char wanted[] = "eth0";
// Alone in its section (a map of its own): no NUL follows it.
const char unterminated[4] SEC(".rodata.tail") = {'e', 't', 'h', '0'};

SEC("tc") int compare_name(struct __sk_buff *skb) {
  char name[8] = {'e', 't', 'h', '0', 0};
  __u64 args[4] = {skb->len, skb->mark, skb->protocol, skb->priority};
  static const char fmt[] = "%d %d %d %d";
  bpf_trace_vprintk(fmt, sizeof(fmt), args, sizeof(args));
  return bpf_strncmp(name, sizeof(name), wanted) == 0;
}

SEC("tc") int compare_unterminated(struct __sk_buff *skb) {
  char name[8] = {'e', 't', 'h', '0', 0};
  return bpf_strncmp(name, sizeof(name), unterminated) == 0;
}

// The classic packet load, as old samples declared it.
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");

static __attribute__((noinline)) int peek_int(struct __sk_buff *skb) {
  return load_byte(skb, 12);
}

static __attribute__((noinline)) void peek_void(struct __sk_buff *skb, __u32 *out) {
  *out = load_byte(skb, 12);
}

SEC("socket") int ldabs_int_subprog(struct __sk_buff *skb) {
  return peek_int(skb) == 8;
}

SEC("socket") int ldabs_void_subprog(struct __sk_buff *skb) {
  __u32 v = 0;
  peek_void(skb, &v);
  return v;
}

char _license[] SEC("license") = "GPL";
