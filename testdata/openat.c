// Seed (b): an openat tracer. On every sys_enter_openat it reads the file name from user memory and streams
// (pid, comm, filename) to user space over a ring buffer.
#include "tsbpf.h"

static long (*bpf_get_current_comm)(void *buf, __u32 size) = (void *)16;
static long (*bpf_probe_read_user_str)(void *dst, __u32 size, const void *unsafe_ptr) = (void *)114;
static void *(*bpf_ringbuf_reserve)(void *ringbuf, __u64 size, __u64 flags) = (void *)131;
static void (*bpf_ringbuf_submit)(void *data, __u64 flags) = (void *)132;

struct event {
  __u32 pid;
  char comm[16];
  char filename[256];
};

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 20);
} events SEC(".maps");

// tracefs events/syscalls/sys_enter_openat/format
struct sys_enter_openat_args {
  __u64 common;
  __s32 syscall_nr;
  __u32 pad;
  __u64 dfd;
  const char *filename;
  __u64 flags;
  __u64 mode;
};

SEC("tracepoint/syscalls/sys_enter_openat") int trace_openat(struct sys_enter_openat_args *ctx) {
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return 0;
  e->pid = bpf_get_current_pid_tgid() >> 32;
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  bpf_probe_read_user_str(e->filename, sizeof(e->filename), ctx->filename);
  bpf_ringbuf_submit(e, 0);
  return 0;
}

char _license[] SEC("license") = "GPL";
