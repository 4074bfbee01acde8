# Bounds [2, 8] and known bits (multiples of 32) meet in no value; the kernel makes it the constant 0 and walks on, refusing the zero-sized helper read.
# type: sched_cls
# kernel: reject at 14: R4 invalid zero-sized read: u64=[0,0]
mov %r6, %r1
stdw [%r10-8], 0
stdw [%r10-16], 0
mov %r9, 256
div %r9, 4
mul %r9, 4095
mul %r9, 32
jsgt %r9, 8, out
jsle %r9, 1, out
mov %r4, %r9
mov %r1, %r6
mov %r2, 9
mov %r3, %r10
add %r3, -16
call 26
ldxdw %r0, [%r10-16]
ldxw %r0, [%r6+12]
ldxw %r3, [%r6+0]
ldxw %r7, [%r6+0]
stxw [%r10-8], %r7
stdw [%r10-24], 0
lddw %r1, map_idx(3)
mov %r2, %r10
add %r2, -8
mov %r3, %r10
add %r3, -24
mov %r4, 0
call 2
mov %r0, 1
exit
out:
mov %r0, 1
exit
