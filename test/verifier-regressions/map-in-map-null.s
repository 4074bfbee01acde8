# A map of maps' lookup may find nothing: the inner map pointer must be checked against NULL before use.
# type: socket_filter
# kernel: reject at 10: R1 type=map_ptr_or_null expected=map_ptr
stw [%r10-8], 0
lddw %r1, map_idx(6)
mov %r2, %r10
add %r2, -8
call 1
stw [%r10-16], 1
mov %r1, %r0
mov %r2, %r10
add %r2, -16
call 1
mov %r0, 0
exit
