// Seed (f): uprobe and uretprobe on tsbpf_add() of a test binary: record its arguments and its return value.
#include "tsbpf.h"

struct pt_regs {
  __u64 r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __type(key, __u32);
  __type(value, __u64);
  __uint(max_entries, 4); // 0: first argument, 1: second, 2: return value, 3: calls seen
} seen SEC(".maps");

static __always_inline void put(__u32 k, __u64 v) { bpf_map_update_elem(&seen, &k, &v, 0); }

SEC("uprobe") int add_entry(struct pt_regs *ctx) {
  put(0, ctx->di);
  put(1, ctx->si);
  __u32 k = 3;
  __u64 *calls = bpf_map_lookup_elem(&seen, &k);
  if (calls) __sync_fetch_and_add(calls, 1);
  return 0;
}

SEC("uretprobe") int add_return(struct pt_regs *ctx) {
  put(2, ctx->ax);
  return 0;
}

char _license[] SEC("license") = "GPL";
