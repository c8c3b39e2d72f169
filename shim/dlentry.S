/*
 * dlentry.S - the shim's dlsym, dlvsym and dlopen: entry points with no
 * frame of their own.
 *
 * glibc's dlsym(RTLD_NEXT | RTLD_DEFAULT, ...) and dlopen take the caller's
 * object from their return address: RTLD_NEXT searches after the caller's
 * object (a libfaketime- or sanitizer-style preload finding the function it
 * wraps), dlopen picks the caller's namespace and searches its DT_RUNPATH /
 * DT_RPATH ($ORIGIN). A wrapper with a frame would make that address ours.
 * So these entries only test their arguments and jump:
 *
 *   dlsym, dlvsym   RTLD_NEXT or RTLD_DEFAULT: jump to libc's, the caller's
 *                   return address untouched. A real handle: jump to
 *                   zcs_dlsym_handle / zcs_dlvsym_handle (dlsym.c), which
 *                   return to the caller themselves (a lookup in a given
 *                   object does not depend on who asks).
 *   dlopen          without RTLD_DEEPBIND: jump to libc's. With it, ask
 *                   zcs_deepbind_plan (deepbind.c) whether opening from a
 *                   frame of ours gives the same result; if so jump to
 *                   zcs_deepbind_open, else to libc's.
 *
 * libc's functions are found on first use (zcs_dl_resolve, dlreal.c): these
 * can be called from other libraries' constructors before ours ran. Without
 * them (not glibc) the answer is NULL, as for a failed lookup.
 */
#define ZCS_RTLD_DEEPBIND 0x8 /* <dlfcn.h>; the same on x86-64 and aarch64 */

#if defined(__x86_64__)

#ifdef __CET__
#define LANDING endbr64
#else
#define LANDING
#endif

	.hidden zcs_real_dlsym, zcs_real_dlvsym, zcs_real_dlopen
	.hidden zcs_dl_resolve, zcs_dlsym_handle, zcs_dlvsym_handle
	.hidden zcs_deepbind_plan, zcs_deepbind_open
	.text

/* Jump to *slot; resolve first if it is still NULL, keeping the argument
 * registers (three: enough for all three functions). On entry %rsp is 8
 * mod 16; three pushes make it 0, as a call needs. */
.macro tail_to slot
	movq	\slot(%rip), %rax
	testq	%rax, %rax
	jz	1f
	jmp	*%rax
1:	pushq	%rdi
	.cfi_adjust_cfa_offset 8
	pushq	%rsi
	.cfi_adjust_cfa_offset 8
	pushq	%rdx
	.cfi_adjust_cfa_offset 8
	call	zcs_dl_resolve
	popq	%rdx
	.cfi_adjust_cfa_offset -8
	popq	%rsi
	.cfi_adjust_cfa_offset -8
	popq	%rdi
	.cfi_adjust_cfa_offset -8
	movq	\slot(%rip), %rax
	testq	%rax, %rax
	jz	2f
	jmp	*%rax
2:	xorl	%eax, %eax
	ret
.endm

	.globl	dlsym
	.type	dlsym, @function
	.p2align 4
dlsym:
	.cfi_startproc
	LANDING
	cmpq	$-1, %rdi		/* RTLD_NEXT */
	je	3f
	testq	%rdi, %rdi		/* RTLD_DEFAULT */
	je	3f
	jmp	zcs_dlsym_handle
3:	tail_to	zcs_real_dlsym
	.cfi_endproc
	.size	dlsym, .-dlsym

	.globl	dlvsym
	.type	dlvsym, @function
	.p2align 4
dlvsym:
	.cfi_startproc
	LANDING
	cmpq	$-1, %rdi
	je	3f
	testq	%rdi, %rdi
	je	3f
	jmp	zcs_dlvsym_handle
3:	tail_to	zcs_real_dlvsym
	.cfi_endproc
	.size	dlvsym, .-dlvsym

	.globl	dlopen
	.type	dlopen, @function
	.p2align 4
dlopen:
	.cfi_startproc
	LANDING
	testl	$ZCS_RTLD_DEEPBIND, %esi
	jnz	4f
3:	tail_to	zcs_real_dlopen
4:	/* plan(file, mode, caller): may we open it from a frame of ours? */
	pushq	%rdi
	.cfi_adjust_cfa_offset 8
	pushq	%rsi
	.cfi_adjust_cfa_offset 8
	subq	$8, %rsp
	.cfi_adjust_cfa_offset 8
	movq	24(%rsp), %rdx		/* our return address: the caller's code */
	call	zcs_deepbind_plan
	addq	$8, %rsp
	.cfi_adjust_cfa_offset -8
	popq	%rsi
	.cfi_adjust_cfa_offset -8
	popq	%rdi
	.cfi_adjust_cfa_offset -8
	testl	%eax, %eax
	jz	3b
	jmp	zcs_deepbind_open
	.cfi_endproc
	.size	dlopen, .-dlopen

#elif defined(__aarch64__)

	.hidden zcs_real_dlsym, zcs_real_dlvsym, zcs_real_dlopen
	.hidden zcs_dl_resolve, zcs_dlsym_handle, zcs_dlvsym_handle
	.hidden zcs_deepbind_plan, zcs_deepbind_open
	.text

/* The caller's return address is in x30 on entry and stays there: every
 * path restores it before branching on. */
.macro tail_to slot
	adrp	x16, \slot
	ldr	x16, [x16, :lo12:\slot]
	cbz	x16, 1f
	br	x16
1:	stp	x29, x30, [sp, #-48]!
	.cfi_adjust_cfa_offset 48
	.cfi_rel_offset x29, 0
	.cfi_rel_offset x30, 8
	mov	x29, sp
	stp	x0, x1, [sp, #16]
	str	x2, [sp, #32]
	bl	zcs_dl_resolve
	ldp	x0, x1, [sp, #16]
	ldr	x2, [sp, #32]
	ldp	x29, x30, [sp], #48
	.cfi_adjust_cfa_offset -48
	.cfi_restore x29
	.cfi_restore x30
	adrp	x16, \slot
	ldr	x16, [x16, :lo12:\slot]
	cbz	x16, 2f
	br	x16
2:	mov	x0, #0
	ret
.endm

	.globl	dlsym
	.type	dlsym, %function
	.p2align 4
dlsym:
	.cfi_startproc
	cmn	x0, #1			/* RTLD_NEXT */
	b.eq	3f
	cbz	x0, 3f			/* RTLD_DEFAULT */
	b	zcs_dlsym_handle
3:	tail_to	zcs_real_dlsym
	.cfi_endproc
	.size	dlsym, .-dlsym

	.globl	dlvsym
	.type	dlvsym, %function
	.p2align 4
dlvsym:
	.cfi_startproc
	cmn	x0, #1
	b.eq	3f
	cbz	x0, 3f
	b	zcs_dlvsym_handle
3:	tail_to	zcs_real_dlvsym
	.cfi_endproc
	.size	dlvsym, .-dlvsym

	.globl	dlopen
	.type	dlopen, %function
	.p2align 4
dlopen:
	.cfi_startproc
	tst	w1, #ZCS_RTLD_DEEPBIND
	b.ne	4f
3:	tail_to	zcs_real_dlopen
4:	stp	x29, x30, [sp, #-32]!
	.cfi_adjust_cfa_offset 32
	.cfi_rel_offset x29, 0
	.cfi_rel_offset x30, 8
	mov	x29, sp
	stp	x0, x1, [sp, #16]
	mov	x2, x30			/* the caller's code */
	bl	zcs_deepbind_plan
	mov	w9, w0
	ldp	x0, x1, [sp, #16]
	ldp	x29, x30, [sp], #32
	.cfi_adjust_cfa_offset -32
	.cfi_restore x29
	.cfi_restore x30
	cbz	w9, 3b
	b	zcs_deepbind_open
	.cfi_endproc
	.size	dlopen, .-dlopen

#endif

	.section .note.GNU-stack, "", %progbits
