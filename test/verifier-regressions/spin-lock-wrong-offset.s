# The lock is at offset 4 of the value.
# type: cgroup_skb
# kernel: reject at 12: off 8 doesn't point to 'struct bpf_spin_lock' that is at 4
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
add %r1, 4
call 93
mov %r0, 0
exit
