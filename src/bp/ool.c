// SPDX-License-Identifier: GPL-3.0-or-later
/* ool.c - relocating one x86-64 instruction for out-of-line execution, with capstone. */
#include <capstone/capstone.h>
#include <string.h>

#include "ool.h"

/* jmp *0(%rip); .quad dest: reaches anywhere, 14 bytes. */
static size_t emit_jmp_abs(uint8_t *out, uint64_t dest)
{
	static const uint8_t op[6] = { 0xff, 0x25, 0, 0, 0, 0 };
	memcpy(out, op, 6);
	memcpy(out + 6, &dest, 8);
	return 14;
}

static int relocate(csh h, cs_insn *insn, uint64_t from, uint64_t to, uint8_t *out, size_t *outlen,
		    struct mlz_err *err)
{
	const cs_x86 *x = &insn->detail->x86;
	size_t len = insn->size;
	uint64_t next = from + len;
	const uint8_t *b = insn->bytes;

	if (cs_insn_group(h, insn, X86_GRP_BRANCH_RELATIVE)) {
		uint64_t dest = (uint64_t)x->operands[0].imm;
		if (insn->id == X86_INS_JMP) {
			*outlen = emit_jmp_abs(out, dest);
			return (int)len;
		}
		if (cs_insn_group(h, insn, X86_GRP_JUMP) && insn->id != X86_INS_JRCXZ && insn->id != X86_INS_JECXZ &&
		    insn->id != X86_INS_LOOP && insn->id != X86_INS_LOOPE && insn->id != X86_INS_LOOPNE) {
			/* jcc L; jmp next; L: jmp dest, with the short form of the same condition. */
			uint8_t cc = (b[0] == 0x0f ? b[1] : b[0]) & 0x0f;
			out[0] = 0x70 | cc;
			out[1] = 14;
			size_t n = 2 + emit_jmp_abs(out + 2, next);
			n += emit_jmp_abs(out + n, dest);
			*outlen = n;
			return (int)len;
		}
		return mlz_error(err, "cannot run '%s %s' out of line", insn->mnemonic, insn->op_str);
	}
	memcpy(out, b, len);
	for (int i = 0; i < x->op_count; i++) {
		if (x->operands[i].type != X86_OP_MEM || x->operands[i].mem.base != X86_REG_RIP)
			continue;
		if (x->encoding.disp_size != 4)
			return mlz_error(err, "unexpected RIP-relative encoding in '%s %s'", insn->mnemonic, insn->op_str);
		/* Same absolute operand: next + disp == to + len + new_disp. */
		int64_t reach = (int64_t)(next + x->disp);
		int64_t nd = reach - (int64_t)(to + len);
		if (nd != (int32_t)nd)
			return mlz_error(err, "scratch page at 0x%llx is beyond 2 GiB of 0x%llx",
					 (unsigned long long)to, (unsigned long long)reach);
		int32_t d32 = (int32_t)nd;
		memcpy(out + x->encoding.disp_offset, &d32, 4);
	}
	*outlen = len + emit_jmp_abs(out + len, next);
	return (int)len;
}

int ool_build(const uint8_t *code, size_t avail, uint64_t from, uint64_t to, uint8_t *out, size_t *outlen,
	      struct mlz_err *err)
{
	csh h;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK)
		return mlz_error(err, "capstone cannot decode x86-64");
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	cs_insn *insn = NULL;
	int r;
	if (cs_disasm(h, code, avail, from, 1, &insn) != 1) {
		r = mlz_error(err, "cannot decode the instruction at 0x%llx", (unsigned long long)from);
	} else {
		const char *m = insn->mnemonic;
		/* A call would push the slot's address as its return address; ret runs anywhere. */
		if (cs_insn_group(h, insn, X86_GRP_CALL) || !strcmp(m, "syscall") || !strcmp(m, "int3"))
			r = mlz_error(err, "cannot run '%s %s' out of line", m, insn->op_str);
		else
			r = relocate(h, insn, from, to, out, outlen, err);
		cs_free(insn, 1);
	}
	cs_close(&h);
	return r;
}
