# perf_event_output may not read the packet: it lacks pkt_access.
# type: xdp
# kernel: reject at 16: helper access to the packet is not allowed
mov %r6, %r1
ldxw %r2, [%r6+8]
ldxw %r3, [%r6]
mov %r4, %r2
add %r4, 8
jgt %r4, %r3, +30
ldxdw %r5, [%r2]
stdw [%r10-8], 8
mov %r1, %r6
lddw %r2, map_idx(7)
lddw %r3, 0xffffffff
mov %r3, %r10
add %r4, -8
mov %r5, 8
call 25
stw [%r10-4], 0
lddw %r1, map_idx(8)
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, +12
mov %r8, %r0
mov %r1, %r8
add %r1, 4
call 93
ldxw %r0, [%r8]
add %r0, 1
stxw [%r8], %r0
mov %r1, %r8
add %r1, 4
call 94
mov %r0, 0
exit
mov %r0, 0
exit

