# The count indexes the caller's buffer: one iteration runs past it.
# type: socket_filter
# btf: func_info
# kernel: reject at 14: invalid write to stack R4 off=0 size=1
stdw [%r10-16], 0
stdw [%r10-8], 0
mov %r1, 100
lddw %r2, func(cb)
mov %r3, %r10
add %r3, -16
mov %r4, 0
call 181
mov %r0, 0
exit
cb:
ldxdw %r3, [%r2+0]
mov %r4, %r2
add %r4, %r3
stb [%r4+8], 1
add %r3, 1
stxdw [%r2+0], %r3
mov %r0, 0
exit
