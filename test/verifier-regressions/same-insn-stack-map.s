# The stack on one path and a map value on the other is fine: neither is rewritten.
# type: sched_cls
# kernel: accept
stdw [%r10-8], 0
lddw %r1, map_idx(1)
mov %r2, %r10
add %r2, -8
call 1
jne %r0, 0, +2
mov %r0, %r10
add %r0, -8
ldxw %r0, [%r0+0]
mov %r0, 0
exit
