# A function that tail-calls, below 264 bytes of its caller's stack.
# type: socket_filter
# btf: func_info
# kernel: reject at null: tail_calls are not allowed when call stack of previous frames is 272 bytes. Too large
stdw [%r10-264], 0
mov %r1, %r1
call local f
mov %r0, 0
exit
f:
lddw %r2, map_idx(4)
mov %r3, 0
call 12
mov %r0, 0
exit
