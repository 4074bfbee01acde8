# A cgroup socket-creation hook may not read the socket's source address: it is not bound yet.
# type: cgroup_sock
# kernel: reject at 0: invalid bpf_context access off=24 size=4
ldxw %r0, [%r1+24]
mov %r0, 1
exit
