# One load sees the stack on one path and the context on the other: the kernel rewrites ctx loads, so it refuses.
# type: sched_cls
# kernel: reject at 7: same insn cannot be used with different pointers
mov %r6, %r1
stdw [%r10-8], 0
call 7
mov %r1, %r6
jeq %r0, 0, +2
mov %r1, %r10
add %r1, -8
ldxw %r0, [%r1+0]
exit
