/*-------------------------------------------------------------------------
 *
 * alloc.c
 *	  The allocator of the pure codecs (see alloc.h).
 *
 * src/alloc.c
 *
 *-------------------------------------------------------------------------
 */
#include "alloc.h"

#include <stdlib.h>

#include "crypto.h"				/* csms_wipe */

/* NULL, or an allocator with both functions */
bool
csms_allocator_valid(const csms_allocator *a)
{
	return a == NULL || (a->alloc != NULL && a->free != NULL);
}

/* size bytes (at least 1) from a, or from malloc */
void *
csms_alloc(const csms_allocator *a, size_t size)
{
	if (size == 0)
		size = 1;
	if (a == NULL)
		return malloc(size);
	return a->alloc(a->ctx, size);
}

/* Free ptr with a, or with free */
void
csms_free(const csms_allocator *a, void *ptr)
{
	if (ptr == NULL)
		return;
	if (a == NULL)
		free(ptr);
	else
		a->free(a->ctx, ptr);
}

/* Wipe, then free */
void
csms_free_secret(const csms_allocator *a, void *ptr, size_t len)
{
	if (ptr == NULL)
		return;
	csms_wipe(ptr, len);
	csms_free(a, ptr);
}
