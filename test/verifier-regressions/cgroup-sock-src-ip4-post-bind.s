# After bind (post_bind4) the source address and port are there to read, but not to write.
# type: cgroup_sock
# attach: cgroup_inet4_post_bind
# kernel: accept
ldxw %r0, [%r1+24]
ldxh %r2, [%r1+44]
mov %r0, 1
exit
