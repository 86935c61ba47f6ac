/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * thunk.S - where every hooked allocator entry jumps (through its stub, with
 * the hook's index in %r11d): save the arguments, ask agent_enter whether
 * the call is to be recorded; if not, jump to the original with the stack as
 * at entry (sampling's short way), else save the callee-saved registers the
 * unwinder needs, call the original, record, return its result.
 * Linked first, so it sits at offset 0 of the agent.
 *
 * The frame (offsets from %rsp after the prologue) is struct agent_frame in agent.c.
 */
	.text
	.globl agent_thunk
	.hidden agent_thunk
	.type agent_thunk, @function
agent_thunk:
	endbr64
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
	jnz 1f
	/* The short way: the stack as at entry, the original returns straight to the caller. */
	mov 0(%rsp), %rdi
	mov 8(%rsp), %rsi
	mov 16(%rsp), %rdx
	mov 24(%rsp), %rcx
	leave
	jmp *%rax
1:	/* Recorded: callee-saved registers as at entry (agent_enter kept them) for the unwinder. */
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
	.section .note.GNU-stack, "", @progbits
