# Classic packet loads in a cgroup socket hook, reached after a subprogram call: refused there.
# type: cgroup_sock
# attach: cgroup_inet4_post_bind
# kernel: reject at 18: BPF_LD_[ABS|IND] instructions not allowed for this program type
mov %r6, %r1
ldxw %r7, [%r6+52]
and %r7, 256
xor32 %r7, -8
movsx864 %r7, %r7
movsx3264 %r7, %r7
jsgt %r7, 31, out
jslt %r7, 0, out
stdw [%r10-32], 0
stdw [%r10-24], 0
mov %r1, %r10
add %r1, -32
add %r1, %r7
ldxb %r0, [%r1+0]
mov %r1, %r6
call local f0
call 7
mov %r7, %r0
ldindw %r7, 6
mov %r8, %r0
ldabsb 41
call 7
mov %r7, %r0
ldindh %r7, 2
mov %r7, %r10
add %r7, 8
mov %r0, 1
exit
out:
mov %r0, 0
exit
f0:
ldxw %r0, [%r1+44]
exit
