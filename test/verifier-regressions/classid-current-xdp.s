# An xdp program's bpf_get_cgroup_classid is the current task's: it takes no context argument.
# type: xdp
# kernel: accept
mov %r6, %r1
call 5
mov %r9, %r0
mul %r9, 63
xor %r9, 7
sub32 %r9, -64
jgt %r9, 64, +8
jslt %r9, -4, +7
mov %r2, %r9
mov %r1, %r10
add %r1, -16
call 17
ldxdw %r9, [%r10-16]
mov %r0, 2
exit
mov %r0, 1
exit

