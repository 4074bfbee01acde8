# A cast of skb->sk holds no reference: it cannot be released.
# type: sched_cls
# kernel: reject at 5: R1 must be referenced when passed to release function
ldxdw %r1, [%r1+168]
jeq %r1, 0, +4
call 95
jeq %r0, 0, +2
mov %r1, %r0
call 86
mov %r0, 0
exit
