# A 32-bit comparison with 0 is no NULL check: the lookup's result may still be NULL.
# type: socket_filter
# kernel: reject at 7: R0 invalid mem access 'map_value_or_null'
stw [%r10-8], 0
lddw %r1, map_idx(0)
mov %r2, %r10
add %r2, -8
call 1
jeq32 %r0, 0, +1
ldxw %r0, [%r0+0]
mov %r0, 0
exit
