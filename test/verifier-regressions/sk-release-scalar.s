# bpf_sk_release takes a socket or a BTF pointer to one (ARG_PTR_TO_BTF_ID_SOCK_COMMON), as the kernel lists.
# type: sched_cls
# kernel: reject at 1: R1 type=scalar expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_
mov %r1, 5
call 86
mov %r0, 0
exit
