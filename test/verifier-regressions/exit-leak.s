# A record reserved and neither submitted nor discarded leaks at exit: the kernel names both.
# type: socket_filter
# kernel: reject at 6: BPF_EXIT instruction in main prog would lead to reference leak
lddw %r1, map_idx(2)
mov %r2, 16
mov %r3, 0
call 131
mov %r0, 0
exit
