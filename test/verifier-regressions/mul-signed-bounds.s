# x * -1 keeps signed bounds (the corner products), so after - 64 every value is >= 56 unsigned and the branch is known.
# type: sched_cls
# kernel: accept
mov %r6, %r1
ldxw %r9, [%r6+0]
mul %r9, -1
add %r9, -64
jge %r9, 56, out
mov %r4, %r9
mov %r1, %r6
mov %r2, 1
mov %r3, %r10
add %r3, -16
call 26
mov %r7, %r10
neg %r7
stdw [%r7-8], 0
mov %r0, -1
exit
out:
mov %r0, 1
exit
