// Iterator programs the verifier checks against the kernel's BTF, each judged by the live kernel too
// (test/verifier.test.ts): a task iterator writing pids to its seq_file, and what goes wrong with one: no
// NULL check on the task, a store into it, the task given as the seq_file, a read past its struct, an exit
// value out of [0, 1]; and a read through bpf_get_current_task_btf().
#include "tsbpf.h"

struct seq_file;
struct bpf_iter_meta {
  struct seq_file *seq;
  __u64 session_id;
  __u64 seq_num;
} __attribute__((preserve_access_index));
struct task_struct {
  int pid;
  int tgid;
} __attribute__((preserve_access_index));
struct bpf_iter__task {
  struct bpf_iter_meta *meta;
  struct task_struct *task;
} __attribute__((preserve_access_index));

static long (*bpf_seq_write)(struct seq_file *m, const void *data, __u32 len) = (void *)127;
static struct task_struct *(*bpf_get_current_task_btf)(void) = (void *)158;

SEC("iter/task") int iter_pids(struct bpf_iter__task *ctx) {
  struct task_struct *task = ctx->task;
  if (!task) return 0;
  __u32 ids[2] = {task->pid, task->tgid};
  bpf_seq_write(ctx->meta->seq, ids, sizeof(ids));
  return 0;
}

SEC("iter/task") int iter_no_null_check(struct bpf_iter__task *ctx) {
  return ctx->task->pid & 1;
}

SEC("iter/task") int iter_store(struct bpf_iter__task *ctx) {
  struct task_struct *task = ctx->task;
  if (!task) return 0;
  task->pid = 0;
  return 0;
}

SEC("iter/task") int iter_wrong_seq(struct bpf_iter__task *ctx) {
  struct task_struct *task = ctx->task;
  __u64 v = 0;
  if (!task) return 0;
  bpf_seq_write((struct seq_file *)task, &v, sizeof(v));
  return 0;
}

SEC("iter/task") int iter_beyond(struct bpf_iter__task *ctx) {
  struct task_struct *task = ctx->task;
  if (!task) return 0;
  return ((volatile char *)task)[1 << 20] & 1;
}

SEC("iter/task") int iter_bad_return(struct bpf_iter__task *ctx) {
  return 2;
}

SEC("iter/task") int iter_current(struct bpf_iter__task *ctx) {
  struct task_struct *me = bpf_get_current_task_btf();
  return me->pid == 0;
}

char _license[] SEC("license") = "GPL";
