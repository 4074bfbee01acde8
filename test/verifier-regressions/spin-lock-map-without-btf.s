# A lock needs the map's BTF to say where it is.
# type: cgroup_skb
# kernel: reject at 9: map 'tsbpf_array' has to have BTF in order to use bpf_spin_lock
stw [%r10-4], 0
lddw %r1, map_idx(1)
mov %r2, %r10
add %r2, -4
call 1
jne %r0, 0, +1
exit
mov %r1, %r0
call 93
mov %r0, 0
exit
