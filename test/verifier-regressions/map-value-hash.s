# A direct map value load needs a single-element array: a hash map has no fixed value address.
# type: socket_filter
# kernel: reject at null: no direct value access support for this map type
lddw %r1, map_idx_value(0, 0)
mov %r0, 0
exit
