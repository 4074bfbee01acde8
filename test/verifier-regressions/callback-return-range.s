# A callback's R0 must be 0 or 1 at its exit.
# type: socket_filter
# btf: func_info
# kernel: reject at 9: At callback return the register R0 has smin=2 smax=2 should have been in [0, 1]
mov %r1, 10
lddw %r2, func(cb)
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
cb:
mov %r0, 2
exit
