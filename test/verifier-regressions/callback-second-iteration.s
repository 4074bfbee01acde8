# The second iteration reads past the context: the count it depends on is precise, so iterations are walked one by one.
# type: socket_filter
# btf: func_info
# kernel: reject at 12: invalid read from stack R2 off=0 size=8
stdw [%r10-8], 0
mov %r1, 10
lddw %r2, func(cb)
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 181
mov %r0, 0
exit
cb:
ldxdw %r3, [%r2+0]
jeq %r3, 0, +1
ldxdw %r0, [%r2+8]
add %r3, 1
stxdw [%r2+0], %r3
mov %r0, 0
exit
