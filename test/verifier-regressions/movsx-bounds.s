# movsx of a value in [0, 16] leaves it in [0, 16]: it stays a good offset into a 32-byte buffer.
# type: socket_filter
# kernel: accept
mov %r6, %r1
call 7
mov %r7, %r0
and %r7, 31
jgt %r7, 16, out
movsx3264 %r7, %r7
stdw [%r10-32], 0
stdw [%r10-24], 0
stdw [%r10-16], 0
mov %r1, %r10
add %r1, -32
add %r1, %r7
ldxb %r0, [%r1+15]
out:
mov %r0, 0
exit
