// BTF tracepoint programs (tp_btf), checked against the kernel's BTF and judged by the live kernel too
// (test/verifier.test.ts): sched_switch's tasks read, the NULL-able task of sched_pi_setprio used unchecked
// and checked, a store into a task, an argument the tracepoint does not have.
#include "tsbpf.h"

struct task_struct {
  int pid;
} __attribute__((preserve_access_index));

SEC("tp_btf/sched_switch") int switch_pids(unsigned long long *ctx) {
  struct task_struct *prev = (struct task_struct *)ctx[1];
  struct task_struct *next = (struct task_struct *)ctx[2];
  return prev->pid == next->pid;
}

SEC("tp_btf/sched_pi_setprio") int pi_unchecked(unsigned long long *ctx) {
  struct task_struct *pi_task = (struct task_struct *)ctx[1];
  return pi_task->pid;
}

SEC("tp_btf/sched_pi_setprio") int pi_checked(unsigned long long *ctx) {
  struct task_struct *pi_task = (struct task_struct *)ctx[1];
  return pi_task ? pi_task->pid : 0;
}

SEC("tp_btf/sched_switch") int switch_store(unsigned long long *ctx) {
  struct task_struct *prev = (struct task_struct *)ctx[1];
  prev->pid = 0;
  return 0;
}

SEC("tp_btf/sched_switch") int switch_no_such_arg(unsigned long long *ctx) {
  return ctx[5] != 0;
}

char _license[] SEC("license") = "GPL";
