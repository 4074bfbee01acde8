# Without BTF func_info, a subprogram may not tail-call (check_abnormal_return).
# type: socket_filter
# kernel: reject at null: tail_call is not allowed in subprogs without BTF
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
