// Seed (a): count sched_switch events per process (the task being switched out), for a "top" of who
// gets descheduled most.
#include "tsbpf.h"

#define BPF_NOEXIST 1

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __type(key, __u32);   // tgid (process id)
  __type(value, __u64); // switches
  __uint(max_entries, 10240);
} switches SEC(".maps");

SEC("tracepoint/sched/sched_switch") int count_switches(void *ctx) {
  __u32 pid = bpf_get_current_pid_tgid() >> 32;
  __u64 one = 1;
  __u64 *n = bpf_map_lookup_elem(&switches, &pid);
  if (n)
    __sync_fetch_and_add(n, 1);
  else
    bpf_map_update_elem(&switches, &pid, &one, BPF_NOEXIST);
  return 0;
}

char _license[] SEC("license") = "GPL";
