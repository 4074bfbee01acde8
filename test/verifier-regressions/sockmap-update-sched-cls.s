# A tc program may put a socket it looked up in a sockmap back into one, and releases it.
# type: sched_cls
# kernel: accept
stw [%r10-4], 0
lddw %r1, map_idx(10)
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
mov %r6, %r0
lddw %r1, map_idx(10)
mov %r2, %r10
add %r2, -4
mov %r3, %r6
mov %r4, 0
call 2
mov %r1, %r6
call 86
out:
mov %r0, 0
exit
