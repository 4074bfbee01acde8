// An iterator over every task: writes (pid, comm) records to the reader of the iterator fd.
#include "tsbpf.h"

struct seq_file;
struct bpf_iter_meta {
  struct seq_file *seq;
  __u64 session_id;
  __u64 seq_num;
} __attribute__((preserve_access_index));
struct task_struct {
  int pid;
  char comm[16];
} __attribute__((preserve_access_index));
struct bpf_iter__task {
  struct bpf_iter_meta *meta;
  struct task_struct *task;
} __attribute__((preserve_access_index));

static long (*bpf_seq_write)(struct seq_file *m, const void *data, __u32 len) = (void *)127;

struct record {
  __u32 pid;
  char comm[16];
};

SEC("iter/task") int dump_task(struct bpf_iter__task *ctx) {
  struct task_struct *task = ctx->task;
  if (!task) return 0;
  struct record r = {};
  r.pid = task->pid;
  bpf_probe_read_kernel(r.comm, sizeof(r.comm), task->comm);
  bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
  return 0;
}

char _license[] SEC("license") = "GPL";
