// SPDX-License-Identifier: GPL-3.0-or-later
/* ool.c - relocating one x86-64 instruction for out-of-line execution, with capstone. */
#include <capstone/capstone.h>
#include <stdlib.h>
#include <string.h>

#include "ool.h"
#include "target.h"

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

/* Whether relocate() made this of a conditional jump: jcc +14; jmp *next; jmp *dest. */
static bool is_relocated_jcc(const uint8_t *o, size_t n)
{
	return n == 30 && o[0] >= 0x70 && o[0] <= 0x7f && o[1] == 14 && o[2] == 0xff && o[3] == 0x25;
}

int ool_build_run(const uint8_t *code, size_t avail, uint64_t from, uint64_t to, size_t min, uint8_t *out,
		  size_t outmax, size_t *outlen, struct mlz_err *err)
{
	size_t off = 0, pos = 0;
	while (off < min) {
		uint8_t one[OOL_SLOT];
		size_t n;
		int len = ool_build(code + off, avail - off, from + off, to + pos, one, &n, err);
		if (len < 0)
			return -1;
		bool last = off + (size_t)len >= min;
		if (!last) {
			if (is_relocated_jcc(one, n))
				memcpy(one + 2 + 6, &(uint64_t){ to + pos + n }, 8); /* not taken: on to the next one */
			else if (n == (size_t)len + 14)
				n = (size_t)len; /* falls through to the next one instead of jumping back */
		}
		if (pos + n > outmax)
			return mlz_error(err, "the relocated entry of 0x%llx does not fit", (unsigned long long)from);
		memcpy(out + pos, one, n);
		pos += n;
		off += (size_t)len;
	}
	*outlen = pos;
	return (int)off;
}

uint64_t ool_jumps_into(struct target *t, uint64_t lo, uint64_t hi, uint64_t from, uint64_t to)
{
	if (hi <= lo || hi - lo > (1u << 20))
		return 0;
	size_t len = (size_t)(hi - lo);
	uint8_t *code = malloc(len);
	uint64_t found = 0;
	csh h;
	if (!code || target_read(t, lo, code, len) != (ssize_t)len || cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
		free(code);
		return 0;
	}
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	/* SKIPDATA: a byte that is no instruction (padding, data) does not end the scan. */
	cs_option(h, CS_OPT_SKIPDATA, CS_OPT_ON);
	const uint8_t *p = code;
	size_t left = len;
	uint64_t addr = lo;
	cs_insn *insn = cs_malloc(h);
	while (!found && cs_disasm_iter(h, &p, &left, &addr, insn)) {
		if (!insn->detail || !cs_insn_group(h, insn, X86_GRP_BRANCH_RELATIVE))
			continue;
		const cs_x86 *x = &insn->detail->x86;
		uint64_t dest = x->op_count && x->operands[0].type == X86_OP_IMM ? (uint64_t)x->operands[0].imm : 0;
		if (dest > from && dest < to)
			found = insn->address;
	}
	cs_free(insn, 1);
	cs_close(&h);
	free(code);
	return found;
}
