# A ring buffer record's size is kept in 32 bits: 0xffffffbf00000000 reserves 0 bytes, and no write fits.
# type: socket_filter
# kernel: reject at 13: R7 min value is outside of the allowed memory range
mov %r6, %r1
lddw %r1, map_idx(2)
mov %r2, 2
neg %r2
sub32 %r2, 63
lsh %r2, 32
jsgt %r2, 64, out
jlt %r2, 0, out
mov %r3, 0
call 131
jeq %r0, 0, l0
mov %r7, %r0
stdw [%r7+0], 0
mov %r1, %r7
mov %r2, 0
call 132
l0:
mov %r0, 0
exit
out:
mov %r0, 1
exit
