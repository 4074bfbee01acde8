# A counter the callback keeps in the caller's stack is widened to unknown: the iterations converge.
# type: socket_filter
# btf: func_info
# kernel: accept
stdw [%r10-8], 0
lddw %r1, map_idx(1)
lddw %r2, func(cb)
mov %r3, %r10
add %r3, -8
mov %r4, 0
call 164
mov %r0, 0
exit
cb:
ldxdw %r0, [%r3+0]
ldxw %r0, [%r2+0]
ldxdw %r5, [%r4+0]
add %r5, 1
stxdw [%r4+0], %r5
mov %r0, 0
exit
