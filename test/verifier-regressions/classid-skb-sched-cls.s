# tc reads the packet's classid: its argument must be the context.
# type: sched_cls
# kernel: reject at 2: R1 type=fp expected=ctx
mov %r1, %r10
add %r1, -8
call 17
mov %r0, 0
exit
