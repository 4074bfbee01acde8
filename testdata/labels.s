# Several symbols at one address, for objdump: llvm-objdump labels the address (and every jump to it) with
# the greatest name. Local labels that are not .L-temporaries stay in the symbol table, in the assembler's
# order, which is not name order.
	.text
	.globl	f
	.type	f,@function
f:
	if r1 == 0 goto zeta
	if r1 == 1 goto alpha
	if r1 == 2 goto mid
	r0 = 1
alpha:
mid:
zeta:
LBB0_9:
	r0 = 0
	exit
	.size	f, .-f

	.section	sec2,"ax",@progbits
	.globl	g
	.type	g,@function
g:
	if r1 == 0 goto b2
	if r1 == 1 goto into_k
	r0 = 3
b3:
b1:
b2:
	exit
	.size	g, .-g
# a function symbol and labels at one address; a label and an object symbol at another
	.globl	k
	.type	k,@function
zz:
k:
into_k:
	if r1 == 0 goto n1
	exit
n1:
	.type	m,@object
m:
	exit
	.size	k, .-k
