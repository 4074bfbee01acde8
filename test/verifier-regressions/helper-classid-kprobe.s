# A kprobe may read the current task's cgroup classid (no context argument for tracing types).
# type: kprobe
# kernel: accept
call 17
mov %r0, 0
exit
