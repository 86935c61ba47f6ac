/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sym_internal.h - state shared by the files of the symbol module, not by its users. */
#ifndef MLZ_SYM_INTERNAL_H
#define MLZ_SYM_INTERNAL_H

#include <elfutils/libdwfl.h>
#include <sys/types.h>
#include <sys/user.h>

#include "sym.h"
#include "u64map.h"

struct sym {
	struct target *target;
	Dwfl *dwfl;
	Dwfl_Callbacks callbacks;
	char *debuginfo_path; /* libdwfl's search path for separate debug files; NULL: its default */
	unsigned generation;  /* target generation the modules were reported for */
	char *maps_text;      /* the module lines of /proc/PID/maps when modules were last reported */
	size_t next_thread;   /* next_thread callback's cursor */

	/* The thread being unwound: its registers and a copy of the top of its stack. */
	pid_t regs_tid;
	struct user_regs_struct regs;
	uint8_t *stack_copy;
	uint64_t stack_base;
	size_t stack_len;     /* what memory_read may serve (0 outside an unwind) */
	size_t stack_valid;   /* what the copy holds, kept after the unwind for sym_stack_word */
	bool copy_only;       /* the copy was taken earlier: memory beyond it has changed since, never read it */

	bool (*word_filter)(void *arg, uint64_t addr, uint64_t *val);
	void *word_filter_arg;

	/*
	 * PC -> its struct sym_pc (owned here), one map for PCs looked up as
	 * they are ([0]) and one for return addresses ([1]): the same PC resolves
	 * differently as a caller's (at pc-1).
	 */
	struct u64map cache[2];

	/* Dwfl_Module * -> its table of CU ranges (cutab.c), built on a first miss of libdw's aranges. */
	struct u64map cu_tables;

	/*
	 * Frames resolved in another session (saved snapshots, saved.c): the
	 * entry for PC SYM_SAVED_BASE + i is saved[i]; they outlive refreshes.
	 */
	struct sym_pc **saved;
	uint32_t *saved_mod;  /* the module index of each, SYM_NO_MODULE for none */
	char **saved_keys;    /* what each is deduplicated by */
	size_t nsaved, saved_alloc;
	uint32_t *saved_index; /* open addressing over ids + 1 */
	size_t saved_index_cap;
	struct saved_module { char *path; char build_id[41]; uint64_t start, end; } *mods;
	size_t nmods, mods_alloc;
};

/* Forget the saved frames and modules. */
void sym_saved_release(struct sym *s);
/* The saved entry of a PC at or above SYM_SAVED_BASE (a placeholder for one never registered). */
const struct sym_pc *sym_saved_lookup(struct sym *s, uint64_t pc);
/* sym_module_at() for such a PC. */
bool sym_saved_module_at(struct sym *s, uint64_t pc, struct sym_module *m);

void symcache_clear(struct sym *s);
/* Free the CU range tables: the modules they point into are reported again or gone. */
void sym_cutab_release(struct sym *s);
/*
 * The line table's file (owned by libdw) and *line for addr in mod, whose CU
 * sym_cu_die() gave as cu (may be NULL) with bias; NULL and 0 when no row
 * covers addr.
 */
const char *sym_src_line(Dwfl_Module *mod, Dwarf_Die *cu, uint64_t bias, uint64_t addr, int *line);

#endif
