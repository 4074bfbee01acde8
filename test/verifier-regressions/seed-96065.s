# sock_ops writes reply and sk_txhash alone: not replylong[2].
# type: sock_ops
# btf: func_info
# kernel: reject at 13: invalid bpf_context access off=12 size=4
mov %r6, %r1
stdw [%r10-64], 0
stdw [%r10-56], 0
stdw [%r10-48], 0
mov %r3, %r10
add %r3, -64
lddw %r1, map_idx(0)
lddw %r2, func(+7)
mov %r4, 0
call 164
ldxw %r5, [%r6]
stw [%r6+12], 3
mov %r0, 1
exit
ldxdw %r7, [%r4+16]
mov %r0, 1
exit

