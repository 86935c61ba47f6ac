/* SPDX-License-Identifier: GPL-3.0-or-later */
/* blob.S - the agent's flat image (built from src/agent/payload/), embedded in mlyze. */
	.section .rodata
	.balign 16
	.globl agent_blob
	.hidden agent_blob
agent_blob:
	.incbin AGENT_BIN
	.globl agent_blob_end
	.hidden agent_blob_end
agent_blob_end:
	.section .note.GNU-stack, "", @progbits
