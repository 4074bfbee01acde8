# be16 moves the known bits with the bytes: (x & 0xff) swapped has a zero low byte, so masking it gives 0.
# type: socket_filter
# kernel: accept
call 7
mov %r8, %r0
and %r8, 255
be16 %r8
and %r8, 255
stdw [%r10-8], 1
lddw %r1, map_idx(0)
mov %r2, %r10
add %r2, -8
call 1
jeq %r0, 0, done
add %r0, %r8
ldxdw %r1, [%r0+8]
done:
mov %r0, 0
exit
