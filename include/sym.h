/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sym.h - symbols and stacks through libdwfl, fed by mlyze's own memory reads and registers. */
#ifndef MLZ_SYM_H
#define MLZ_SYM_H

#include <elfutils/libdw.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct target;
struct sym;

/*
 * Usage:
 *	struct sym *s = sym_new(t, &err);
 *	sym_refresh(s, &err);                    // pick up libraries loaded since
 *	n = sym_unwind(s, tid, pcs, caller, MAX, &err);  // thread must be stopped
 *	const struct sym_pc *r = sym_lookup(s, pcs[i], caller[i]);
 *	sym_free(s);
 * libdwfl never ptraces by itself here: it reads memory and registers through
 * the target, and mlyze decides when threads stop.
 */

/* One source-level frame; a PC in inlined code yields several, innermost first. */
struct sym_frame {
	const char *function; /* demangled; NULL when unknown */
	const char *file;     /* NULL without line information */
	int line;             /* 0 without line information */
	bool inlined;         /* this frame was inlined into the next one */
};

/* What one PC resolves to; owned by the cache of the sym that returned it. */
struct sym_pc {
	uint64_t pc;
	bool caller;            /* pc is a return address (resolved at pc - 1) */
	const char *module;     /* basename of the mapped file, NULL if no module covers pc */
	uint64_t module_offset; /* pc - the module's load address */
	size_t nframes;         /* >= 1 */
	struct sym_frame *frames;
	bool saved;             /* resolved in another session (see SYM_SAVED_BASE) */
	uint32_t saved_module;  /* then its module's index among the saved ones, SYM_NO_MODULE for none */
};

/* debug_dir replaces the places separate debug files are searched (NULL: /usr/lib/debug and beside the file). */
struct sym *sym_new(struct target *t, const char *debug_dir, struct mlz_err *err);
/* Re-read the module list if the address space changed (dlopen, exec). */
int sym_refresh(struct sym *s, struct mlz_err *err);
/*
 * Unwind the stopped thread tid into pcs (innermost first). caller[i] (if
 * caller is not NULL) tells a return address, to be looked up at pc - 1, from
 * an exact PC (frame 0, or a frame a signal interrupted). Returns the count, or -1.
 */
int sym_unwind(struct sym *s, int tid, uint64_t *pcs, bool *caller, int max, struct mlz_err *err);
struct user_regs_struct;
/*
 * The same from registers the caller already has (a thread stopped at a trap),
 * copying copy_bytes of its stack in one read to serve the unwinder from.
 */
int sym_unwind_regs(struct sym *s, int tid, const struct user_regs_struct *regs, size_t copy_bytes, uint64_t *pcs,
		    bool *caller, int max, struct mlz_err *err);
/*
 * The same from registers and a copy of the top of the stack taken earlier
 * (by an agent in the process): nothing beyond the copy is read, since the
 * thread has run on, and the thread need not exist any more.
 */
int sym_unwind_copy(struct sym *s, int tid, const struct user_regs_struct *regs, const void *stack, size_t len,
		    uint64_t *pcs, bool *caller, int max, struct mlz_err *err);
/* sym_unwind with each frame's stack pointer in sps and its rbp in bps (may be NULL; 0 where unknown). */
int sym_unwind_sps(struct sym *s, int tid, uint64_t *pcs, bool *caller, uint64_t *sps, uint64_t *bps, int max,
		   struct mlz_err *err);
/* The ELF symbol (a global or static variable) covering addr, its offset and module; NULL if none. */
const char *sym_data_symbol(struct sym *s, uint64_t addr, uint64_t *offset, const char **module);
struct Dwfl_Module;
/*
 * The module whose loaded segments cover addr (up to each PT_LOAD's memsz, so
 * the anonymous mapping a large .bss continues in counts), and its load bias;
 * NULL if none. Owned by libdwfl, valid until the next refresh.
 */
struct Dwfl_Module *sym_data_module(struct sym *s, uint64_t addr, uint64_t *bias);
/*
 * The compile unit DIE of module mod (from sym_data_module) that holds addr,
 * and in *bias what to subtract from addr to get the DWARF address; NULL if no
 * CU does. Through .debug_aranges, else (clang's programs have none) through
 * each CU's own ranges. Owned by libdwfl or s, valid until the next refresh.
 */
Dwarf_Die *sym_cu_die(struct sym *s, struct Dwfl_Module *mod, uint64_t addr, uint64_t *bias);
/* A word of the stack copy of the last unwind at addr, if it holds it. */
bool sym_stack_word(const struct sym *s, uint64_t addr, uint64_t *val);

/*
 * Look up each of names[0..n) as a defined global function or object in the
 * target's modules, in the dynamic linker's search order (link map; the
 * executable first). addrs[k] gets the runtime address or 0, modules[k] the
 * module's basename (owned by libdwfl).
 */
int sym_find_symbols(struct sym *s, const char *const *names, size_t n, uint64_t *addrs, const char **modules);

/* The extent [lo, hi) of the function symbol covering addr, from its ELF size; false if unknown. */
bool sym_function_extent(struct sym *s, uint64_t addr, uint64_t *lo, uint64_t *hi);

/*
 * Symbols of the module whose file has basename module, locals and TLS
 * included (from its .symtab or its separate debug file): values[k] gets the
 * runtime address, or for a TLS symbol its offset in the module's TLS block;
 * 0 when absent. Returns how many were found.
 */
int sym_module_symbols(struct sym *s, const char *module, const char *const *names, size_t n, uint64_t *values);
/* The module's TLS module id (as the dynamic linker numbers startup objects) and block size; -1 without TLS. */
int sym_module_tls(struct sym *s, const char *module, size_t *modid, uint64_t *memsz);
/*
 * The bytes (up to len) of the file libdwfl holds for the module at addr, at
 * that address as loaded: what the code there is unless the process changed it
 * or maps another file. Returns how many (> 0); 0 when addr lies in no module
 * (code the process made, no file to compare with); -1 when it lies in a module
 * with no file (none matching the process's build-id) or outside the file's
 * loaded bytes. *module gets the module's name (owned by sym), or NULL.
 */
int sym_file_code(struct sym *s, uint64_t addr, uint8_t *buf, size_t len, const char **module, struct mlz_err *err);
/* The same with the sym as a void *: what struct bptab's file_code takes (bp.h), the sym as its arg. */
int sym_file_code_cb(void *sym, uint64_t addr, uint8_t *buf, size_t len, const char **module, struct mlz_err *err);

/*
 * Let the owner of swapped return addresses translate stack words the
 * unwinder reads: filter(arg, addr, &val) may replace val and return true.
 */
void sym_set_word_filter(struct sym *s, bool (*filter)(void *arg, uint64_t addr, uint64_t *val), void *arg);

/* The module (mapped ELF file) that covers an address, as profiles name it. */
struct sym_module {
	uint64_t start, end;  /* its address range, [start, end) */
	const char *path;     /* its file as libdwfl reported it; owned by libdwfl, valid until the next refresh */
	char build_id[41];    /* the GNU build-id in hex ("" when it has none); longer ids are cut to 20 bytes */
};
/* The module covering addr into *m; false when no module does. */
bool sym_module_at(struct sym *s, uint64_t addr, struct sym_module *m);
/* The module of a resolved PC (at pc - 1 for a return address; a saved one's as saved); false for none. */
bool sym_pc_module(struct sym *s, const struct sym_pc *r, struct sym_module *m);

/*
 * Frames resolved in another session (a saved snapshot's) live under PCs no
 * x86-64 process has, from SYM_SAVED_BASE up: sym_lookup() answers them with
 * the frames as saved and sym_module_at() with the module as saved, so every
 * analysis reads them as it reads a live PC. Their struct sym_pc's pc is the
 * PC in the process they came from.
 */
#define SYM_SAVED_BASE 0xfff0000000000000ull
#define SYM_NO_MODULE UINT32_MAX
static inline bool sym_pc_is_saved(uint64_t pc) { return pc >= SYM_SAVED_BASE; }
/* A module of saved frames (deduplicated); its index. path and build_id are copied. */
uint32_t sym_saved_module(struct sym *s, const char *path, const char *build_id, uint64_t start, uint64_t end);
/*
 * Register r (its pc, caller flag, module name and offset, frames; copied) as
 * saved frames in module mod (SYM_NO_MODULE: none). The same content gives
 * the same PC, so stacks loaded twice, or from two files of one session, are
 * the same stacks. Returns the PC to look it up by.
 */
uint64_t sym_saved_pc(struct sym *s, const struct sym_pc *r, uint32_t mod);

/* Call fn for every module now reported (its path borrowed for the call), in libdwfl's order. */
void sym_each_module(struct sym *s, void (*fn)(void *arg, const struct sym_module *m), void *arg);

/* Resolve pc (caller = true for a return address: looked up at pc - 1). Never NULL. */
const struct sym_pc *sym_lookup(struct sym *s, uint64_t pc, bool caller);
void sym_free(struct sym *s);

struct Dwfl;
struct unw_modules;

/* What building unwind tables (unwtab.h) found. */
struct unwtab_stats {
	size_t modules;   /* modules with a table */
	size_t fdes;      /* FDEs read */
	size_t rows;      /* rows kept, adjacent equal ones merged */
	size_t stop_rows; /* of those, STOP rows: gaps between FDEs and rules the walker cannot follow */
	size_t bytes;     /* the whole block */
	int64_t build_ns;
};

/*
 * Unwind tables (unwtab.h) of every module of the target that has .eh_frame
 * CFI, as one block the caller frees (free()). Modules without readable CFI
 * get no table: a walk stops at their PCs. st (may be NULL) gets figures.
 */
struct unw_modules *sym_unwtab(struct sym *s, struct unwtab_stats *st, struct mlz_err *err);
/*
 * The same from any libdwfl session (mlyze's own process in tests). only: NULL
 * for every module, else the one whose file's basename is only, or only and a
 * version ("libstdc++.so.6" for libstdc++.so.6.0.30); no such module is an error.
 */
struct unw_modules *sym_unwtab_dwfl(struct Dwfl *dwfl, const char *only, struct unwtab_stats *st,
				    struct mlz_err *err);

/* The demangled form of name (caller frees), or NULL when name is not a mangled C++ name. */
char *sym_demangle(const char *name);

#endif
