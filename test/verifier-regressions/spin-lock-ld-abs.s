# A classic packet load may end the program: not under a lock.
# type: sched_cls
# kernel: reject at 14: BPF_LD_[ABS|IND] cannot be used inside bpf_spin_lock-ed region
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
mov %r7, %r1
call 93
mov %r6, %r7
ldabsb 0
mov %r0, 0
exit
