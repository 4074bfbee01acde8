# A sign-extending load of a plain context field is allowed.
# type: sched_cls
# kernel: accept
ldxsw %r2, [%r1+0]
mov %r0, 0
exit
