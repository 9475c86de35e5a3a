/*-------------------------------------------------------------------------
 *
 * secrets.h
 *	  Declarations shared by the PostgreSQL side of the secrets extension.
 *
 *	  Every SQL entry point follows the same shape:
 *
 *		CsmsCall	call;
 *		csms_call_begin(&call, "csms_xxx", CSMS_NEED_ROOT_KEY);
 *		... validate arguments, csms_secret_open() for the one place where
 *		... privilege and state checks happen, SPI through csms_exec() ...
 *		csms_call_end(&call);
 *
 *	  csms_call_begin connects SPI, switches to the owner of schema csms (so
 *	  callers need no privilege on the tables; the user switch is undone by
 *	  csms_call_end or, on error, by transaction abort), loads the account
 *	  row, resolves the session's region and, when asked, loads and checks the
 *	  root key.
 *
 * src/secrets.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_SECRETS_H
#define CSMS_SECRETS_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "executor/tuptable.h"
#include "nodes/lockoptions.h"
#include "storage/itemptr.h"
#include "utils/relcache.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "datatype/timestamp.h"
#include "utils/array.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

#include "crypto.h"

/*
 * The message domain of the extension's own reports, so that log redaction
 * (redact.c) can tell them from others'.
 */
#undef TEXTDOMAIN
#define TEXTDOMAIN PG_TEXTDOMAIN("secrets")

#define CSMS_NAME_MAXLEN		64
#define CSMS_VALUE_MAXLEN		32768
#define CSMS_DESCRIPTION_MAXLEN 2048
#define CSMS_MAX_VERSIONS		20
#define CSMS_MAX_STAGES			12
#define CSMS_MAX_TAGS			20
#define CSMS_PAGE_MAX			1000
#define CSMS_DEFAULT_KEY_ALIAS	"csms/default"
#define CSMS_MAX_ARGS			24

/* GUCs */
extern char *csms_root_key_command;
extern char *csms_root_key_file;
extern char *csms_region_guc;
extern bool csms_track_last_used;

/* flags for csms_call_begin */
#define CSMS_NEED_ROOT_KEY		0x01
/*
 * The account row from the per-backend cache (fastpath.c) when the session
 * works in the home region; call->project_id is then left empty.
 */
#define CSMS_CACHED_ACCOUNT		0x02

typedef struct CsmsCall
{
	const char *fname;			/* SQL name of the entry point */
	MemoryContext caller_cxt;	/* where results must be allocated */
	Oid			save_uid;
	int			save_sec;
	int			frame;			/* its place in the stack of frames (secrets.c) */
	bool		connected;
	/* the account */
	char		domain_id[33];
	char		home_region[CSMS_NAME_MAXLEN + 1];
	/* the session's region */
	char		region[CSMS_NAME_MAXLEN + 1];
	char		project_id[33];
	/* the verified root key, when CSMS_NEED_ROOT_KEY was asked for */
	const uint8 *root_key;
	uint8		root_check[CSMS_HMAC_LEN];	/* the account's check value */
	/* a PRIMARY secret this call changed: its replicas follow at the end */
	bool		changed_primary;
	pg_uuid_t	changed_primary_id;
	char		changed_primary_name[CSMS_NAME_MAXLEN + 1];	/* its replicas have it too */
} CsmsCall;

extern void csms_call_begin(CsmsCall *call, const char *fname, int flags);
extern TupleDesc csms_result_rowtype(FunctionCallInfo fcinfo, bool *cached);
extern void csms_srf_in_memory(FunctionCallInfo fcinfo);
extern void csms_call_enter(CsmsCall *call, const char *fname);
extern void csms_call_load_account(CsmsCall *call, int flags);
extern void csms_call_end(CsmsCall *call);
extern void csms_call_need_root_key(CsmsCall *call);
extern void csms_pin_search_path(void);

/* A saved SPI plan, prepared on first use. */
typedef struct CsmsStmt
{
	const char *sql;
	int			nargs;
	Oid			argtypes[CSMS_MAX_ARGS];
	SPIPlanPtr	plan;
} CsmsStmt;

extern uint64 csms_exec(CsmsStmt *stmt, Datum *values, const char *nulls,
						int expected, long tcount);
extern uint64 csms_exec_latest(CsmsStmt *stmt, Datum *values, const char *nulls,
							   long tcount);
extern Datum csms_col(uint64 row, int col, bool *isnull);
extern char *csms_col_text(uint64 row, int col);	/* NULL if SQL NULL */
extern bytea *csms_col_bytea(uint64 row, int col);
extern bool csms_is_null(uint64 row, int col);

/* rowio.c: row inserts without the planner */
typedef struct CsmsCol
{
	const char *name;
	Oid			type;
	Datum		value;
	bool		isnull;
} CsmsCol;

extern bool csms_row_insert(const char *table, const char *arbiter_index,
							const CsmsCol *cols, int ncols);

/* the OID of relation csms.<name> (cached; an error if there is none) */
extern Oid	csms_relid(const char *name);

/* several writes to one table in one statement's executor state */
typedef struct CsmsWriter CsmsWriter;

#define CSMS_WRITE_INSERT	0x01
#define CSMS_WRITE_UPDATE	0x02
#define CSMS_WRITE_DELETE	0x04
extern CsmsWriter *csms_writer_begin(const char *table, int cmds);
extern void csms_writer_insert(CsmsWriter *w, const CsmsCol *cols, int ncols);
extern void csms_writer_update(CsmsWriter *w, ItemPointer tid, const CsmsCol *cols,
							   int ncols);
extern bool csms_writer_update_nowait(CsmsWriter *w, ItemPointer tid,
									  const CsmsCol *cols, int ncols);
extern void csms_writer_delete(CsmsWriter *w, ItemPointer tid);
extern Relation csms_writer_rel(CsmsWriter *w);
extern void csms_writer_end(CsmsWriter *w);

/* reads by index without the planner, under the active snapshot */
extern void csms_snapshot_push(void);
extern bool csms_row_find(Relation rel, Oid indexoid, int nkeys, const Oid *procs,
						  const Datum *values, const LockTupleMode *lockmode,
						  TupleTableSlot *slot);
extern bool csms_row_find_wait(Relation rel, Oid indexoid, int nkeys, const Oid *procs,
							   const Datum *values, const LockTupleMode *lockmode,
							   LockWaitPolicy wait, TupleTableSlot *slot, bool *skipped);
typedef struct CsmsFinder CsmsFinder;
extern CsmsFinder *csms_finder_begin(Relation rel, Oid indexoid, int nkeys,
									 const Oid *procs);
extern bool csms_finder_get(CsmsFinder *f, const Datum *values, TupleTableSlot *slot);
extern void csms_finder_end(CsmsFinder *f);
extern List *csms_row_scan(Relation rel, Oid indexoid, int nkeys, const Oid *procs,
						   const Datum *values);
extern int	csms_attnum_find(TupleDesc desc, const char *name, Oid type);
extern int	csms_attnum(TupleDesc desc, const char *name, Oid type);
extern Datum csms_slot_col(TupleTableSlot *slot, int guess, const char *name, Oid type,
						   bool *isnull);

/* helpers */
extern void csms_random_uuid(pg_uuid_t *uuid);
extern char *csms_uuid_text(const pg_uuid_t *uuid);
extern bool csms_parse_uuid(const char *s, pg_uuid_t *uuid);
extern char *csms_version_id(int version);
extern Datum csms_text_datum(const char *s);

/* wiped-on-reset buffers for key material and plaintext */
extern void *csms_alloc_sensitive(Size size);

/* regions (secrets.c) */
extern bool csms_region_exists(const char *name, char *project_id_out);
extern char *csms_known_regions(void);

/* keyring.c */
typedef struct CsmsKey
{
	pg_uuid_t	id;
	char		id_text[37];
	char	   *alias;
	bool		enabled;
	int			version;		/* the material version used */
	uint8		material[CSMS_KEY_LEN];
} CsmsKey;

extern const uint8 *csms_root_key_load(const uint8 *expected_check,
									   bool generate_if_missing);
extern void csms_root_key_check_value(const uint8 *root, uint8 out[CSMS_HMAC_LEN]);
extern void csms_keyring_reset(void);
extern void *csms_key_memory(Size size, const char *what, bool missing_ok);

extern CsmsKey *csms_key_resolve(CsmsCall *call, const char *ref,
								 bool create_default, bool for_update);
extern CsmsKey *csms_key_create(CsmsCall *call, const char *alias,
								const char *description, const pg_uuid_t *id);
extern void csms_key_material(CsmsCall *call, CsmsKey *key, int version);
extern bool csms_key_material_cached(CsmsKey *key, int version);
extern bool csms_key_material_kept(const pg_uuid_t *id, int version);
extern void csms_key_require_enabled(CsmsKey *key);
extern CsmsKey *csms_backup_key(CsmsCall *call, bool create);
extern CsmsKey *csms_key_for_version(CsmsCall *call, const pg_uuid_t *id,
									 const char *alias, const char *state, int version);
extern CsmsKey *csms_key_by_id(CsmsCall *call, const pg_uuid_t *id);
extern void csms_key_add_version(CsmsCall *call, CsmsKey *key, int version);

/* envelope.c: sealing values and data keys */
#define CSMS_KIND_STRING	's'
#define CSMS_KIND_BINARY	'b'

typedef struct CsmsSealed
{
	bytea	   *wrapped_dek;
	bytea	   *ciphertext;
} CsmsSealed;

extern void csms_seal_value(CsmsCall *call, const pg_uuid_t *secret_id,
							const char *region, int version, CsmsKey *key,
							char kind, const char *value, Size len,
							CsmsSealed *out);
extern void csms_store_version(CsmsCall *call, const pg_uuid_t *secret_id,
							   const char *region, int version, CsmsKey *key,
							   char kind, const char *value, Size len,
							   const Datum *create_time, const Datum *expire_time,
							   CsmsSealed *sealed_out);
extern bytea *csms_open_value(CsmsCall *call, const pg_uuid_t *secret_id,
							  const char *region, const char *secret_name,
							  int version, CsmsKey *key,
							  const bytea *wrapped_dek, const bytea *ciphertext,
							  char *kind);
extern void csms_forget_data_keys(void);
extern void csms_data_key_prefetch(const pg_uuid_t *secret_id, int version);
extern bytea *csms_rewrap_dek(CsmsCall *call, const pg_uuid_t *secret_id,
							  const char *secret_name, int version,
							  CsmsKey *from, const bytea *wrapped_dek,
							  CsmsKey *to);

/* secrets_api.c: the gate every secret operation goes through */
typedef enum CsmsAction
{
	CSMS_ACT_READ_META,			/* metadata: any state */
	CSMS_ACT_READ_VALUE,		/* values: ENABLED only */
	CSMS_ACT_WRITE_META,		/* metadata, stages: ENABLED or DISABLED */
	CSMS_ACT_WRITE_VERSION,		/* new versions, expiry: ENABLED only */
	CSMS_ACT_SET_STATE,			/* enable, disable: ENABLED or DISABLED */
	CSMS_ACT_DELETE,			/* delete: any state but FROZEN */
	CSMS_ACT_BACKUP				/* backup: any state but FROZEN */
} CsmsAction;

/*
 * The stages of a secret, as its row holds them (csms.secrets.stage_*): at
 * most CSMS_MAX_STAGES, in the row's order.
 */
typedef struct CsmsStages
{
	int			n;
	char	   *names[CSMS_MAX_STAGES];
	int			versions[CSMS_MAX_STAGES];
	TimestampTz times[CSMS_MAX_STAGES];
} CsmsStages;

typedef struct CsmsSecret
{
	pg_uuid_t	id;
	char	   *name;
	char	   *state;
	pg_uuid_t	kms_key_id;
	char	   *replica_type;
	int			last_version;
	int			version_count;	/* its rows in csms.versions */
	bool		auto_rotation;
	char	   *rotation_period;
	bool		has_primary;	/* a REPLICA: the id of its primary */
	pg_uuid_t	primary_id;
	bool		locked;			/* a write: this transaction holds its row's lock */
	ItemPointerData tid;		/* the row's version that csms_secret_open read */
	CsmsStages	stages;			/* its stages, as that row version holds them */
} CsmsSecret;

extern CsmsSecret *csms_secret_open(CsmsCall *call, const char *name,
									CsmsAction action);
extern void csms_secret_delete(const pg_uuid_t *id);
extern HeapTuple csms_secret_tuple(CsmsCall *call, TupleDesc tupdesc,
								   const pg_uuid_t *id);
extern void csms_secret_not_found(CsmsCall *call, const char *name) pg_attribute_noreturn();
extern char *csms_arg_text(FunctionCallInfo fcinfo, int argno, const char *argname);
extern char *csms_arg_text_opt(FunctionCallInfo fcinfo, int argno);
extern char csms_value_arg(FunctionCallInfo fcinfo, int string_arg, int binary_arg,
						   const char **value, Size *len);

/* fastpath.c: the read path without the executor */
extern bytea *csms_fast_read(const char *name, int version, char *kind,
							 int *version_out);
extern void csms_touch_secret(const pg_uuid_t *secret_id);
extern bool csms_account_cached(char *domain_id, uint8 *root_check,
								char *home_region);
/* flags of csms_stages_set */
#define CSMS_STAGES_COPY_WRITTEN	0x01	/* the caller writes the SYSCURRENT copy */
extern int	csms_stages_find(const CsmsStages *st, const char *name);
extern int	csms_stages_version(const CsmsStages *st, const char *name);
extern void csms_stages_read(const char *secret, Datum names, Datum versions,
							 Datum times, CsmsStages *out);
extern void csms_stages_datums(const CsmsStages *st, Datum *names,
							   Datum *versions, Datum *times);
extern void csms_stages_set(CsmsSecret *s, int n, char **names,
							const int *versions, TimestampTz when,
							const CsmsCol *extra, int nextra, int flags);
extern void csms_current_refresh(const pg_uuid_t *secret_id);

/*
 * usage.c: last_used_time recorded in shared memory and written by a
 * background worker, when the library is in shared_preload_libraries
 */
extern int	csms_usage_slots;
extern int	csms_usage_flush_interval;
extern void csms_usage_init(void);
extern bool csms_usage_record(const pg_uuid_t *secret_id);
extern void csms_usage_prefetch(const pg_uuid_t *secret_id);
extern void csms_usage_merge(const pg_uuid_t *secret_id, Datum *last_used,
							 bool *isnull);
extern PGDLLEXPORT void csms_usage_launcher_main(Datum arg);
extern PGDLLEXPORT void csms_usage_flusher_main(Datum arg);

/* replicas_api.c */
extern void csms_replicas_sync(CsmsCall *call, const pg_uuid_t *primary_id,
							   const char *name);
extern Datum csms_replicas_datum(CsmsCall *call, Oid array_type,
								 const pg_uuid_t *id, const char *name,
								 const char *replica_type);

/* redact.c: log lines of statements that call the extension */
extern void csms_redact_init(void);
extern void csms_redact_note_call(void);

/* validate.c */
extern char *csms_trunc(const char *s);
extern void csms_check_name(const char *what, const char *name);
extern void csms_check_page_size(int page_size);
extern int	csms_parse_version_id(const char *version_id, bool allow_latest);
extern void csms_check_rotation_period(const char *period, Interval **out);
extern void csms_check_description(const char *description);
extern ArrayType *csms_check_stage_list(ArrayType *stages, int *nstages,
										char ***names);
extern void csms_check_event_subscriptions(ArrayType *subs);
extern void csms_check_tags(Jsonb *tags);
extern void csms_check_value_size(Size len);

#endif							/* CSMS_SECRETS_H */
