/*-------------------------------------------------------------------------
 *
 * alloc.h
 *	  The allocator of the pure codecs (json.c, blob.c): they allocate only
 *	  through one, so that the PostgreSQL side decides where their memory
 *	  lives (a memory context that is wiped when it goes, for plaintext),
 *	  and standalone tests and fuzzers use malloc.
 *
 *	  alloc(ctx, size) returns size bytes (size >= 1) or NULL, or does not
 *	  return at all (palloc's ereport); free(ctx, ptr) releases what alloc
 *	  returned.  A NULL allocator means malloc and free.
 *
 *	  No PostgreSQL header is included (see crypto.h).
 *
 * src/alloc.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_ALLOC_H
#define CSMS_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

typedef struct csms_allocator
{
	void	   *(*alloc) (void *ctx, size_t size);
	void		(*free) (void *ctx, void *ptr);
	void	   *ctx;
} csms_allocator;

/* NULL, or both functions set */
extern bool csms_allocator_valid(const csms_allocator *a);

/* size bytes (at least 1) from a (NULL: malloc); NULL when it fails */
extern void *csms_alloc(const csms_allocator *a, size_t size);

/* Free ptr with a (NULL: free).  NULL is a no-op. */
extern void csms_free(const csms_allocator *a, void *ptr);

/* Wipe len bytes at ptr, then free it.  NULL is a no-op. */
extern void csms_free_secret(const csms_allocator *a, void *ptr, size_t len);

#endif							/* CSMS_ALLOC_H */
