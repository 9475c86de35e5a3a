/*-------------------------------------------------------------------------
 *
 * usage.c
 *	  last_used_time without writes on the read path.
 *
 *	  last_used_time is kept on the secret's row of csms.secrets to a grain,
 *	  csms.last_used_grain (an hour by default): a read replaces the stored
 *	  time only when it is a grain old, so the stored time is normally less
 *	  than a grain before the latest read (README, Configuration, lists the
 *	  cases where a write is skipped and a later read makes up for it).  The read already has the row:
 *	  telling that there is nothing to do costs nothing.  When there is, the
 *	  time is overwritten in place (csms_row_overwrite_time: no row version,
 *	  no transaction id, no row lock kept, never waiting), once a grain per
 *	  secret.
 *
 *	  Who overwrites it: without shared_preload_libraries, the reader.
 *	  With it, reads are noted in a fixed-size table in shared memory
 *	  instead -- (database, secret) -> time of the read (the reading
 *	  transaction's start, as now()) -- and a background worker writes them
 *	  every csms.usage_flush_interval, in batches, in its own transactions:
 *
 *	  - the launcher (one static worker, connected to no database) wakes
 *		every interval, or early when the table is half full, finds the
 *		databases that have unwritten reads, and for each starts a flusher
 *		and waits for it; it forgets the reads of databases that are gone,
 *		and evicts written entries;
 *	  - a flusher (a dynamic worker connected to one database) writes that
 *		database's unwritten reads with GREATEST(stored, read), ids sorted,
 *		skipping rows another transaction holds so that it never waits for
 *		a user's transaction (a skipped row stays unwritten for the next
 *		round), then exits.
 *
 *	  The read path calls csms_usage_record() only; when shared memory is
 *	  not there (not preloaded) or the table is full, the reader writes.
 *	  Functions that return last_used_time merge the unwritten read
 *	  (csms_usage_merge), so callers see it before the worker writes it.
 *
 *	  Durability: a read is noted or written at once, also in a read-only
 *	  transaction and also when the reader's transaction rolls back (the
 *	  value was handed out all the same); an overwrite in place is WAL-logged
 *	  without waiting for its flush, as a commit with synchronous_commit =
 *	  off is.  A clean shutdown saves unwritten reads to
 *	  a file, written by the postmaster after every process has exited, and
 *	  the next start writes them: a final flush into the tables of every
 *	  database is not possible then, since the postmaster starts no new
 *	  worker once shutdown has begun and one process can connect to one
 *	  database only.  A crash loses the reads not written yet, at most
 *	  about one flush interval.
 *
 * src/usage.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <unistd.h>

#include "access/heapam.h"
#include "catalog/pg_database.h"
#include "common/controldata_utils.h"
#include "commands/dbcommands.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "util.h"
#include "settings.h"
#include "workers.h"
#include "catalog.h"
#include "spi.h"
#include "rowio.h"
#include "frame.h"
#include "usage.h"

/*
 * Partitions of the table, each with its own lock, as PostgreSQL's buffer
 * mapping table does: readers of different secrets rarely meet.
 */
#define USAGE_PARTITIONS	32
#define USAGE_TRANCHE		"csms_usage"

/* rows per flusher transaction: short row locks, few commits */
#define USAGE_BATCH			500

/* unwritten reads saved at a clean shutdown, read back at the next start */
#define USAGE_FILE			PGSTAT_STAT_PERMANENT_DIRECTORY "/csms_usage.stat"
#define USAGE_FILE_TMP		USAGE_FILE ".tmp"
#define USAGE_FILE_MAGIC	0x43534d55	/* "CSMU" */
#define USAGE_FILE_FORMAT	1

typedef struct UsageKey
{
	Oid			dbid;
	pg_uuid_t	secret_id;
} UsageKey;

typedef struct UsageEntry
{
	UsageKey	key;			/* hash key: must be first */
	TimestampTz last_read;		/* newest read noted */
	TimestampTz flushed;		/* newest read written to csms.secrets, or 0 */
} UsageEntry;

/* an entry holds a read that is not in csms.secrets yet */
#define ENTRY_PENDING(e)	((e)->last_read > (e)->flushed)

typedef struct UsageShared
{
	LWLockPadded *locks;		/* USAGE_PARTITIONS locks */
	pg_atomic_uint32 used;		/* entries in the table */
	pg_atomic_uint32 wake_requested;	/* a reader asked for an early round */
	slock_t		mutex;			/* protects launcher_latch */
	Latch	   *launcher_latch;
} UsageShared;

/* one saved read in the file */
typedef struct UsageFileEntry
{
	UsageKey	key;
	TimestampTz last_read;
} UsageFileEntry;

/* a read a flusher is writing, and what became of it */
typedef enum PendingState
{
	PENDING_TODO,
	PENDING_WRITTEN,			/* written, or stored newer already */
	PENDING_SKIPPED,			/* its row is held by another transaction */
	PENDING_MISSING				/* no such row (deleted, or not committed) */
} PendingState;

typedef struct PendingRead
{
	pg_uuid_t	secret_id;
	TimestampTz last_read;
	PendingState state;
} PendingRead;


/* set in the postmaster, inherited by every child */
static UsageShared *usage = NULL;
static HTAB *usage_table = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void usage_shmem_request(void);
static void usage_shmem_startup(void);
static void usage_shmem_shutdown(int code, Datum arg);
static void usage_load_file(void);

/* The reader's own write --------------------------------------------------- */

/*
 * last_used_time of one secret, written by its reader (no preload, or no
 * room in shared memory): in place on the secret's row at `tid`, never
 * waiting (a row or table another transaction holds is skipped: the next
 * read tries again).  No row version, no transaction id, no row lock kept:
 * the read stays a read for everything but the WAL record of the
 * overwrite, and it is recorded also in a read-only transaction.  The
 * table lock the write needs is let go at once unless the transaction held
 * it already, so that a reader's open transaction does not keep DDL on
 * csms.secrets (CREATE INDEX, say) waiting.
 */
static void
write_in_place(Relation secrets, ItemPointer tid, const pg_uuid_t *secret_id,
			   TimestampTz now)
{
	Oid			relid = csms_rel(CSMS_SECRETS);
	Relation	rel = secrets ? secrets : table_open(relid, AccessShareLock);
	bool		held = CheckRelationLockedByMe(rel, RowExclusiveLock, true);

	if (held || ConditionalLockRelationOid(relid, RowExclusiveLock))
	{
		(void) csms_row_overwrite_time(rel, tid, CSMS_SECRETS_ID, secret_id,
									   CSMS_SECRETS_LAST_USED_TIME, now);
		if (!held)
			UnlockRelationOid(relid, RowExclusiveLock);
	}
	if (secrets == NULL)
		table_close(rel, NoLock);
}


/* Set-up ------------------------------------------------------------------ */

/*
 * With shared_preload_libraries: the shared memory and the launcher;
 * called by _PG_init (which defines the settings first).
 */
void
csms_usage_init(void)
{
	BackgroundWorker worker;

	/* shared memory is only for a preloaded library */
	if (!process_shared_preload_libraries_in_progress)
		return;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = usage_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = usage_shmem_startup;

	/*
	 * The launcher runs only where writes are possible: on a standby reads
	 * record nothing, and a promoted standby starts it.
	 */
	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 10;
	strlcpy(worker.bgw_library_name, "secrets", BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "csms_usage_launcher_main", BGW_MAXLEN);
	strlcpy(worker.bgw_name, "csms usage launcher", BGW_MAXLEN);
	strlcpy(worker.bgw_type, "csms usage launcher", BGW_MAXLEN);
	RegisterBackgroundWorker(&worker);
}

/* The shared memory the table of recent reads needs */
static Size
usage_shmem_size(void)
{
	Size		size = MAXALIGN(sizeof(UsageShared));

	size = add_size(size, hash_estimate_size(csms_usage_slots, sizeof(UsageEntry)));
	/* each freelist of a partitioned table is a separate, aligned chunk */
	return add_size(size, mul_size(USAGE_PARTITIONS, PG_CACHE_LINE_SIZE));
}

/* shmem_request_hook: ask for that memory and the locks */
static void
usage_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(usage_shmem_size());
	RequestNamedLWLockTranche(USAGE_TRANCHE, USAGE_PARTITIONS);
}

/* shmem_startup_hook: attach to (or create) the table */
static void
usage_shmem_startup(void)
{
	bool		found;
	HASHCTL		info;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	usage = ShmemInitStruct("csms usage", sizeof(UsageShared), &found);
	if (!found)
	{
		usage->locks = GetNamedLWLockTranche(USAGE_TRANCHE);
		pg_atomic_init_u32(&usage->used, 0);
		pg_atomic_init_u32(&usage->wake_requested, 0);
		SpinLockInit(&usage->mutex);
		usage->launcher_latch = NULL;
	}
	memset(&info, 0, sizeof(info));
	info.keysize = sizeof(UsageKey);
	info.entrysize = sizeof(UsageEntry);
	info.num_partitions = USAGE_PARTITIONS;
	/* fixed size: a full table must make readers fall back, not grow */
	usage_table = ShmemInitHash("csms usage table",
								csms_usage_slots, csms_usage_slots, &info,
								HASH_ELEM | HASH_BLOBS | HASH_PARTITION | HASH_FIXED_SIZE);
	LWLockRelease(AddinShmemInitLock);

	/* in the postmaster: save unwritten reads at exit, load the last ones */
	if (!IsUnderPostmaster)
	{
		on_shmem_exit(usage_shmem_shutdown, (Datum) 0);
		if (!found)
			usage_load_file();
	}
}

/* The table --------------------------------------------------------------- */

/* The lock of the partition a secret hashes to */
static inline LWLock *
partition_lock(uint32 hash)
{
	return &usage->locks[hash % USAGE_PARTITIONS].lock;
}

/* Take every partition lock (a flush reads the whole table) */
static void
lock_all(LWLockMode mode)
{
	int			i;

	for (i = 0; i < USAGE_PARTITIONS; i++)
		LWLockAcquire(&usage->locks[i].lock, mode);
}

/* Release every partition lock */
static void
unlock_all(void)
{
	int			i;

	for (i = USAGE_PARTITIONS - 1; i >= 0; i--)
		LWLockRelease(&usage->locks[i].lock);
}

/* Is the table more than half full? */
static bool
table_pressed(void)
{
	return pg_atomic_read_u32(&usage->used) > (uint32) csms_usage_slots / 2;
}

/* Ask the launcher for a round now; once until it starts one. */
static void
usage_wake(void)
{
	Latch	   *latch;

	if (pg_atomic_exchange_u32(&usage->wake_requested, 1) != 0)
		return;
	SpinLockAcquire(&usage->mutex);
	latch = usage->launcher_latch;
	SpinLockRelease(&usage->mutex);
	if (latch)
		SetLatch(latch);
}

/* The table key of a secret in a database */
static void
make_key(UsageKey *key, Oid dbid, const pg_uuid_t *secret_id)
{
	memset(key, 0, sizeof(*key));	/* HASH_BLOBS compares the padding too */
	key->dbid = dbid;
	key->secret_id = *secret_id;
}

/*
 * Note a read at `when`; false when the table is full.  One exclusive lock
 * of the secret's partition: a backend notes a secret at most once a minute
 * (the local table below), so readers of one secret rarely meet here, and
 * looking first under a shared lock only doubled the work of a new note.
 */
static bool
usage_note(const pg_uuid_t *secret_id, TimestampTz when)
{
	UsageKey	key;
	uint32		hash;
	LWLock	   *lock;
	UsageEntry *e;
	bool		found;
	uint32		used = 0;

	make_key(&key, MyDatabaseId, secret_id);
	hash = get_hash_value(usage_table, &key);
	lock = partition_lock(hash);

	LWLockAcquire(lock, LW_EXCLUSIVE);
	e = hash_search_with_hash_value(usage_table, &key, hash, HASH_ENTER_NULL, &found);
	if (e == NULL)
	{
		LWLockRelease(lock);
		usage_wake();
		return false;
	}
	if (!found)
	{
		e->last_read = when;
		e->flushed = 0;
		/* counted under the lock, so that a removal never comes first */
		used = pg_atomic_add_fetch_u32(&usage->used, 1);
	}
	else if (e->last_read < when - USECS_PER_MINUTE)
		e->last_read = when;	/* else: noted less than a minute ago, kept */
	LWLockRelease(lock);

	if (used > (uint32) csms_usage_slots / 2)
		usage_wake();
	return true;
}

/*
 * Secrets whose stale last_used_time this backend took care of, and when:
 * noted in shared memory, or written in place (or tried: a row another
 * transaction held) by the reader itself.  Until the worker has written a
 * note, the row still shows the old time; within a minute of the note (or
 * the grain, when shorter), a read of the same secret does not try again.
 * A table of this process (so that the backends' reads do not bounce
 * shared partition locks between CPUs), 4-way set-associative by a hash of
 * the id, the oldest way of a set giving way; a miss only costs a
 * note or a write.  4096 sets of 4 entries of 24 bytes (384 kB, touched as
 * used).
 */
/* a minute, or the grain when it is shorter */
#define LOCAL_DONE_WINDOW \
	Min(USECS_PER_MINUTE, (TimestampTz) csms_last_used_grain * USECS_PER_SEC)
#define LOCAL_DONE_WAYS	4
#define LOCAL_DONE_SETS	4096

typedef struct LocalDone
{
	pg_uuid_t	id;
	TimestampTz at;
} LocalDone;

static LocalDone local_done[LOCAL_DONE_SETS][LOCAL_DONE_WAYS];

/* The set of secret `id` */
static inline LocalDone *
local_done_set(const pg_uuid_t *id)
{
	return local_done[csms_id_hash64(id->data, 0) % LOCAL_DONE_SETS];
}

/*
 * The entry of secret `id`: *hit when it was taken care of less than a
 * minute before `now`; else the entry to fill (its own, or the oldest).
 */
static LocalDone *
local_done_entry(const pg_uuid_t *id, TimestampTz now, bool *hit)
{
	LocalDone  *set = local_done_set(id);
	LocalDone  *oldest = &set[0];
	int			i;

	for (i = 0; i < LOCAL_DONE_WAYS; i++)
	{
		if (memcmp(set[i].id.data, id->data, UUID_LEN) == 0)
		{
			*hit = set[i].at >= now - LOCAL_DONE_WINDOW && set[i].at <= now;
			return &set[i];
		}
		if (set[i].at < oldest->at)
			oldest = &set[i];
	}
	*hit = false;
	return oldest;
}

/*
 * The read path's one call for last_used_time, after a successful read of
 * secret `secret_id`, whose row of csms.secrets (rel, or NULL when it is not
 * open) the read found at `tid` with last_used_time `stored`.
 *
 * Nothing to do when the stored time is less than csms.last_used_grain old:
 * nearly every read, and known from the row the read already has.  Else the
 * read is noted in shared memory (preloaded: the worker writes it), or
 * written in place by the reader (not preloaded, or a full table); within a
 * minute of that (or the grain, when shorter), this backend does not try the
 * same secret again.
 */
void
csms_usage_record(Relation rel, ItemPointer tid, const pg_uuid_t *secret_id,
				  TimestampTz stored)
{
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	LocalDone  *d;
	bool		hit;

	if (!csms_track_last_used ||
		stored > now - (TimestampTz) csms_last_used_grain * USECS_PER_SEC ||
		RecoveryInProgress())
		return;
	d = local_done_entry(secret_id, now, &hit);
	if (hit)
		return;
	d->id = *secret_id;
	d->at = now;
	if (usage_table != NULL && usage_note(secret_id, now))
		return;
	write_in_place(rel, tid, secret_id, now);
}

/*
 * last_used_time as a caller should see it: the stored value, or a newer
 * read not written yet.
 */
void
csms_usage_merge(const pg_uuid_t *secret_id, Datum *last_used, bool *isnull)
{
	UsageKey	key;
	uint32		hash;
	LWLock	   *lock;
	UsageEntry *e;
	bool		found;
	TimestampTz read = 0;

	if (usage_table == NULL)
		return;
	make_key(&key, MyDatabaseId, secret_id);
	hash = get_hash_value(usage_table, &key);
	lock = partition_lock(hash);
	LWLockAcquire(lock, LW_SHARED);
	e = hash_search_with_hash_value(usage_table, &key, hash, HASH_FIND, NULL);
	found = e != NULL;
	if (found)
		read = e->last_read;
	LWLockRelease(lock);
	if (found && (*isnull || read > DatumGetTimestampTz(*last_used)))
	{
		*last_used = TimestampTzGetDatum(read);
		*isnull = false;
	}
}

/* Remove every entry of database `dbid`; returns how many were unwritten. */
static int
forget_database(Oid dbid)
{
	HASH_SEQ_STATUS seq;
	UsageEntry *e;
	int			pending = 0;

	lock_all(LW_EXCLUSIVE);
	hash_seq_init(&seq, usage_table);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		if (e->key.dbid != dbid)
			continue;
		if (ENTRY_PENDING(e))
			pending++;
		hash_search(usage_table, &e->key, HASH_REMOVE, NULL);
		pg_atomic_sub_fetch_u32(&usage->used, 1);
	}
	unlock_all();
	return pending;
}

/*
 * Evict written entries: after a minute (until then they spare readers
 * whose snapshot predates the write a second entry), or at once when the
 * table is more than half full.
 */
static void
evict_written(void)
{
	TimestampTz cutoff = GetCurrentTimestamp() - USECS_PER_MINUTE;
	bool		pressed = table_pressed();
	HASH_SEQ_STATUS seq;
	UsageEntry *e;

	lock_all(LW_EXCLUSIVE);
	hash_seq_init(&seq, usage_table);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		if (!ENTRY_PENDING(e) && (pressed || e->last_read < cutoff))
		{
			hash_search(usage_table, &e->key, HASH_REMOVE, NULL);
			pg_atomic_sub_fetch_u32(&usage->used, 1);
		}
	}
	unlock_all();
}

/* The file of a clean shutdown --------------------------------------------- */

/*
 * Did the server stop cleanly?  Only then have all processes left the table
 * through proc_exit, with its locks released; an immediate shutdown
 * (SIGQUIT) may have stopped one in the middle of a change, and exits the
 * postmaster with code 0 all the same.  The shutdown checkpoint, written
 * last, says it.
 */
static bool
stopped_cleanly(void)
{
	bool		crc_ok;
	ControlFileData *control = get_controlfile(DataDir, &crc_ok);
	bool		clean = crc_ok &&
		(control->state == DB_SHUTDOWNED || control->state == DB_SHUTDOWNED_IN_RECOVERY);

	pfree(control);
	return clean;
}

/*
 * In the postmaster, at exit: every other process is gone, so the table is
 * read without locks.  Not after a crash or an immediate shutdown: those
 * may lose recent reads.
 */
static void
usage_shmem_shutdown(int code, Datum arg)
{
	FILE	   *file;
	HASH_SEQ_STATUS seq;
	UsageEntry *e;
	uint32		header[4];
	uint32		count = 0;

	if (code != 0 || usage == NULL || usage_table == NULL || !stopped_cleanly())
		return;

	hash_seq_init(&seq, usage_table);
	while ((e = hash_seq_search(&seq)) != NULL)
		if (ENTRY_PENDING(e))
			count++;
	if (count == 0)
	{
		unlink(USAGE_FILE);
		return;
	}

	file = AllocateFile(USAGE_FILE_TMP, PG_BINARY_W);
	if (file == NULL)
		goto error;
	header[0] = USAGE_FILE_MAGIC;
	header[1] = USAGE_FILE_FORMAT;
	header[2] = sizeof(UsageFileEntry);
	header[3] = count;
	if (fwrite(header, sizeof(header), 1, file) != 1)
		goto error;
	hash_seq_init(&seq, usage_table);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		UsageFileEntry fe;

		if (!ENTRY_PENDING(e))
			continue;
		memset(&fe, 0, sizeof(fe));
		fe.key = e->key;
		fe.last_read = e->last_read;
		if (fwrite(&fe, sizeof(fe), 1, file) != 1)
		{
			hash_seq_term(&seq);
			goto error;
		}
	}
	if (FreeFile(file) != 0)
	{
		file = NULL;
		goto error;
	}
	(void) durable_rename(USAGE_FILE_TMP, USAGE_FILE, LOG);
	return;

error:
	ereport(LOG,
			(errcode_for_file_access(),
			 errmsg("could not write file \"%s\": %m", USAGE_FILE_TMP),
			 errdetail("%u reads of secrets recorded since the last write of last_used_time are lost.", count)));
	if (file)
		FreeFile(file);
	unlink(USAGE_FILE_TMP);
}

/* In the postmaster, at start: the reads a clean shutdown saved. */
static void
usage_load_file(void)
{
	FILE	   *file;
	uint32		header[4];
	uint32		i,
				lost = 0;

	file = AllocateFile(USAGE_FILE, PG_BINARY_R);
	if (file == NULL)
	{
		if (errno != ENOENT)
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", USAGE_FILE)));
		return;
	}
	if (fread(header, sizeof(header), 1, file) != 1 ||
		header[0] != USAGE_FILE_MAGIC || header[1] != USAGE_FILE_FORMAT ||
		header[2] != sizeof(UsageFileEntry))
	{
		ereport(LOG,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("ignoring file \"%s\": it was not written by this version of extension \"secrets\"",
						USAGE_FILE)));
		goto done;
	}
	for (i = 0; i < header[3]; i++)
	{
		UsageFileEntry fe;
		UsageEntry *e;
		bool		found;

		if (fread(&fe, sizeof(fe), 1, file) != 1)
		{
			ereport(LOG,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("file \"%s\" is truncated", USAGE_FILE)));
			break;
		}
		e = hash_search(usage_table, &fe.key, HASH_ENTER_NULL, &found);
		if (e == NULL)
		{
			lost = header[3] - i;
			break;
		}
		if (!found)
		{
			e->last_read = fe.last_read;
			e->flushed = 0;
			pg_atomic_add_fetch_u32(&usage->used, 1);
		}
		else if (e->last_read < fe.last_read)
			e->last_read = fe.last_read;
	}
	if (lost > 0)
		ereport(LOG,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("%u reads of secrets saved at the last shutdown do not fit in csms.usage_slots and are lost", lost)));

done:
	FreeFile(file);
	unlink(USAGE_FILE);
}

/* The launcher ------------------------------------------------------------ */

/* Forget the launcher's handle on a worker that ended */
static void
launcher_detach(int code, Datum arg)
{
	SpinLockAcquire(&usage->mutex);
	usage->launcher_latch = NULL;
	SpinLockRelease(&usage->mutex);
}

/* Databases with unwritten reads, sorted. */
static Oid *
pending_databases(int *n)
{
	HASH_SEQ_STATUS seq;
	UsageEntry *e;
	int			size = 8;
	Oid		   *dbs = palloc(sizeof(Oid) * size);
	int			i;

	*n = 0;
	lock_all(LW_SHARED);
	hash_seq_init(&seq, usage_table);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		if (!ENTRY_PENDING(e))
			continue;
		for (i = 0; i < *n && dbs[i] != e->key.dbid; i++)
			;
		if (i < *n)
			continue;
		if (*n == size)
		{
			size *= 2;
			dbs = repalloc(dbs, sizeof(Oid) * size);
		}
		dbs[(*n)++] = e->key.dbid;
	}
	unlock_all();
	qsort(dbs, *n, sizeof(Oid), oid_cmp);
	return dbs;
}

typedef enum DatabaseState
{
	DB_GONE,					/* dropped, or left invalid by a failed drop */
	DB_CLOSED,					/* does not allow connections now */
	DB_OPEN
} DatabaseState;

/* What pg_database says of `dbid` (a shared catalog: no database needed). */
static DatabaseState
database_state(Oid dbid)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	DatabaseState state = DB_GONE;

	StartTransactionCommand();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

		if (db->oid != dbid)
			continue;
#ifdef DATCONNLIMIT_INVALID_DB
		if (db->datconnlimit == DATCONNLIMIT_INVALID_DB)
			break;
#endif
		state = db->datallowconn ? DB_OPEN : DB_CLOSED;
		break;
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return state;
}

/*
 * Run a flusher for database `dbid` and wait until it is done; false when
 * no worker could be started (no free slot in max_worker_processes).
 */
static bool
run_flusher(Oid dbid)
{
	static bool start_failed = false;	/* say it once, not every round */

	if (!csms_run_database_worker("csms_usage_flusher_main", "csms usage flusher", dbid))
	{
		if (!start_failed)
			ereport(LOG,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("could not start a background worker to write last_used_time of secrets"),
					 errdetail("Every slot of max_worker_processes is in use; reads stay in shared memory, and when csms.usage_slots are all taken, reads write last_used_time themselves."),
					 errhint("Raise max_worker_processes.")));
		start_failed = true;
		return false;
	}
	start_failed = false;
	return true;
}

/* One round: a flusher for each database with unwritten reads, then eviction. */
static void
launcher_round(void)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "csms usage round",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	Oid		   *dbs;
	int			n,
				i;

	pg_atomic_write_u32(&usage->wake_requested, 0);
	dbs = pending_databases(&n);
	for (i = 0; i < n && !ShutdownRequestPending; i++)
	{
		switch (database_state(dbs[i]))
		{
			case DB_GONE:
				(void) forget_database(dbs[i]);
				break;
			case DB_CLOSED:
				/* kept until it allows connections again, or is dropped */
				break;
			case DB_OPEN:
				if (!run_flusher(dbs[i]))
					i = n;		/* no slot now: the next round tries again */
				break;
		}
	}
	evict_written();
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

/* The launcher: starts one flusher per database with recorded reads */
void
csms_usage_launcher_main(Datum arg)
{
	TimestampTz last_round = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();

	/* connected to no database: it reads the shared catalog pg_database */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	SpinLockAcquire(&usage->mutex);
	usage->launcher_latch = MyLatch;
	SpinLockRelease(&usage->mutex);
	on_shmem_exit(launcher_detach, (Datum) 0);

	/* reads saved by a clean shutdown are written at once */
	if (pg_atomic_read_u32(&usage->used) == 0)
		last_round = GetCurrentTimestamp();

	for (;;)
	{
		TimestampTz now;
		long		wait_ms;

		CHECK_FOR_INTERRUPTS();
		if (ShutdownRequestPending)
			break;
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		now = GetCurrentTimestamp();
		wait_ms = csms_usage_flush_interval -
			(long) ((now - last_round) / 1000);
		if (wait_ms <= 0 || pg_atomic_read_u32(&usage->wake_requested) != 0)
		{
			last_round = now;
			launcher_round();
			continue;
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 wait_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	/* exit code 1: restarted, should someone terminate it by mistake */
	proc_exit(1);
}

/* The flusher ------------------------------------------------------------- */

/* Order pending reads by secret id */
static int
pending_cmp(const void *a, const void *b)
{
	return memcmp(&((const PendingRead *) a)->secret_id,
				  &((const PendingRead *) b)->secret_id, UUID_LEN);
}

/* The unwritten reads of database `dbid`, sorted by secret id. */
static PendingRead *
collect_pending(Oid dbid, int *n)
{
	HASH_SEQ_STATUS seq;
	UsageEntry *e;
	Size		size = Max(pg_atomic_read_u32(&usage->used), 16);
	PendingRead *p = palloc_extended(sizeof(PendingRead) * size, MCXT_ALLOC_HUGE);

	*n = 0;
	lock_all(LW_SHARED);
	hash_seq_init(&seq, usage_table);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		if (e->key.dbid != dbid || !ENTRY_PENDING(e))
			continue;
		if (*n == size)
		{
			size *= 2;
			p = repalloc_huge(p, sizeof(PendingRead) * size);
		}
		p[*n].secret_id = e->key.secret_id;
		p[*n].last_read = e->last_read;
		p[*n].state = PENDING_TODO;
		(*n)++;
	}
	unlock_all();
	qsort(p, *n, sizeof(PendingRead), pending_cmp);
	return p;
}

/*
 * After a batch committed: written reads are marked written (unless read
 * again since; under pressure they go at once), missing rows are forgotten
 * once their read is a minute old (until then the row may be one whose
 * creating transaction has not committed yet).
 */
static void
mark_batch(Oid dbid, PendingRead *p, int n, TimestampTz cutoff)
{
	bool		pressed = table_pressed();
	int			i;

	for (i = 0; i < n; i++)
	{
		UsageKey	key;
		uint32		hash;
		LWLock	   *lock;
		UsageEntry *e;

		if (p[i].state != PENDING_WRITTEN &&
			!(p[i].state == PENDING_MISSING && p[i].last_read < cutoff))
			continue;
		make_key(&key, dbid, &p[i].secret_id);
		hash = get_hash_value(usage_table, &key);
		lock = partition_lock(hash);
		LWLockAcquire(lock, LW_EXCLUSIVE);
		e = hash_search_with_hash_value(usage_table, &key, hash, HASH_FIND, NULL);
		if (e != NULL)
		{
			if (p[i].state == PENDING_WRITTEN && e->flushed < p[i].last_read)
				e->flushed = p[i].last_read;
			if (e->last_read <= p[i].last_read &&
				(p[i].state == PENDING_MISSING || pressed))
			{
				hash_search_with_hash_value(usage_table, &key, hash, HASH_REMOVE, NULL);
				pg_atomic_sub_fetch_u32(&usage->used, 1);
			}
		}
		LWLockRelease(lock);
	}
}

/*
 * Write one batch (sorted by id) in one transaction, as the owner of schema
 * csms; false, having written nothing, when DDL holds the table (the next
 * round tries again: the worker never queues behind a long ALTER TABLE or
 * VACUUM FULL, nor makes the sessions queued behind it wait longer).  Each
 * secret's row is found by its id and its last_used_time overwritten in
 * place when older than the read (csms_row_overwrite_time), never waiting
 * for a user's transaction: written (or found newer) reads become
 * PENDING_WRITTEN, rows held by another transaction PENDING_SKIPPED (the
 * next round tries again), secrets not found PENDING_MISSING (deleted, or
 * created by a transaction that has not committed yet).
 */
static bool
flush_batch(Oid relid, PendingRead *p, int n)
{
	CsmsCall	call;
	Relation	rel;
	TupleTableSlot *slot;
	Oid			proc = F_UUID_EQ;
	CsmsFinder *finder;
	int			i;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (!ConditionalLockRelationOid(relid, RowExclusiveLock))
	{
		AbortCurrentTransaction();
		return false;
	}
	PushActiveSnapshot(GetTransactionSnapshot());
	csms_call_enter(&call, "last_used_time writer", false);
	pgstat_report_activity(STATE_RUNNING, "csms: writing last_used_time of secrets");

	rel = table_open(relid, NoLock);
	slot = table_slot_create(rel, NULL);
	finder = csms_finder_begin(rel, csms_index(CSMS_SECRETS_PKEY), 1, &proc);
	for (i = 0; i < n; i++)
	{
		Datum		id = UUIDPGetDatum(&p[i].secret_id);
		ItemPointerData tid;

		if (!csms_finder_get(finder, &id, slot))
		{
			p[i].state = PENDING_MISSING;
			continue;
		}
		tid = slot->tts_tid;
		p[i].state = csms_row_overwrite_time(rel, &tid, CSMS_SECRETS_ID, &p[i].secret_id,
											 CSMS_SECRETS_LAST_USED_TIME, p[i].last_read) ?
			PENDING_WRITTEN : PENDING_SKIPPED;
		ExecClearTuple(slot);
	}
	csms_finder_end(finder);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, NoLock);

	csms_call_end(&call);
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
	return true;
}

/*
 * The owner of schema csms, when extension secrets is installed in this
 * database as this library expects (the catalog, catalog.h), with the
 * table this file writes (*relid); InvalidOid otherwise, and then
 * *installed says whether the extension is there at an older version
 * that ALTER EXTENSION secrets UPDATE has not brought to this library's
 * yet: its reads wait for it.  Also the name of the database, for
 * messages.
 */
static Oid
state_owner(char *dbname, Oid *relid, bool *installed)
{
	Oid			owner = InvalidOid;
	char	   *name;

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	name = get_database_name(MyDatabaseId);
	strlcpy(dbname, name ? name : "?", NAMEDATALEN);
	*relid = InvalidOid;
	*installed = true;
	if (csms_catalog_ok())
	{
		owner = csms_schema_owner();
		*relid = csms_rel(CSMS_SECRETS);
	}
	else
	{
		/*
		 * Only 1.0 is a version that ALTER EXTENSION secrets UPDATE brings to
		 * this library's; any other mismatch (a damaged schema, a version this
		 * library does not know) never resolves by waiting.
		 */
		*installed = strcmp(csms_catalog_version(), "1.0") == 0;
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	return owner;
}

/* Write the pending reads in batches, each marked when it committed */
static void
flush_all(Oid dbid, Oid relid, PendingRead *p, int n, TimestampTz cutoff)
{
	int			done;

	for (done = 0; done < n; done += USAGE_BATCH)
	{
		int			size = Min(USAGE_BATCH, n - done);

		/* a clean shutdown stops between batches: the rest goes to the file */
		CHECK_FOR_INTERRUPTS();
		if (ShutdownRequestPending)
			break;
		if (!flush_batch(relid, p + done, size))
		{
			ereport(DEBUG1,
					(errmsg("table csms.secrets is locked: last_used_time is written next round")));
			break;
		}
		mark_batch(dbid, p + done, size, cutoff);
	}
}

/* Say in an error's context which database the flusher writes */
static void
flusher_error_context(void *arg)
{
	errcontext("writing last_used_time of secrets in database \"%s\"", (const char *) arg);
}

/* One pass of a flusher over the recorded reads of its database */
static void
flusher_pass(Oid dbid)
{
	PendingRead *p;
	int			n;
	Oid			owner;
	TimestampTz cutoff;
	char		dbname[NAMEDATALEN];
	Oid			relid;
	bool		installed;
	ErrorContextCallback errcallback;

	p = collect_pending(dbid, &n);
	if (n == 0)
		return;

	owner = state_owner(dbname, &relid, &installed);
	if (!OidIsValid(owner) && installed)
	{
		ereport(DEBUG1,
				(errmsg("last_used_time in database \"%s\" waits for ALTER EXTENSION secrets UPDATE",
						dbname)));
		return;
	}
	if (!OidIsValid(owner))
	{
		int			lost = forget_database(dbid);

		if (lost > 0)
			ereport(LOG,
					(errmsg("discarded %d unwritten reads of secrets in database \"%s\"",
							lost, dbname),
					 errdetail("Extension \"secrets\" is not installed there any more.")));
		return;
	}

	/*
	 * Rows that do not exist are forgotten only when their read is a
	 * minute old: a secret created and read in a transaction that has not
	 * committed yet is not visible here.
	 */
	cutoff = GetCurrentTimestamp() - USECS_PER_MINUTE;

	errcallback.callback = flusher_error_context;
	errcallback.arg = dbname;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	flush_all(dbid, relid, p, n, cutoff);
	error_context_stack = errcallback.previous;
}

/* A flusher: writes the recorded reads of one database, then sleeps */
void
csms_usage_flusher_main(Datum arg)
{
	Oid			dbid = DatumGetObjectId(arg);

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dbid, InvalidOid, 0);

	/*
	 * Settings of the database (ALTER DATABASE ... SET) must not change
	 * what the worker does.  Reads in read-only transactions are recorded
	 * by design, so the worker writes even where transactions default to
	 * read-only; each batch takes a fresh snapshot (READ COMMITTED), so it
	 * finds the latest version of every row; a lock it cannot get at once
	 * (besides the table's and the rows', tried without waiting) makes it
	 * give up after a second and try again next round; its commits wait
	 * neither for a WAL flush nor for a synchronous standby (last_used_time
	 * is bookkeeping, and a crash may lose about one interval of it anyway).
	 */
	SetConfigOption("search_path", "pg_catalog", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_isolation", "read committed", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("lock_timeout", "1s", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("statement_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("synchronous_commit", "off", PGC_SUSET, PGC_S_OVERRIDE);

	/*
	 * An error (a lock timeout behind DDL, say) ends this pass with an
	 * ERROR in the log rather than a FATAL; what is not written yet stays
	 * in shared memory for the next round.
	 */
	PG_TRY();
	{
		flusher_pass(dbid);
	}
	PG_CATCH();
	{
		HOLD_INTERRUPTS();
		EmitErrorReport();
		FlushErrorState();
		AbortOutOfAnyTransaction();
		RESUME_INTERRUPTS();
		proc_exit(1);
	}
	PG_END_TRY();
	proc_exit(0);
}
