# bpf_for_each_map_elem on a map of maps, which cannot walk its elements.
# type: socket_filter
# btf: func_info
# kernel: reject at 6: callback function not allowed for map
lddw %r1, map_idx(6)
lddw %r2, func(cb)
mov %r3, 0
mov %r4, 0
call 164
mov %r0, 0
exit
cb:
mov %r0, 0
exit
