# Classic packet loads exist only for socket filters and tc programs: a cgroup skb program may not use them.
# type: cgroup_skb
# kernel: reject at 1: BPF_LD_[ABS|IND] instructions not allowed for this program type
mov %r6, %r1
ldabsb 12
mov %r0, 1
exit
