# A path that leaves without unlocking.
# type: cgroup_skb
# kernel: reject at 18: BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region
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
ldxw %r0, [%r6+0]
jne %r0, 0, +1
call 94
mov %r0, 0
exit
