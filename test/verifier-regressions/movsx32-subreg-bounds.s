# (s32) of a value whose low 32 bits are bounded keeps those bounds: sign-extended, they are its signed range.
# type: xdp
# kernel: accept
mov %r6, %r1
mov %r7, 63
arsh %r7, 38
div %r7, 256
or %r7, 64
movsx3264 %r7, %r7
stdw [%r10-8], -1
ldxsh %r8, [%r10-8]
add %r7, %r8
jsgt %r7, 31, out
jslt %r7, 0, out
stdw [%r10-32], 0
stdw [%r10-24], 0
mov %r1, %r10
add %r1, -32
add %r1, %r7
ldxb %r0, [%r1+0]
ldxw %r2, [%r6+0]
ldxw %r3, [%r6+4]
mov %r4, %r2
add %r4, 34
jge %r3, %r4, out
ldxdw %r5, [%r2+8]
mov %r0, 0
exit
out:
mov %r0, 0
exit
