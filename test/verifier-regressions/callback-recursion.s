# A callback that calls bpf_loop with itself: one frame more each time, until there are nine.
# type: socket_filter
# btf: func_info
# kernel: reject at 13: the call stack of 9 frames is too deep
mov %r1, 3
lddw %r2, func(cb)
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
cb:
mov %r1, 3
lddw %r2, func(cb)
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
