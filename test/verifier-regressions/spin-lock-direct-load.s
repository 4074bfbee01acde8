# The lock's own bytes are not to be read.
# type: cgroup_skb
# kernel: reject at 14: bpf_spin_lock cannot be accessed directly by load/store
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
call 93
mov %r1, %r6
add %r1, 4
ldxw %r0, [%r1+0]
call 94
mov %r0, 0
exit
