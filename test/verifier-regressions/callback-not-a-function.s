# A number where bpf_loop expects a callback.
# type: socket_filter
# btf: func_info
# kernel: reject at 4: R2 type=scalar expected=func
mov %r1, 3
mov %r2, 0
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
