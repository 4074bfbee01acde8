# A callee may not keep a pointer to its own stack in its caller frame.
# type: lwt_in
# btf: func_info
# kernel: reject at 53: cannot spill pointers to stack into stack frame of the caller
mov %r6, %r1
lddw %r1, map_idx(2)
mov %r2, 8
mov %r3, 0
call 131
jeq %r0, 0, +4
mov %r7, %r0
mov %r1, %r7
mov %r2, 0
call 133
mov %r1, 16
stxdw [%r10-80], %r1
stdw [%r10-64], 0
stdw [%r10-56], 0
stdw [%r10-48], 0
mov %r3, %r10
add %r3, -64
ldxdw %r1, [%r10-80]
lddw %r2, func(+31)
mov %r4, 0
call 181
stdw [%r10-8], 8
stdw [%r10-16], 16
mov %r1, %r6
lddw %r2, map_idx(7)
lddw %r3, 0xffffffff
mov %r4, %r10
add %r4, -16
mov %r5, 0
call 25
mov %r7, 1
stxw [%r10-8], %r7
lddw %r1, map_idx(6)
mov %r2, %r10
add %r2, -8
call 1
jeq %r0, 0, +7
stw [%r10-16], 1
mov %r1, %r0
mov %r2, %r10
add %r2, -16
call 1
jeq %r0, 0, +1
ldxdw %r1, [%r0]
mov %r0, 1
exit
ldxdw %r7, [%r2]
add %r7, 1
stxdw [%r2], %r10
mov %r0, 0
exit

