# A count of zero: the callback is never called, so never walked (its bad return is never seen).
# type: socket_filter
# btf: func_info
# kernel: accept
mov %r1, 0
lddw %r2, func(cb)
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
cb:
mov %r0, 5
exit
