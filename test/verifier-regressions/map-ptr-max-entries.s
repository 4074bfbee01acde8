# map->max_entries read through a hash map's pointer (struct bpf_map's field at offset 76).
# type: socket_filter
# kernel: accept
lddw %r1, map_idx(0)
ldxw %r0, [%r1+76]
exit
