# An unknown scalar returned from a callback.
# type: socket_filter
# btf: func_info
# kernel: reject at 9: At callback return the register R0 has unknown scalar value should have been in [0, 1]
mov %r1, 3
lddw %r2, func(cb)
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
cb:
call 7
exit
