# A NULL buffer may be passed to bpf_csum_diff only with a size of 0: here the size may be up to 64.
# type: sched_cls
# kernel: reject at 6: R1 type=scalar expected=fp
ldxw %r2, [%r1+0]
mov %r1, 0
and %r2, 64
mov %r3, 0
mov %r4, 0
mov %r5, 0
call 28
exit
