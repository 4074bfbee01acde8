# A stack pointer is no lock.
# type: cgroup_skb
# kernel: reject at 13: R1 type=fp expected=map_value, ptr_
stw [%r10-4], 0
lddw %r1, map_idx(8)
mov %r2, %r10
add %r2, -4
call 1
jne %r0, 0, +1
exit
mov %r6, %r0
mov %r1, %r0
add %r1, 4
mov %r1, %r10
add %r1, -8
call 93
mov %r0, 0
exit
