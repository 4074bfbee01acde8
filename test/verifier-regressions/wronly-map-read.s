# A map created with BPF_F_WRONLY_PROG may be written but not read by the program.
# type: socket_filter
# kernel: reject at 8: read from map forbidden, value_size=48 off=0 size=8
stw [%r10-4], 0
lddw %r1, map_idx(11)
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, +2
stdw [%r0+8], 1
ldxdw %r1, [%r0+0]
mov %r0, 0
exit
