// CO-RE: field reads and existence checks against the kernel's task_struct (with a ___flavor variant),
// type and enum checks, and kconfig externs.
#include "tsbpf.h"

struct task_struct {
  int pid;
  int tgid;
} __attribute__((preserve_access_index));

// A flavor: libbpf matches it against vmlinux's task_struct (the ___v2 suffix is ignored).
struct task_struct___v2 {
  int pid;
  int not_in_the_kernel;
} __attribute__((preserve_access_index));

enum pid_type___local { PIDTYPE_PID___local = 0, PIDTYPE_TGID___local = 1 };
enum pid_type { PIDTYPE_PID, PIDTYPE_TGID, PIDTYPE_PGID };

extern unsigned int CONFIG_HZ __kconfig;
extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_NOT_A_REAL_OPTION __kconfig __attribute__((weak));

struct { __uint(type, BPF_MAP_TYPE_ARRAY); __type(key, __u32); __type(value, __u64); __uint(max_entries, 8); } out SEC(".maps");

static __always_inline void put(__u32 k, __u64 v) { bpf_map_update_elem(&out, &k, &v, 0); }

SEC("raw_tp/sys_enter") int core_reads(void *ctx) {
  struct task_struct *task = (void *)bpf_get_current_task();
  int pid = 0, tgid = 0;
  CORE_READ(pid, task, pid);
  CORE_READ(tgid, task, tgid);
  struct task_struct___v2 *t2 = (void *)task;
  int pid2 = 0;
  CORE_READ(pid2, t2, pid);
  put(0, pid);
  put(1, tgid);
  put(2, pid2);
  put(3, __builtin_preserve_field_info(t2->not_in_the_kernel, BPF_FIELD_EXISTS));
  put(4, __builtin_preserve_type_info(*(struct task_struct *)0, BPF_TYPE_SIZE));
  put(5, __builtin_preserve_enum_value(*(typeof(enum pid_type) *)PIDTYPE_TGID, BPF_ENUMVAL_VALUE));
  put(6, CONFIG_HZ + LINUX_KERNEL_VERSION);
  put(7, CONFIG_NOT_A_REAL_OPTION);
  return 0;
}

char _license[] SEC("license") = "GPL";
