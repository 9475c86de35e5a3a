/*-------------------------------------------------------------------------
 *
 * usage.c
 *	  last_used_time without writes on the read path.
 *
 *	  Without help, the first read of a secret in a minute writes its row
 *	  of csms.usage inside the reader's transaction.  With many secrets
 *	  read at random nearly every read is such a first read, so reads turn
 *	  into writes: a row version, WAL, a transaction id, a commit record.
 *
 *	  When the library is in shared_preload_libraries, reads are noted in
 *	  a fixed-size table in shared memory instead -- (database, secret) ->
 *	  time of the read (the reading transaction's start, as now() in the
 *	  synchronous write) -- and a background worker writes them to
 *	  csms.usage every csms.usage_flush_interval, in batches, in its own
 *	  transactions:
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
 *	  not there (not preloaded) or the table is full, it answers false and
 *	  the reader writes synchronously as before.  Functions that return
 *	  last_used_time merge the unwritten read (csms_usage_merge), so callers
 *	  see what synchronous writes would have shown.
 *
 *	  Durability: a read is noted at once, also in a read-only transaction
 *	  and also when the reader's transaction rolls back (the value was
 *	  handed out all the same).  A clean shutdown saves unwritten reads to
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
	TimestampTz flushed;		/* newest read written to csms.usage, or 0 */
} UsageEntry;

/* an entry holds a read that is not in csms.usage yet */
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
 * room in shared memory): only a time more than a minute old is replaced
 * (looked at first without a lock, so that a read finding a fresh one
 * writes nothing),
 * and a row another transaction holds is skipped rather than waited for
 * (that transaction records the read), as SELECT ... FOR NO KEY UPDATE SKIP
 * LOCKED would; only the very first read of a secret inserts, and two
 * concurrent first reads meet on the primary key, as INSERT ... ON CONFLICT
 * DO NOTHING would.  By index, without the planner: a plan made while
 * csms.usage was small would scan it whole as it grows.
 */
void
csms_touch_secret(const pg_uuid_t *secret_id)
{
	static const Oid procs[1] = {F_UUID_EQ};
	static const LockTupleMode mode = LockTupleNoKeyExclusive;
	CsmsCall	call;
	Datum		key = UUIDPGetDatum(secret_id);
	TimestampTz now = GetCurrentTransactionStartTimestamp();	/* now() */
	Relation	rel;
	TupleTableSlot *slot;
	bool		found,
				skipped;

	csms_call_enter(&call, "last_used_time", false);
	rel = table_open(csms_rel(CSMS_USAGE), RowExclusiveLock);
	slot = table_slot_create(rel, NULL);
	csms_snapshot_push();

	/*
	 * First without a lock: when another backend wrote a time less than a
	 * minute old, there is nothing to do, and the read stays a read (a row
	 * lock would take a transaction id and write WAL for every first read
	 * of a secret in a backend).
	 */
	if (csms_row_find(rel, csms_index(CSMS_USAGE_PKEY), 1, procs, &key, NULL, slot))
	{
		bool		isnull;
		Datum		last = csms_slot_attr(slot, CSMS_USAGE_LAST_USED_TIME, &isnull);

		if (!isnull && DatumGetTimestampTz(last) >= now - USECS_PER_MINUTE)
		{
			PopActiveSnapshot();
			ExecDropSingleTupleTableSlot(slot);
			table_close(rel, NoLock);
			csms_call_end(&call);
			return;
		}
	}
	found = csms_row_find_wait(rel, csms_index(CSMS_USAGE_PKEY), 1, procs, &key, &mode,
							   LockWaitSkip, slot, &skipped);
	PopActiveSnapshot();
	if (found)
	{
		bool		isnull;
		Datum		last = csms_slot_attr(slot, CSMS_USAGE_LAST_USED_TIME, &isnull);

		if (isnull || DatumGetTimestampTz(last) < now - USECS_PER_MINUTE)
		{
			CsmsWriter *w = csms_writer_begin(CSMS_USAGE, CSMS_WRITE_UPDATE);
			ItemPointerData tid = slot->tts_tid;
			CsmsCol		cols[] = {
				{CSMS_USAGE_LAST_USED_TIME, TimestampTzGetDatum(now), false},
			};

			csms_writer_update(w, &tid, cols, lengthof(cols));
			csms_writer_end(w);
		}
	}
	else if (!skipped)
	{
		CsmsCol		cols[] = {
			{CSMS_USAGE_SECRET_ID, key, false},
			{CSMS_USAGE_LAST_USED_TIME, TimestampTzGetDatum(now), false},
		};

		(void) csms_row_insert(CSMS_USAGE, CSMS_USAGE_PKEY, cols, lengthof(cols));
	}
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, NoLock);
	csms_call_end(&call);
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
 * Secrets whose read this backend took care of, and when: noted in shared
 * memory, or written (or tried: a row another transaction held) by the
 * reader itself without it.  Within a minute of that, a read of the same
 * secret does nothing, not even take a shared lock: what csms.usage says
 * (or will say once the worker writes the note) is at most a minute old.
 * A table of this process (so that the backends' reads do not bounce
 * shared partition locks between CPUs), 4-way set-associative by the id's
 * random bits, the oldest way of a set giving way; a miss only costs a note
 * or a write.  4096 sets of 4 entries of 24 bytes (384 kB, touched as used)
 * keep a working set of ten thousand secrets per backend (a direct-mapped
 * table of the same size missed a quarter of them).
 */
#define LOCAL_DONE_WAYS	4
#define LOCAL_DONE_SETS	4096

typedef struct LocalDone
{
	pg_uuid_t	id;
	TimestampTz at;
} LocalDone;

static LocalDone local_done[LOCAL_DONE_SETS][LOCAL_DONE_WAYS];

/* The set of secret `id`, by its random bits. */
static inline LocalDone *
local_done_set(const pg_uuid_t *id)
{
	return local_done[(id->data[0] | id->data[1] << 8) % LOCAL_DONE_SETS];
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
			*hit = set[i].at >= now - USECS_PER_MINUTE && set[i].at <= now;
			return &set[i];
		}
		if (set[i].at < oldest->at)
			oldest = &set[i];
	}
	*hit = false;
	return oldest;
}

/*
 * Start loading the local table's set of secret `id` into the CPU cache
 * (as csms_data_key_prefetch does for the data keys): called by the read
 * as soon as it knows the secret, long before csms_usage_record.
 */
void
csms_usage_prefetch(const pg_uuid_t *id)
{
#ifdef __GNUC__
	const char *set = (const char *) local_done_set(id);

	__builtin_prefetch(set);
	__builtin_prefetch(set + sizeof(LocalDone) * LOCAL_DONE_WAYS - 1);
#endif
}

/*
 * The read path's one call for last_used_time, after a successful read of
 * secret `secret_id`.
 *
 * Returns true when the read is taken care of: recorded in shared memory,
 * or nothing to record (tracking off, a standby, a read-only transaction,
 * this backend took care of a read of it less than a minute ago).  Returns
 * false when the caller must write last_used_time itself
 * (csms_touch_secret, which writes only a time more than a minute old):
 * without shared memory or with a full table.
 */
bool
csms_usage_record(const pg_uuid_t *secret_id)
{
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	LocalDone  *d;
	bool		hit;

	if (!csms_track_last_used || RecoveryInProgress())
		return true;
	d = local_done_entry(secret_id, now, &hit);
	if (hit)
		return true;
	if (usage_table != NULL && usage_note(secret_id, now))
	{
		d->id = *secret_id;
		d->at = now;
		return true;
	}
	if (XactReadOnly)
		return true;
	d->id = *secret_id;
	d->at = now;
	return false;
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
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	pid_t		pid;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(worker.bgw_library_name, MyBgworkerEntry->bgw_library_name, BGW_MAXLEN);
	strlcpy(worker.bgw_function_name, "csms_usage_flusher_main", BGW_MAXLEN);
	snprintf(worker.bgw_name, BGW_MAXLEN, "csms usage flusher for database %u", dbid);
	strlcpy(worker.bgw_type, "csms usage flusher", BGW_MAXLEN);
	worker.bgw_main_arg = ObjectIdGetDatum(dbid);
	worker.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
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

	status = WaitForBackgroundWorkerStartup(handle, &pid);
	if (status == BGWH_STARTED)
		status = WaitForBackgroundWorkerShutdown(handle);
	if (status == BGWH_POSTMASTER_DIED)
		proc_exit(1);
	pfree(handle);
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

/* The pending read of a secret id, by binary search */
static PendingRead *
find_pending(PendingRead *p, int n, const pg_uuid_t *id)
{
	PendingRead key;

	key.secret_id = *id;
	return bsearch(&key, p, n, sizeof(PendingRead), pending_cmp);
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

/* A uuid[] of the pending reads in state `state` */
static ArrayType *
uuid_array(PendingRead *p, int n, PendingState state)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	int			i,
				k = 0;

	for (i = 0; i < n; i++)
		if (p[i].state == state)
			d[k++] = UUIDPGetDatum(&p[i].secret_id);
	return construct_array(d, k, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR);
}

/* The read times of the entries in `state`, in the order of uuid_array. */
static ArrayType *
time_array(PendingRead *p, int n, PendingState state)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	int			i,
				k = 0;

	for (i = 0; i < n; i++)
		if (p[i].state == state)
			d[k++] = TimestampTzGetDatum(p[i].last_read);
	return construct_array(d, k, TIMESTAMPTZOID, sizeof(TimestampTz),
						   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/*
 * Move the entries whose ids the last SPI statement returned (first column)
 * from state `from` to state `to`; how many moved.
 */
static int
mark_returned(PendingRead *p, int n, PendingState from, PendingState to)
{
	uint64		i;
	int			moved = 0;

	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		PendingRead *r = find_pending(p, n,
									  DatumGetUUIDP(SPI_getbinval(SPI_tuptable->vals[i],
																  SPI_tuptable->tupdesc, 1, &isnull)));

		if (r != NULL && r->state == from)
		{
			r->state = to;
			moved++;
		}
	}
	return moved;
}

/*
 * The batch's rows that exist, written directly (no SQL): each row of
 * csms.usage found by its primary key, and updated when its stored time is
 * older than the read -- unless another transaction holds or changed it,
 * which skips it without waiting (it stays unwritten for the next round).
 * One WAL record a row; locking each row first, then updating it, took two.
 * Rows written or found newer become PENDING_WRITTEN, held ones
 * PENDING_SKIPPED; rows not found stay PENDING_TODO.  Returns how many were
 * found.
 */
static int
update_existing(PendingRead *p, int n)
{
	CsmsWriter *w = csms_writer_begin(CSMS_USAGE, CSMS_WRITE_UPDATE);
	Relation	rel = csms_writer_rel(w);
	Oid			pkey = csms_index(CSMS_USAGE_PKEY);
	int			attno = csms_attnum(CSMS_USAGE_LAST_USED_TIME);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	Oid			proc = F_UUID_EQ;
	CsmsFinder *finder;
	int			i,
				found = 0;

	finder = csms_finder_begin(rel, pkey, 1, &proc);
	for (i = 0; i < n; i++)
	{
		Datum		id = UUIDPGetDatum(&p[i].secret_id);
		Datum		stored;
		bool		isnull;
		ItemPointerData tid;
		CsmsCol		col = {CSMS_USAGE_LAST_USED_TIME,
		TimestampTzGetDatum(p[i].last_read), false};

		if (p[i].state != PENDING_TODO || !csms_finder_get(finder, &id, slot))
			continue;
		found++;
		stored = slot_getattr(slot, attno, &isnull);
		tid = slot->tts_tid;
		ExecClearTuple(slot);
		if (!isnull && DatumGetTimestampTz(stored) >= p[i].last_read)
			p[i].state = PENDING_WRITTEN;	/* nothing newer to write */
		else if (csms_writer_update_nowait(w, &tid, &col, 1))
			p[i].state = PENDING_WRITTEN;
		else
			p[i].state = PENDING_SKIPPED;
	}
	csms_finder_end(finder);
	ExecDropSingleTupleTableSlot(slot);
	csms_writer_end(w);
	return found;
}

static CsmsStmt q_usage_insert = {
	"INSERT INTO csms.usage (secret_id, last_used_time)"
	" SELECT p.id, p.t"
	" FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) AS p(id, t)"
	" WHERE EXISTS (SELECT FROM csms.secrets s WHERE s.id OPERATOR(pg_catalog.=) p.id)"
	" ORDER BY p.id ON CONFLICT (secret_id) DO NOTHING RETURNING secret_id",
	2, {UUIDARRAYOID, TIMESTAMPTZARRAYOID}
};

static CsmsStmt q_secrets_exist = {
	"SELECT id FROM csms.secrets WHERE id OPERATOR(pg_catalog.=) ANY ($1)",
	1, {UUIDARRAYOID}
};

/*
 * Write one batch (sorted by id) in one transaction, as the owner of schema
 * csms; false, having written nothing, when DDL holds the table (the next
 * round tries again: the worker never queues behind a long ALTER TABLE or
 * VACUUM FULL, nor makes the sessions queued behind it wait longer).
 * Existing rows are written directly, never waiting for a user's
 * transaction (update_existing); secrets read for the first time get a
 * row; the rest are told apart: skipped (a row another transaction holds,
 * or is inserting) or missing (no secret).
 */
static bool
flush_batch(Oid relid, PendingRead *p, int n)
{
	CsmsCall	call;
	Datum		args[2];
	int			j,
				found;

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

	found = update_existing(p, n);

	if (found < n)
	{
		/* never read before: a new row, for secrets that still exist */
		args[0] = PointerGetDatum(uuid_array(p, n, PENDING_TODO));
		args[1] = PointerGetDatum(time_array(p, n, PENDING_TODO));
		csms_exec(&q_usage_insert, args, NULL, SPI_OK_INSERT_RETURNING, 0);
		mark_returned(p, n, PENDING_TODO, PENDING_WRITTEN);

		/* the rest: a row another transaction is inserting (skipped), or no secret */
		args[0] = PointerGetDatum(uuid_array(p, n, PENDING_TODO));
		csms_exec(&q_secrets_exist, args, NULL, SPI_OK_SELECT, 0);
		mark_returned(p, n, PENDING_TODO, PENDING_SKIPPED);
		for (j = 0; j < n; j++)
			if (p[j].state == PENDING_TODO)
				p[j].state = PENDING_MISSING;
	}

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
 * table this file writes (*relid); InvalidOid otherwise.  Also the name of
 * the database, for messages.
 */
static Oid
state_owner(char *dbname, Oid *relid)
{
	Oid			owner = InvalidOid;
	char	   *name;

	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	name = get_database_name(MyDatabaseId);
	strlcpy(dbname, name ? name : "?", NAMEDATALEN);
	*relid = InvalidOid;
	if (csms_catalog_ok())
	{
		owner = csms_schema_owner();
		*relid = csms_rel(CSMS_USAGE);
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
					(errmsg("table csms.usage is locked: last_used_time is written next round")));
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
	ErrorContextCallback errcallback;

	p = collect_pending(dbid, &n);
	if (n == 0)
		return;

	owner = state_owner(dbname, &relid);
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
	 * read-only; READ COMMITTED lets a locked row be skipped instead of
	 * failing with a serialization error; a lock it cannot get at once
	 * (besides the table's, tried without waiting) makes it give up after a
	 * second and try again next round; its commits wait neither
	 * for a WAL flush nor for a synchronous standby (last_used_time is
	 * bookkeeping, and a crash may lose about one interval of it anyway).
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
