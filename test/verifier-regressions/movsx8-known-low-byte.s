# (s8) of a value whose low byte is known (zero) is known, whatever the upper bits.
# type: sched_cls
# kernel: accept
mov %r6, %r1
call 5
mov %r7, %r0
arsh32 %r7, 31
lsh %r7, 48
neg %r7
jsge32 %r7, 56, out
movsx864 %r7, %r7
stdw [%r10-8], -1
ldxsb %r8, [%r10-8]
add %r7, %r8
jsgt %r7, 31, out
jslt %r7, 0, out
stdw [%r10-32], 0
stdw [%r10-24], 0
mov %r1, %r10
add %r1, -32
add %r1, %r7
ldxb %r0, [%r1+0]
lddw %r1, map_idx(2)
mov %r2, 16
mov %r3, 0
call 131
jeq %r0, 0, l0
mov %r7, %r0
stdw [%r7+8], 9
stdw [%r7+8], 0
mov %r1, %r7
mov %r2, 0
call 132
l0:
mov %r7, %r10
sub %r7, %r6
jeq %r7, 0, +1
mov %r0, 1
stdw [%r7-8], 0
call 5
mov %r0, %r0
exit
out:
mov %r0, 1
exit
