# Multiplication keeps the known bits of both operands (tnum_mul by partial sums).
# type: sched_cls
# kernel: accept
mov %r6, %r1
ldxw %r2, [%r6+76]
ldxw %r3, [%r6+80]
mov %r4, %r2
add %r4, 20
jlt %r3, %r4, out
ldxdw %r5, [%r2+9]
stw [%r2+13], 0
ldxh %r5, [%r2+0]
ldxw %r2, [%r6+76]
ldxw %r3, [%r6+80]
mov %r4, %r2
add %r4, 34
jgt %r4, %r3, out
ldxdw %r5, [%r2+24]
ldxb %r5, [%r2+6]
and %r5, 63
add %r2, %r5
mov %r4, %r2
add %r4, 8
jgt %r4, %r3, out
ldxw %r0, [%r2+0]
stdw [%r10-8], 0
stdw [%r10-16], 0
mov %r4, 14
mov %r1, %r6
mov %r2, 12
mov %r3, %r10
add %r3, -16
call 26
stdw [%r10-8], 0
stdw [%r10-16], 0
stdw [%r10-24], 0
stdw [%r10-32], 0
stdw [%r10-40], 0
stdw [%r10-48], 0
stdw [%r10-56], 0
stdw [%r10-64], 0
ldxw %r9, [%r6+8]
or32 %r9, -8
add %r9, 175
mul %r9, -1
jgt %r9, 63, out
jlt %r9, 0, out
mov %r4, %r9
mov %r1, %r6
mov %r2, 20
mov %r3, %r10
add %r3, -64
call 26
ldxdw %r0, [%r10-64]
call 5
mov %r0, %r0
and %r0, 1
exit
out:
mov %r0, 1
exit
