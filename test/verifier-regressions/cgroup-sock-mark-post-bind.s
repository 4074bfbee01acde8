# The mark is the creation hook's to set: a post_bind4 program may not even read it.
# type: cgroup_sock
# attach: cgroup_inet4_post_bind
# kernel: reject at 0: invalid bpf_context access off=16 size=4
ldxw %r0, [%r1+16]
mov %r0, 1
exit
