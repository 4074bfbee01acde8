# When the cast is NULL, the socket it was made from is still held.
# type: sched_cls
# kernel: reject at 22: BPF_EXIT instruction in main prog would lead to reference leak
mov %r6, %r1
stdw [%r10-8], 0
stdw [%r10-16], 0
stdw [%r10-24], 0
stdw [%r10-32], 0
stdw [%r10-40], 0
mov %r1, %r6
mov %r2, %r10
add %r2, -40
mov %r3, 12
mov %r4, 0
mov %r5, 0
call 99
jeq %r0, 0, out
mov %r7, %r0
mov %r1, %r0
call 95
jeq %r0, 0, rel
mov %r1, %r0
call 86
ja out
rel:
out:
mov %r0, 0
exit
