/*-------------------------------------------------------------------------
 *
 * keymem.h
 *	  Memory for key material that lives as long as the process: the root
 *	  key, the cached master key material, the data keys a backend
 *	  remembers.  Whole pages of their own, mapped for it, that the platform
 *	  is asked to leave out of core dumps (MADV_DONTDUMP), to give zeroed to
 *	  a child of fork() (MADV_WIPEONFORK: the shell that
 *	  csms.root_key_command starts), and to keep out of swap (mlock, as far
 *	  as RLIMIT_MEMLOCK allows).  Each request is best effort: a platform
 *	  without it still gets the memory.
 *
 *	  No PostgreSQL header, so that the unit tests can check it alone.
 *
 * src/keymem.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_KEYMEM_H
#define CSMS_KEYMEM_H

#include <stddef.h>

/* What csms_keymem_alloc obtained, as flags. */
#define CSMS_KEYMEM_DONTDUMP	0x01
#define CSMS_KEYMEM_WIPEONFORK	0x02
#define CSMS_KEYMEM_LOCKED		0x04

/*
 * size bytes (rounded up to whole pages), zeroed, never freed; NULL when no
 * memory could be mapped.  *flags (if not NULL) says which of the requests
 * above the platform granted.
 */
extern void *csms_keymem_alloc(size_t size, int *flags);

#endif							/* CSMS_KEYMEM_H */
