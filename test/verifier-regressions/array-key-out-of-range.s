# A constant key past the last element may find nothing: the value must be checked against NULL.
# type: socket_filter
# kernel: reject at 6: R0 invalid mem access 'map_value_or_null'
stw [%r10-8], 8
lddw %r1, map_idx(1)
mov %r2, %r10
add %r2, -8
call 1
ldxdw %r0, [%r0+0]
mov %r0, 0
exit
