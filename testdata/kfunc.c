// Kernel functions (kfuncs) without any typed ksym variable: loads on every kernel with BTF, whatever kallsyms
// exports. bpf_task_from_pid() takes a reference to a task, bpf_task_release() drops it; the verifier checks
// that the reference is released on every path.
#include "tsbpf.h"

struct task_struct {
  int pid;
  int tgid;
} __attribute__((preserve_access_index));

extern struct task_struct *bpf_task_from_pid(int pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

int target_pid; // set from user space before running

// Returns the tgid of the task with pid `target_pid`, or -1 when there is none.
SEC("tc") int task_tgid(struct __sk_buff *skb) {
  struct task_struct *task = bpf_task_from_pid(target_pid);
  if (!task) return -1;
  int tgid = task->tgid;
  bpf_task_release(task);
  return tgid;
}

char _license[] SEC("license") = "GPL";
