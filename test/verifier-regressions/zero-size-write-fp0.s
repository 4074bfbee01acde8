# A zero-sized write, the same.
# type: perf_event
# kernel: reject at 7: invalid write to stack R1 off=0 size=0
mov %r6, %r1
stdw [%r10-8], 0
stdw [%r10-16], 0
mov %r2, 0
ldxdw %r3, [%r6+8]
mov %r1, %r10
add %r6, -16
call 113
mov %r0, 0
exit

