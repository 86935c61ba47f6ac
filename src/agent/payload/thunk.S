/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * thunk.S - where every hooked allocator entry jumps (through its stub, with
 * the hook's index in %r11d). Under byte sampling most calls are left out,
 * and the short way settles the most frequent of them here, on scratch
 * registers alone: a malloc its thread's countdown covers, a free of a block
 * the address set does not hold (its hint byte, or the first bucket of its
 * run, says so), and (glibc's) a realloc of
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
.macro SHORT_WAY_OPEN full
	mov agent_ctl+CTL_SAMPLE(%rip), %r8
	SLOT_OF
	cmp %r9, SLOT(SLOT_KEY)
	jne \full
	cmp %r8, SLOT(SLOT_SHORT_WAY)
	jne \full
	shr $8, %r8
.endm

/* malloc: left out when size < mean (%r8) and the countdown, drawn at this mean, exceeds size. */
.macro SHORT_MALLOC full, tail
	cmp %r8, %rdi
	jae \full
	cmp %rdi, SLOT(SLOT_COUNTDOWN) /* signed, as sample_take: size < mean < 2^56 */
	jle \full
	/* One instruction each, so a signal handler's call in between loses no update of its own. */
	sub %rdi, SLOT(SLOT_COUNTDOWN)
	incq SLOT(SLOT_UNSAMPLED)
	jmp \tail
.endm

/* \reg: agent_set_hash(%rdi); %r8 spoiled. */
.macro SET_HASH reg
	mov %rdi, \reg
	shr $4, \reg
	movabs $SET_HASH_MUL, %r8
	imul %r8, \reg
	shr $32, \reg
.endm

/*
 * Whether the set may hold %rdi, whose hash is \h: to \yes when its hint
 * byte counts some address, and the first bucket of its run holds %rdi or
 * no never-used slot (set_remove would look further); on to \no when the
 * byte counts none, or a never-used slot comes before %rdi (set_add puts an
 * address in the first free slot of its run, and a slot never goes back to
 * 0). The bucket settles here the frees whose byte another block's address
 * counts, that would take the full way for nothing (one in twenty at 16
 * bytes a block). \h and \w spoiled.
 */
.macro MAY_HOLD h, w, yes, no
	mov agent_ctl+CTL_HINT_MASK(%rip), \w
	and \h, \w
	add agent_ctl+CTL_SET_HINT(%rip), \w
	cmpb $0, (\w)
	je \no
	and agent_ctl+CTL_SET_MASK(%rip), \h
	shl $SET_BUCKET_SHIFT, \h
	add agent_ctl+CTL_SET(%rip), \h
7:	mov (\h), \w
	cmp %rdi, \w
	je \yes
	test \w, \w
	jz \no
	add $8, \h
	test $((1 << SET_BUCKET_SHIFT) - 1), \h /* buckets are aligned (agent.c) */
	jnz 7b
	jmp \yes
.endm

/*
 * free: left out, with sampling on, for NULL or when the set does not
 * hold its block (MAY_HOLD). No slot: a block the set does not hold
 * is not recorded whether or not a call is in progress (a free nested in a
 * hooked call is recorded with it, as one).
 */
.macro SHORT_FREE full, tail
	cmpq $0, agent_ctl+CTL_SAMPLE(%rip)
	je \full
	test %rdi, %rdi
	jz \tail
	SET_HASH %rax
	MAY_HOLD %rax, %r8, \full, \tail
.endm

/*
 * realloc(p, n) of a block never recorded (the set does not hold it), to a size
 * the countdown covers: left out as a malloc of n is, decided before the
 * call. Not for p NULL or n 0 (glibc then calls malloc's or free's hooked
 * entry), nor for an mmapped block (glibc may call malloc's hooked entry for
 * it): those take the full way, where the nested call finds the realloc in
 * progress and is not drawn a second time. glibc retries an arena's failure
 * through malloc's entry too; that call, out of memory, is drawn again.
 */
.macro SHORT_REALLOC full, tail
	test %rdi, %rdi
	jz \full
	test %rsi, %rsi
	jz \full
	testb $2, -8(%rdi)      /* the chunk's IS_MMAPPED bit */
	jnz \full
	cmp %r8, %rsi
	jae \full
	cmp %rsi, SLOT(SLOT_COUNTDOWN)
	jle \full
	SET_HASH %r9
	MAY_HOLD %r9, %r8, \full, 1f
1:	sub %rsi, SLOT(SLOT_COUNTDOWN)
	incq SLOT(SLOT_UNSAMPLED)
	jmp \tail
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
 * The entries of malloc's, free's and realloc's hooks, jumped to straight
 * from the hooked entry: no stub, no branch on the kind, and the relocated
 * entry instructions in the entry's own tail, where mlyze writes them (a
 * direct jump there, not one through ctl.orig). In a program that mixes its
 * calls (not churn's strict turns), a shared jump and the kind's branch
 * were mispredicted a call in two. Each finds its hook's index for the full
 * way in ctl.fast_hook. At fixed offsets (agent_abi.h), where payload.lds
 * places their sections; the assembly fails if a short way reaches its tail.
 */
.macro FAST_ENTRY name, n, short
	.section .text.thunk_\name, "ax", @progbits
	.globl agent_thunk_\name
	.hidden agent_thunk_\name
	.type agent_thunk_\name, @function
agent_thunk_\name:
	endbr64
	\short .Lfull_\name, .Ltail_\name
.Lfull_\name:
	movzbl agent_ctl+CTL_FAST_HOOK+\n(%rip), %r11d
	jmp .Lfull
	.size agent_thunk_\name, . - agent_thunk_\name
	.org THUNK_TAIL_OFF, 0xcc
.Ltail_\name: /* endbr64, the displaced instructions, a jump back: mlyze's, at install */
	.fill THUNK_TAIL_SIZE, 1, 0xcc
.endm

.macro MALLOC_WAY full, tail
	SHORT_WAY_OPEN \full
	SHORT_MALLOC \full, \tail
.endm
.macro REALLOC_WAY full, tail
	SHORT_WAY_OPEN \full
	SHORT_REALLOC \full, \tail
.endm

	FAST_ENTRY malloc, 0, MALLOC_WAY
	FAST_ENTRY free, 1, SHORT_FREE
	FAST_ENTRY realloc, 2, REALLOC_WAY
	.section .note.GNU-stack, "", @progbits
