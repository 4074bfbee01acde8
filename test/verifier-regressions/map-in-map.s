# Checked, the inner map takes a lookup of its own, whose value (16 bytes) is checked again.
# type: socket_filter
# kernel: accept
stw [%r10-8], 0
lddw %r1, map_idx(6)
mov %r2, %r10
add %r2, -8
call 1
jeq %r0, 0, done
stw [%r10-16], 1
mov %r1, %r0
mov %r2, %r10
add %r2, -16
call 1
jeq %r0, 0, done
ldxdw %r1, [%r0+8]
done:
mov %r0, 0
exit
