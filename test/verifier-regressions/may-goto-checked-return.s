# The same loop where the program type checks R0 at exit (cgroup_skb: 0 or 1): R0 is precise, and the
# counter reaches 2 on the third round.
# type: cgroup_skb
# kernel: reject at 4: At program exit the register R0 has smin=2 smax=2 should have been in [0, 1]
mov %r0, 0
l: may_goto +2
add %r0, 1
ja l
exit
