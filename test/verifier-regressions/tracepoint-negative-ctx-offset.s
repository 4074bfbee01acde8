# A tracepoint reads its context at any negative, aligned offset: the kernel compares it as unsigned.
# type: tracepoint
# kernel: accept
mov %r6, %r1
ldxdw %r7, [%r6+24]
and %r7, 7
and %r7, 63
jgt %r7, 4096, +7
jsle %r7, -4, -1
movsx832 %r7, %r7
ldxdw %r0, [%r6+48]
ldxdw %r2, [%r6-32768]
ldxdw %r4, [%r6+40]
mov %r0, 1
exit
mov %r0, 0
exit

