/*-------------------------------------------------------------------------
 *
 * keymem.c
 *	  Pages for long-lived key material (see keymem.h).
 *
 * src/keymem.c
 *
 *-------------------------------------------------------------------------
 */
#include <sys/mman.h>
#include <unistd.h>

#include "keymem.h"

#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18		/* Linux 4.14 */
#endif

/* Pages for key material (keymem.h) */
void *
csms_keymem_alloc(size_t size, int *flags)
{
	long		page = sysconf(_SC_PAGESIZE);
	size_t		len;
	void	   *p;
	int			got = 0;

	if (page <= 0)
		page = 4096;
	len = (size + (size_t) page - 1) / (size_t) page * (size_t) page;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_DONTDUMP
	if (madvise(p, len, MADV_DONTDUMP) == 0)
		got |= CSMS_KEYMEM_DONTDUMP;
#endif
	if (madvise(p, len, MADV_WIPEONFORK) == 0)
		got |= CSMS_KEYMEM_WIPEONFORK;
	if (mlock(p, len) == 0)
		got |= CSMS_KEYMEM_LOCKED;
	if (flags)
		*flags = got;
	return p;					/* anonymous pages are zeroed */
}
