# A callback's stack counts on the chain of the function that takes its address.
# type: socket_filter
# btf: func_info
# kernel: reject at null: combined stack size of 2 calls is 592. Too large
stdw [%r10-384], 0
mov %r1, 1
lddw %r2, func(cb)
mov %r3, 0
mov %r4, 0
call 181
mov %r0, 0
exit
cb:
stdw [%r10-200], 0
mov %r0, 0
exit
