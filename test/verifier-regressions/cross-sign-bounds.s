# A signed range crossing zero, [-4, 55], and an unsigned one of multiples of 64 meet only at 0.
# type: socket_filter
# kernel: accept
stdw [%r10-8], 0
lddw %r1, map_idx(5)
mov %r2, %r10
add %r2, -8
call 1
jeq %r0, 0, done
mov %r7, %r0
call 5
mov %r8, %r0
neg %r8
mul %r8, 64
jsge %r8, 56, done
jslt %r8, -4, done
mov %r1, %r7
add %r1, %r8
ldxw %r0, [%r1+0]
done:
mov %r0, 0
exit
