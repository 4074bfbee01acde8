# A product's bounds size a helper's stack buffer.
# type: sched_cls
# kernel: accept
mov %r6, %r1
mov %r7, 32
ldindh %r7, 7
mov %r8, %r0
ldxw %r7, [%r6+16]
ldindb %r7, 10
ldabsb 0
stdw [%r10-8], 0
stdw [%r10-16], 0
stdw [%r10-24], 0
stdw [%r10-32], 0
stdw [%r10-40], 0
stdw [%r10-48], 0
stdw [%r10-56], 0
stdw [%r10-64], 0
ldxw %r9, [%r6+44]
or %r9, 1
mul %r9, -1
mul %r9, 15
jsgt %r9, 89, out
jslt %r9, 1, out
mov %r4, %r9
mov %r1, %r6
mov %r2, 12
mov %r3, %r10
add %r3, -64
call 26
stw [%r10-8], 9
lddw %r1, map_idx(0)
mov %r2, %r10
add %r2, -8
call 1
jeq %r0, 0, l0
mov %r7, %r0
ldxdw %r0, [%r7+8]
ldxw %r0, [%r7+8]
l0:
stdw [%r10-8], 0
lddw %r1, map_idx(5)
mov %r2, %r10
add %r2, -8
call 1
jne %r0, 0, l2
ja l1
l2:
mov %r7, %r0
ldxh %r0, [%r7+2]
add %r7, 8
ldxb %r0, [%r7+0]
l1:
mov %r0, 0
exit
out:
mov %r0, 1
exit
