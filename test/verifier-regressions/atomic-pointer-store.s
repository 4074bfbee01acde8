# A privileged program may store a pointer into a map value with an atomic exchange (no leak for root).
# type: socket_filter
# kernel: accept
stdw [%r10-8], 1
lddw %r1, map_idx(5)
mov %r2, %r10
add %r2, -8
call 1
jeq %r0, 0, done
mov %r7, %r0
lock xchg [%r7+0], %r0
done:
mov %r0, 0
exit
