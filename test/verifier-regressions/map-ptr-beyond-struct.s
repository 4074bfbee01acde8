# A read through a map's pointer past the kernel's struct for it (struct bpf_array, 312 bytes, in 6.18).
# type: socket_filter
# kernel: reject at 2: access beyond struct bpf_array at off 305 size 8
lddw %r1, map_idx(1)
ldxdw %r0, [%r1+305]
exit
