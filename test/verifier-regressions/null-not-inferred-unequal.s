# Where the two pointers differ, the unchecked one may still be NULL.
# type: xdp
# kernel: reject at 15: R7 invalid mem access 'map_value_or_null'
stw [%r10-8], 0
mov %r9, %r10
add %r9, -8
lddw %r1, map_idx(0)
mov %r2, %r9
call 1
mov %r6, %r0
lddw %r1, map_idx(0)
mov %r2, %r9
call 1
mov %r7, %r0
jeq %r6, 0, out
jeq %r6, %r7, out
ldxw %r0, [%r7+0]
out:
mov %r0, 2
exit
