/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * thunk.S - where every hooked allocator entry jumps (through its stub, with
 * the hook's index in %r11d). Under byte sampling most calls are left out,
 * and the short way settles the most frequent of them here, on scratch
 * registers alone: a malloc its thread's countdown covers, a free whose block
 * the address set's hint says was never recorded, and (glibc's) a realloc of
 * such a block to a size the countdown covers. It jumps to the original
 * with the stack and the arguments as at entry, so the original returns
 * straight to the caller (no return address swapped: a shadow stack stays
 * valid). It decides malloc and free exactly as agent_enter's framed()
 * would; realloc as agent_leave's decide() would, but before the call, so a
 * realloc that fails has still spent its size of the countdown.
 *
 * Every other call: save the arguments, ask agent_enter, which may still
 * send it to the original the same way; else save the callee-saved registers
 * the unwinder needs, call the original, record, return its result.
 * agent_thunk is linked first, at offset 0 of the agent; the entries of
 * their own at payload.lds's offsets.
 *
 * The frame (offsets from %rsp after the prologue) is struct agent_frame in
 * agent.c; the offsets into the control block are offsets.h's.
 */
#include "offsets.h"

/* Sampling on, and this thread's slot (slot_of's first probe) with no call in progress: else the full way. */
.macro SHORT_WAY_FIRST
	endbr64
	mov agent_ctl+CTL_SAMPLE(%rip), %r8
	test %r8, %r8
	jz .Lfull
	mov %fs:0, %r9
	mov %r9, %rax
	shr $12, %rax
	mov %r9, %r10
	shr $24, %r10
	xor %r10, %rax
	and $1023, %eax
	shl $SLOT_SHIFT, %rax
	lea agent_ctl+CTL_SLOTS(%rip), %r10
	add %r10, %rax
	cmp %r9, SLOT_KEY(%rax)
	jne .Lfull
	cmpl $0, SLOT_DEPTH(%rax)
	jne .Lfull
	cmpl $0, agent_ctl+CTL_ARMED(%rip)
	je .Lfull
	and $15, %r11d
	lea agent_ctl(%rip), %r10
.endm

/* malloc: left out when size < mean and the countdown, drawn at this mean, exceeds size. */
.macro SHORT_MALLOC
	cmp %r8, SLOT_SAMPLE_SEEN(%rax)
	jne .Lfull
	shr $8, %r8
	cmp %r8, %rdi
	jae .Lfull
	cmp %rdi, SLOT_COUNTDOWN(%rax) /* signed, as sample_take: size < mean < 2^56 */
	jle .Lfull
	/* One instruction each, so a signal handler's call in between loses no update of its own. */
	sub %rdi, SLOT_COUNTDOWN(%rax)
	incq SLOT_UNSAMPLED(%rax)
	jmp *CTL_ORIG(%r10,%r11,8)
.endm

/* \reg: where the hint of %rdi's first bucket (agent_set_hash) is; %r8 spoiled. */
.macro HINT_OF reg
	mov %rdi, \reg
	shr $4, \reg
	movabs $SET_HASH_MUL, %r8
	imul %r8, \reg
	mov \reg, %r8
	shr $29, %r8
	xor %r8, \reg
	and CTL_SET_MASK(%r10), \reg
	add CTL_SET_HINT(%r10), \reg
.endm

/* free: left out for NULL, or when the hint of its block's first bucket counts none. */
.macro SHORT_FREE
	test %rdi, %rdi
	jz 1f
	HINT_OF %rax
	cmpb $0, (%rax)
	jne .Lfull
1:	jmp *CTL_ORIG(%r10,%r11,8)
.endm

/*
 * realloc(p, n) of a block never recorded (its hint counts none), to a size
 * the countdown covers: left out as a malloc of n is, decided before the
 * call. Not for p NULL or n 0 (glibc then calls malloc's or free's hooked
 * entry), nor for an mmapped block (glibc may call malloc's hooked entry for
 * it): those take the full way, where the nested call finds the realloc in
 * progress and is not drawn a second time. glibc retries an arena's failure
 * through malloc's entry too; that call, out of memory, is drawn again.
 */
.macro SHORT_REALLOC
	test %rdi, %rdi
	jz .Lfull
	test %rsi, %rsi
	jz .Lfull
	testb $2, -8(%rdi)      /* the chunk's IS_MMAPPED bit */
	jnz .Lfull
	cmp %r8, SLOT_SAMPLE_SEEN(%rax)
	jne .Lfull
	shr $8, %r8
	cmp %r8, %rsi
	jae .Lfull
	cmp %rsi, SLOT_COUNTDOWN(%rax)
	jle .Lfull
	HINT_OF %r9
	cmpb $0, (%r9)
	jne .Lfull
	sub %rsi, SLOT_COUNTDOWN(%rax)
	incq SLOT_UNSAMPLED(%rax)
	jmp *CTL_ORIG(%r10,%r11,8)
.endm

	.section .text.thunk, "ax", @progbits
	.globl agent_thunk
	.hidden agent_thunk
	.type agent_thunk, @function
agent_thunk:
	SHORT_WAY_FIRST
	mov CTL_KIND(%r10,%r11,4), %r9d
	cmp $9, %r9d            /* AGENT_KIND_FREE */
	je .Lfree
	test %r9d, %r9d         /* AGENT_KIND_MALLOC */
	jnz .Lfull
	SHORT_MALLOC
.Lfree:
	SHORT_FREE

.Lfull:
	push %rbp
	mov %rsp, %rbp
	sub $96, %rsp           /* 16-byte aligned: the entry %rsp was 8 mod 16 */
	mov %rdi, 0(%rsp)
	mov %rsi, 8(%rsp)
	mov %rdx, 16(%rsp)
	mov %rcx, 24(%rsp)
	mov %r11, 32(%rsp)
	mov %rsp, %rdi
	call agent_enter        /* the original's relocated entry in %rax; %rdx 0: not to be recorded */
	test %rdx, %rdx
	jnz 2f
	/* Left out after all: the stack as at entry, the original returns straight to the caller. */
	mov 0(%rsp), %rdi
	mov 8(%rsp), %rsi
	mov 16(%rsp), %rdx
	mov 24(%rsp), %rcx
	leave
	jmp *%rax
2:	/* Recorded: callee-saved registers as at entry (agent_enter kept them) for the unwinder. */
	movq $0, 40(%rsp)
	mov %rbx, 48(%rsp)
	mov %r12, 56(%rsp)
	mov %r13, 64(%rsp)
	mov %r14, 72(%rsp)
	mov %r15, 80(%rsp)
	mov 0(%rsp), %rdi
	mov 8(%rsp), %rsi
	mov 16(%rsp), %rdx
	mov 24(%rsp), %rcx
	call *%rax
	mov %rax, 40(%rsp)
	mov %rsp, %rdi
	call agent_leave
	mov 40(%rsp), %rax
	leave
	ret
	.size agent_thunk, . - agent_thunk

/*
 * The same for a malloc's hook, a realloc's and a free's, whose stubs jump here instead:
 * no branch on the kind, and a jump to the original of its own. In a program
 * that mixes its calls (not churn's strict turns), the shared jump and the
 * kind's branch were mispredicted a call in two: the short way cost twice
 * as much. At fixed offsets (agent_abi.h), where payload.lds places their sections; the link
 * fails if agent_thunk outgrows them.
 */
	.section .text.thunk_malloc, "ax", @progbits
	.globl agent_thunk_malloc
	.hidden agent_thunk_malloc
	.type agent_thunk_malloc, @function
agent_thunk_malloc:
	SHORT_WAY_FIRST
	SHORT_MALLOC
	.size agent_thunk_malloc, . - agent_thunk_malloc

	.section .text.thunk_realloc, "ax", @progbits
	.globl agent_thunk_realloc
	.hidden agent_thunk_realloc
	.type agent_thunk_realloc, @function
agent_thunk_realloc:
	SHORT_WAY_FIRST
	SHORT_REALLOC
	.size agent_thunk_realloc, . - agent_thunk_realloc

	.section .text.thunk_free, "ax", @progbits
	.globl agent_thunk_free
	.hidden agent_thunk_free
	.type agent_thunk_free, @function
agent_thunk_free:
	SHORT_WAY_FIRST
	SHORT_FREE
	.size agent_thunk_free, . - agent_thunk_free
	.section .note.GNU-stack, "", @progbits
