# -(x & 1) is 0 or -1; masked with 63 it is 0 or 63, not anything between: past "> 8" only 0 is left.
# type: socket_filter
# kernel: accept
stdw [%r10-8], 1
lddw %r1, map_idx(0)
mov %r2, %r10
add %r2, -8
call 1
jeq %r0, 0, done
mov %r7, %r0
call 7
mov %r8, %r0
and %r8, 1
neg %r8
and %r8, 63
jgt %r8, 8, done
add %r7, %r8
ldxdw %r0, [%r7+8]
done:
mov %r0, 0
exit
