# A branch the bounds rule out (s> 0 and s<= 56 on multiples of 2^23) is still walked with r8 = 0: the kernel only prunes what is_branch_taken decides, so the later bad read is found.
# type: sched_cls
# kernel: reject at 19: R7 min value is outside of the allowed memory range
mov %r6, %r1
stdw [%r10-8], 1
lddw %r1, map_idx(5)
mov %r2, %r10
add %r2, -8
call 1
jeq %r0, 0, l0
mov %r7, %r0
call 7
mov %r8, %r0
mul %r8, 219
lsh %r8, 5
lsh %r8, 18
jsgt %r8, 56, l0
jslt %r8, 1, l0
mov %r1, %r7
add %r1, %r8
stb [%r1+0], 1
ldxw %r0, [%r7-4]
mov %r8, 1
xor32 %r8, 4
add %r8, 64
mov %r1, %r7
add %r1, %r8
ldxw %r0, [%r1+0]
add %r7, 8
ldxb %r0, [%r7+0]
l0:
mov %r1, %r6
lddw %r2, map_idx(4)
mov %r3, 2
call 12
mov %r0, 2
exit
