# (s8) of a value whose low 32 bits are 485 is -27, but the kernel only keeps a 32-bit range the byte already holds: it has [-128, 127], and so must we.
# type: sched_cls
# kernel: reject at 28: math between map_value pointer and register with unbounded min value is not allowed
mov %r6, %r1
ldxw %r7, [%r6+8]
lsh %r7, 33
sub %r7, -230
add %r7, 255
movsx864 %r7, %r7
movsx864 %r7, %r7
jsgt %r7, 31, out
jslt %r7, -8, out
stdw [%r10-32], 0
stdw [%r10-24], 0
mov %r1, %r10
add %r1, -32
add %r1, %r7
ldxb %r0, [%r1+0]
stw [%r10-4], 6
lddw %r1, map_idx(0)
mov %r2, %r10
add %r2, -4
call 1
jne %r0, 0, l1
ja l0
l1:
mov %r7, %r0
ldxw %r0, [%r7+12]
call 5
mov %r8, %r0
mov %r1, %r7
add %r1, %r8
stdw [%r1+0], 1
l0:
call 7
mov %r7, %r0
div %r7, 2147483647
mod32 %r7, 256
jge %r7, 32, out
jlt %r7, -4, out
movsx832 %r7, %r7
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
mov %r0, -1
exit
out:
mov %r0, 1
exit
