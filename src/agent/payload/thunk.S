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
 * valid). It decides malloc exactly as agent_enter's framed() would, and
 * only while its thread has no hooked call in progress; free as framed()
 * would, or, nested in a call in progress, as agent_leave would (a block the
 * set does not hold is not recorded either way); realloc as agent_leave's
 * decide() would, but before the call, so a realloc that fails has still
 * spent its size of the countdown. Few instructions: the short way is all
 * that sampling adds to nearly every call.
 *
 * Every other call (every call of agent_thunk's, the hook of every other
 * entry): save the arguments, ask agent_enter, which may still
 * send it to the original the same way; else save the callee-saved registers
 * the unwinder needs, call the original, record, return its result.
 * agent_thunk is linked first, at offset 0 of the agent; the entries of
 * their own at payload.lds's offsets.
 *
 * The frame (offsets from %rsp after the prologue) is struct agent_frame in
 * agent.c; the offsets into the control block are offsets.h's.
 */
#include "offsets.h"

/*
 * %rax: the offset in ctl.slots of this thread's slot, slot_hash's first
 * probe (Fibonacci hashing of the thread pointer, its top bits); %r9 the
 * thread pointer, %r10 agent_ctl.
 */
.macro SLOT_OF
	mov %fs:0, %r9
	movabs $SET_HASH_MUL, %rax
	imul %r9, %rax
	shr $(64 - SLOTS_LOG2 - SLOT_SHIFT), %rax
	and $-(1 << SLOT_SHIFT), %eax
	lea agent_ctl(%rip), %r10
.endm
#define SLOT(field) CTL_SLOTS + field(%r10,%rax)

/*
 * The thread's slot found and its short way open: the slot's short_way is
 * ctl.sample (%r8), which is sample_seen while no call is in progress. With
 * sampling off (0) a match falls through to a mean of 0, which every size
 * reaches: the full way.
 */
.macro SHORT_WAY_OPEN
	mov agent_ctl+CTL_SAMPLE(%rip), %r8
	SLOT_OF
	cmp %r9, SLOT(SLOT_KEY)
	jne .Lfull
	cmp %r8, SLOT(SLOT_SHORT_WAY)
	jne .Lfull
	shr $8, %r8
.endm

/* malloc: left out when size < mean (%r8) and the countdown, drawn at this mean, exceeds size. */
.macro SHORT_MALLOC
	cmp %r8, %rdi
	jae .Lfull
	cmp %rdi, SLOT(SLOT_COUNTDOWN) /* signed, as sample_take: size < mean < 2^56 */
	jle .Lfull
	/* One instruction each, so a signal handler's call in between loses no update of its own. */
	sub %rdi, SLOT(SLOT_COUNTDOWN)
	incq SLOT(SLOT_UNSAMPLED)
	jmp *CTL_ORIG(%r10,%r11,8)
.endm

/* \reg: where the hint of %rdi's first bucket (agent_set_hash) is; %r8 spoiled. */
.macro HINT_OF reg
	mov %rdi, \reg
	shr $4, \reg
	movabs $SET_HASH_MUL, %r8
	imul %r8, \reg
	shr $32, \reg
	and agent_ctl+CTL_SET_MASK(%rip), \reg
	add agent_ctl+CTL_SET_HINT(%rip), \reg
.endm

/*
 * free: left out, with sampling on, for NULL or when the hint of its
 * block's first bucket counts none. No slot: a block the set does not hold
 * is not recorded whether or not a call is in progress (a free nested in a
 * hooked call is recorded with it, as one).
 */
.macro SHORT_FREE
	cmpq $0, agent_ctl+CTL_SAMPLE(%rip)
	je .Lfull
	test %rdi, %rdi
	jz 1f
	HINT_OF %rax
	cmpb $0, (%rax)
	jne .Lfull
1:	lea agent_ctl(%rip), %r10
	jmp *CTL_ORIG(%r10,%r11,8)
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
	cmp %r8, %rsi
	jae .Lfull
	cmp %rsi, SLOT(SLOT_COUNTDOWN)
	jle .Lfull
	HINT_OF %r9
	cmpb $0, (%r9)
	jne .Lfull
	sub %rsi, SLOT(SLOT_COUNTDOWN)
	incq SLOT(SLOT_UNSAMPLED)
	jmp *CTL_ORIG(%r10,%r11,8)
.endm

	.section .text.thunk, "ax", @progbits
	.globl agent_thunk
	.hidden agent_thunk
	.type agent_thunk, @function
agent_thunk:
	endbr64
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
	endbr64
	SHORT_WAY_OPEN
	SHORT_MALLOC
	.size agent_thunk_malloc, . - agent_thunk_malloc

	.section .text.thunk_realloc, "ax", @progbits
	.globl agent_thunk_realloc
	.hidden agent_thunk_realloc
	.type agent_thunk_realloc, @function
agent_thunk_realloc:
	endbr64
	SHORT_WAY_OPEN
	SHORT_REALLOC
	.size agent_thunk_realloc, . - agent_thunk_realloc

	.section .text.thunk_free, "ax", @progbits
	.globl agent_thunk_free
	.hidden agent_thunk_free
	.type agent_thunk_free, @function
agent_thunk_free:
	endbr64
	SHORT_FREE
	.size agent_thunk_free, . - agent_thunk_free
	.section .note.GNU-stack, "", @progbits
