# A cgroup socket program's bpf_get_cgroup_classid takes no argument either.
# type: cgroup_sock
# attach: cgroup_inet_sock_release
# kernel: accept
mov %r6, %r1
lddw %r1, map_idx(2)
mov %r2, 64
mov %r3, 0
call 131
jeq %r0, 0, +5
mov %r7, %r0
stdw [%r7+32], 3
mov %r1, %r7
mov %r2, 0
call 133
stw [%r10-4], 9
lddw %r1, map_idx(1)
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, +12
mov %r7, %r0
call 7
mov %r8, %r0
div %r8, 15
neg %r8
mod %r8, 255
jgt %r8, 5, +5
mov %r1, %r7
add %r1, %r8
ldxb %r0, [%r1]
ldxdw %r0, [%r7]
stxh [%r7+52], %r1
mov %r2, 63
mov %r1, %r10
add %r1, -64
call 17
mov %r0, 1
exit

