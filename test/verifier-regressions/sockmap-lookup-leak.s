# A sockmap lookup takes a reference: the socket must be released before exit.
# type: sched_cls
# kernel: reject at 7: BPF_EXIT instruction in main prog would lead to reference leak
stw [%r10-4], 0
lddw %r1, map_idx(10)
mov %r2, %r10
add %r2, -4
call 1
mov %r0, 0
exit
