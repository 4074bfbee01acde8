# Without BTF func_info, a subprogram may not use LD_ABS.
# type: socket_filter
# kernel: reject at null: LD_ABS is not allowed in subprogs without BTF
mov %r6, %r1
call local f
mov %r0, 0
exit
f:
ldabsb 0
exit
