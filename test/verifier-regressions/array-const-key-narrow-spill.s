# The constant key may come from a 4-byte register spill: it is tracked like a full one.
# type: socket_filter
# kernel: accept
mov %r7, 7
stxw [%r10-8], %r7
lddw %r1, map_idx(1)
mov %r2, %r10
add %r2, -8
call 1
ldxb %r0, [%r0+0]
mov %r0, 0
exit
