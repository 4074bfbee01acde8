# A tail call does not return: a ring buffer record held across it would never be released.
# type: socket_filter
# kernel: reject at 12: tail_call would lead to reference leak
mov %r6, %r1
lddw %r1, map_idx(2)
mov %r2, 8
mov %r3, 0
call 131
jeq %r0, 0, done
mov %r7, %r0
mov %r1, %r6
lddw %r2, map_idx(4)
mov %r3, 0
call 12
mov %r1, %r7
mov %r2, 0
call 133
done:
mov %r0, 0
exit
