// .ksyms externs: a typeless kernel symbol (kallsyms address), a typed per-CPU variable (vmlinux BTF id),
// kfunc calls, and a weak symbol the kernel does not have.
#include "tsbpf.h"

struct task_struct;

extern const void _stext __ksym;
extern int bpf_prog_active __ksym;
extern const void tsbpf_not_a_kernel_symbol __ksym __attribute__((weak));
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, __u64); __uint(max_entries, 3); } addrs SEC(".maps");

static __always_inline void put(__u32 k, const void *p) {
  __u64 v = (__u64)p;
  bpf_map_update_elem(&addrs, &k, &v, 0);
}

SEC("tp_btf/sys_enter") int ksyms(void *ctx) {
  struct task_struct *t = bpf_task_acquire((struct task_struct *)bpf_get_current_task());
  if (t) bpf_task_release(t);
  put(0, &_stext);
  put(1, &bpf_prog_active);
  put(2, &tsbpf_not_a_kernel_symbol);
  return 0;
}

char _license[] SEC("license") = "GPL";
