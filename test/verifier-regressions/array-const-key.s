# An array lookup with a constant key inside the array cannot fail: no NULL check is needed.
# type: socket_filter
# kernel: accept
stw [%r10-8], 3
lddw %r1, map_idx(1)
mov %r2, %r10
add %r2, -8
call 1
ldxdw %r0, [%r0+56]
mov %r0, 0
exit
