/*-------------------------------------------------------------------------
 *
 * value.c
 *	  Reading the values of secrets (see value.h).
 *
 *	  The fast path reads the tables directly (rowio.h) with what the
 *	  catalog, the account cache (frame.h) and the key cache (keyring.h)
 *	  hold per backend; those caches are filled from the latest committed
 *	  state and forgotten by the catalog's invalidation path, so a key
 *	  disabled in another session is seen at the next read.  Reading the
 *	  tables needs no privilege check: the extension owns them, and the
 *	  entry point has already passed the caller's EXECUTE privilege.
 *
 * src/value.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/table.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/snapmgr.h"

#include "util.h"
#include "settings.h"
#include "validate.h"
#include "catalog.h"
#include "spi.h"
#include "rowio.h"
#include "redact.h"
#include "keyring.h"
#include "envelope.h"
#include "frame.h"
#include "acl.h"
#include "utils/timestamp.h"
#include "usage.h"
#include "secret.h"
#include "version.h"
#include "value.h"

/* the version that the SYSCURRENT stage of secret row s marks, or NULL */
#define SYSCURRENT_VERSION \
	"s.stage_versions[pg_catalog.array_position(s.stage_names, 'SYSCURRENT'::pg_catalog.text)]"

/*
 * Secret, version (by number, or SYSCURRENT) and key in one query, by the
 * (name, region) index: the SQL path, when the fast path cannot answer.
 */
static CsmsStmt q_value = {
	"SELECT s.id, s.name, s.state, s.replica_type, v.version, v.key_id,"
	" v.key_version, v.wrapped_dek, v.ciphertext, k.alias, k.state, s.owner,"
	" COALESCE(s.primary_id, s.id), s.ctid, s.last_used_time"
	" FROM csms.secrets s"
	" JOIN csms.versions v ON v.secret_id OPERATOR(pg_catalog.=) s.id"
	"  AND v.version OPERATOR(pg_catalog.=) COALESCE($3, " SYSCURRENT_VERSION ")"
	" LEFT JOIN csms.keys k ON k.id OPERATOR(pg_catalog.=) v.key_id"
	" WHERE s.region OPERATOR(pg_catalog.=) $1 AND s.name OPERATOR(pg_catalog.=) $2",
	3, {TEXTOID, TEXTOID, INT4OID}
};

/* Is text datum d (short or long header) equal to the C string s? */
static bool
text_is(Datum d, const char *s)
{
	text	   *t = DatumGetTextPP(d);
	size_t		len = strlen(s);
	bool		same = VARSIZE_ANY_EXHDR(t) == len && memcmp(VARDATA_ANY(t), s, len) == 0;

	if ((Pointer) t != DatumGetPointer(d))
		pfree(t);
	return same;
}

/* The fast path ------------------------------------------------------------ */

/* The fast path (value.h) */
bytea *
csms_value_read_fast(const char *name, int version, char *kind, int *version_out)
{
	Relation	secrets = NULL,
				versions = NULL;
	bytea	   *result = NULL;
	TupleTableSlot *slot = NULL;
	bool		isnull;
	Datum		d;
	CsmsCall	call;
	CsmsKey    *key;
	CsmsKey    *state;
	pg_uuid_t	secret_id;
	ItemPointerData secret_tid;
	TimestampTz last_used;
	bytea	   *wrapped = NULL;
	bytea	   *ciphertext = NULL;
	Oid			procs[2];
	Datum		values[2];
	uint64		generation;

	/*
	 * Apply what other sessions committed since this session last looked
	 * (a key disabled a moment ago), as a new statement's snapshot would
	 * see it; cheap when nothing is pending.
	 */
	csms_redact_note_call();
	AcceptInvalidationMessages();
	if (!csms_catalog_ok())
		return NULL;
	generation = csms_catalog_generation();
	secrets = table_open(csms_rel(CSMS_SECRETS), AccessShareLock);

	/* the lock may have brought invalidations: then the SQL path */
	memset(&call, 0, sizeof(call));
	if (generation != csms_catalog_generation() || !csms_account_cached(&call))
	{
		table_close(secrets, NoLock);
		return NULL;
	}

	/*
	 * A snapshot taken now, as SPI takes one for each query: a read sees
	 * what the same statement wrote before it (and, in READ COMMITTED, what
	 * committed before it), exactly like the SQL path.
	 */
	PushActiveSnapshot(GetTransactionSnapshot());

	/*
	 * The secret, by (name, region), read in the slot: the row stays in its
	 * pinned buffer, deformed once up to the last column read.
	 */
	procs[0] = F_TEXTEQ;
	procs[1] = F_TEXTEQ;
	values[0] = CStringGetTextDatum(name);
	values[1] = CStringGetTextDatum(call.region);
	slot = table_slot_create(secrets, NULL);
	if (!csms_row_find(secrets, csms_index(CSMS_SECRETS_BY_NAME), 2, procs, values, NULL,
					   slot))
		goto done;
	d = csms_slot_attr(slot, CSMS_SECRETS_STATE, &isnull);
	if (isnull || !text_is(d, "ENABLED"))
		goto done;
	secret_id = *DatumGetUUIDP(csms_slot_attr(slot, CSMS_SECRETS_ID, &isnull));

	/*
	 * The caller's privilege: the owner reads without more; anyone else is
	 * looked up in the grants (cached per backend); a refusal is the SQL
	 * path's to report.
	 */
	{
		CsmsAclObject o;

		o.owner = DatumGetObjectId(csms_slot_attr(slot, CSMS_SECRETS_OWNER, &isnull));
		if (o.owner != GetUserId())
		{
			o.is_key = false;
			d = csms_slot_attr(slot, CSMS_SECRETS_PRIMARY_ID, &isnull);
			o.id = isnull ? secret_id : *DatumGetUUIDP(d);
			o.name = name;
			o.region = call.region;
			if (!csms_acl_allowed(GetUserId(), &o, CSMS_PRIV_READ))
				goto done;
		}
	}
	/* for last_used_time, once the read succeeded */
	secret_tid = slot->tts_tid;
	d = csms_slot_attr(slot, CSMS_SECRETS_LAST_USED_TIME, &isnull);
	last_used = isnull ? DT_NOBEGIN : DatumGetTimestampTz(d);
	key = csms_alloc_sensitive(sizeof(CsmsKey));

	d = csms_slot_attr(slot, CSMS_SECRETS_CURRENT_VERSION, &isnull);

	/*
	 * the per-backend tables this read will look the secret up in, for the
	 * version asked for or else the SYSCURRENT one
	 */
	csms_data_key_prefetch(&secret_id, version > 0 || isnull ? version : DatumGetInt32(d));
	if (!isnull && (version == 0 || version == DatumGetInt32(d)))
	{
		/* the SYSCURRENT version: its copy on the secret's row */
		version = DatumGetInt32(d);
		d = csms_slot_attr(slot, CSMS_SECRETS_CURRENT_KEY_ID, &isnull);
		if (isnull)
			goto done;
		key->id = *DatumGetUUIDP(d);
		d = csms_slot_attr(slot, CSMS_SECRETS_CURRENT_KEY_VERSION, &isnull);
		if (isnull)
			goto done;
		key->version = DatumGetInt32(d);
		d = csms_slot_attr(slot, CSMS_SECRETS_CURRENT_WRAPPED_DEK, &isnull);
		if (isnull)
			goto done;
		wrapped = DatumGetByteaPP(d);
		d = csms_slot_attr(slot, CSMS_SECRETS_CURRENT_CIPHERTEXT, &isnull);
		if (isnull)
			goto done;
		ciphertext = DatumGetByteaPP(d);
	}
	else if (version > 0)
	{
		/* an older version: its row */
		versions = table_open(csms_rel(CSMS_VERSIONS), AccessShareLock);
		ExecDropSingleTupleTableSlot(slot);
		slot = table_slot_create(versions, NULL);
		procs[0] = F_UUID_EQ;
		values[0] = UUIDPGetDatum(&secret_id);
		procs[1] = F_INT4EQ;
		values[1] = Int32GetDatum(version);
		if (!csms_row_find(versions, csms_index(CSMS_VERSIONS_PKEY), 2, procs, values, NULL,
						   slot))
			goto done;
		key->id = *DatumGetUUIDP(csms_slot_attr(slot, CSMS_VERSIONS_KEY_ID, &isnull));
		key->version = DatumGetInt32(csms_slot_attr(slot, CSMS_VERSIONS_KEY_VERSION, &isnull));
		wrapped = DatumGetByteaPP(csms_slot_attr(slot, CSMS_VERSIONS_WRAPPED_DEK, &isnull));
		ciphertext = DatumGetByteaPP(csms_slot_attr(slot, CSMS_VERSIONS_CIPHERTEXT, &isnull));
	}
	else
		goto done;				/* no SYSCURRENT version: the SQL path says so */
	ciphertext = (bytea *) detoast_attr((struct varlena *) ciphertext);

	/* its key: state as last committed, material from the cache only */
	state = csms_key_lookup(&key->id);
	if (state == NULL)
		goto done;
	memcpy(key->id_text, state->id_text, sizeof(key->id_text));
	key->alias = state->alias;
	key->enabled = state->enabled;
	csms_key_require_enabled(key);

	/* the root key must match before cached material is used */
	call.root_key = csms_root_key_load(call.root_check, false);
	if (!csms_key_material_cached(key, key->version))
		goto done;
	result = csms_open_value(&call, &secret_id, call.region, name, version, key,
							 wrapped, ciphertext, kind);
	*version_out = version;
	csms_wipe(key->material, CSMS_KEY_LEN);
	csms_usage_record(secrets, &secret_tid, &secret_id, last_used);

done:
	if (slot)
		ExecDropSingleTupleTableSlot(slot);
	/* the locks are held to the end of the transaction, as a query's are */
	if (versions)
		table_close(versions, NoLock);
	table_close(secrets, NoLock);
	PopActiveSnapshot();
	return result;
}

/* The SQL path ------------------------------------------------------------- */

/* what q_value found */
typedef struct ValueRow
{
	bool		found;
	bool		readable;		/* the secret is ENABLED */
	pg_uuid_t	secret_id;
	Oid			owner;
	pg_uuid_t	acl_id;			/* whose grants by id hold: its primary's for a replica */
	char	   *name;
	int			version;
	CsmsKey    *key;
	bytea	   *wrapped_dek;
	bytea	   *ciphertext;
	ItemPointerData tid;		/* the secret's row, and its last_used_time */
	TimestampTz last_used;
} ValueRow;

/*
 * One index lookup of secret `name`, its version (0: SYSCURRENT) and the
 * version's key.  Raises nothing for a missing secret or a state that
 * forbids reading: row->found and row->readable tell.
 */
static void
value_lookup(CsmsCall *call, const char *name, int version, ValueRow *row)
{
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};
	bool		isnull;

	memset(row, 0, sizeof(*row));
	Assert(call->region[0] != '\0');
	args[0] = csms_text_datum(call->region);
	args[1] = csms_text_datum(name);
	if (version > 0)
		args[2] = Int32GetDatum(version);
	else
	{
		args[2] = (Datum) 0;
		nulls[2] = 'n';
	}
	if (csms_exec(&q_value, args, nulls, SPI_OK_SELECT, 1) != 1)
		return;
	row->found = true;
	row->secret_id = *DatumGetUUIDP(csms_col(0, 1, &isnull));
	row->name = csms_col_text(0, 2);
	row->readable = strcmp(csms_col_text(0, 3), "ENABLED") == 0;
	row->version = DatumGetInt32(csms_col(0, 5, &isnull));
	row->key = csms_alloc_sensitive(sizeof(CsmsKey));
	row->key->id = *DatumGetUUIDP(csms_col(0, 6, &isnull));
	strlcpy(row->key->id_text, csms_uuid_text(&row->key->id), sizeof(row->key->id_text));
	row->key->version = DatumGetInt32(csms_col(0, 7, &isnull));
	row->wrapped_dek = csms_col_bytea(0, 8);
	row->ciphertext = csms_col_bytea(0, 9);
	row->key->alias = csms_col_text(0, 10);
	/* no foreign key keeps it (see the install script): a raw edit */
	if (row->key->alias == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("key %s of version \"v%d\" of secret \"%s\" is missing",
						row->key->id_text, row->version, name)));
	row->key->enabled = strcmp(csms_col_text(0, 11), "ENABLED") == 0;
	row->owner = DatumGetObjectId(csms_col(0, 12, &isnull));
	row->acl_id = *DatumGetUUIDP(csms_col(0, 13, &isnull));
	row->tid = *(ItemPointer) DatumGetPointer(csms_col(0, 14, &isnull));
	row->last_used = DatumGetTimestampTz(csms_col(0, 15, &isnull));
}

/* Does the caller hold privilege priv on the secret of a found row? */
static bool
row_allowed(CsmsCall *call, const ValueRow *row, int priv)
{
	CsmsAclObject o;

	o.is_key = false;
	o.owner = row->owner;
	o.id = row->acl_id;
	o.name = row->name;
	o.region = call->region;
	return csms_acl_allowed(call->save_uid, &o, priv);
}

/*
 * The error of a lookup that found nothing, or a secret that cannot be
 * read: the gate knows the state rules, the versions which exist.
 */
static void lookup_failed(CsmsCall *call, const char *name, int version) pg_attribute_noreturn();

/* The error of a read that found no readable version */
static void
lookup_failed(CsmsCall *call, const char *name, int version)
{
	CsmsSecret *s = csms_secret_open(call, name, CSMS_ACT_READ_VALUE, CSMS_PRIV_READ);

	csms_version_resolve(s, version);
	elog(ERROR, "secret \"%s\" could not be read", name);
}

/* Open a found row into out; the value is wiped when the SPI context goes. */
static void
open_row(CsmsCall *call, ValueRow *row, CsmsValue *out)
{
	csms_key_require_enabled(row->key);
	csms_key_material(call, row->key, row->key->version);
	out->plain = csms_open_value(call, &row->secret_id, call->region, row->name,
								 row->version, row->key, row->wrapped_dek,
								 row->ciphertext, &out->kind);
	csms_wipe(row->key->material, CSMS_KEY_LEN);
	out->secret_id = row->secret_id;
	out->name = row->name;
	out->version = row->version;
	csms_usage_record(NULL, &row->tid, &row->secret_id, row->last_used);
}

/* The SQL path (value.h) */
void
csms_value_read(CsmsCall *call, const char *name, int version, CsmsValue *out)
{
	ValueRow	row;

	csms_check_name("secret", name);
	csms_call_need_root_key(call);
	value_lookup(call, name, version, &row);
	if (!row.found || !row.readable || !row_allowed(call, &row, CSMS_PRIV_READ))
		lookup_failed(call, name, version);
	open_row(call, &row, out);
}

/* A csms_version row of an opened value */
void
csms_value_row(const CsmsValue *v, Datum *values, bool *nulls)
{
	csms_version_metadata(&v->secret_id, v->version, values, nulls);
	values[CSMS_METADATA_NCOLS] = PointerGetDatum(v->plain);
	nulls[CSMS_METADATA_NCOLS] = v->kind != CSMS_KIND_STRING;
	values[CSMS_METADATA_NCOLS + 1] = PointerGetDatum(v->plain);
	nulls[CSMS_METADATA_NCOLS + 1] = v->kind != CSMS_KIND_BINARY;
}

/* The SYSCURRENT value of each name (value.h) */
void
csms_value_batch(CsmsCall *call, char **names, int n, ReturnSetInfo *rsinfo)
{
	ValueRow   *rows = palloc0(sizeof(ValueRow) * Max(n, 1));
	StringInfoData missing,
				denied,
				unreadable;
	int			hidden = 0;
	int			i;

	csms_call_need_root_key(call);
	initStringInfo(&missing);
	initStringInfo(&denied);
	initStringInfo(&unreadable);
	for (i = 0; i < n; i++)
	{
		value_lookup(call, names[i], 0, &rows[i]);
		if (!rows[i].found)
			appendStringInfo(&missing, "%s%s", missing.len ? ", " : "", names[i]);
		else if (!row_allowed(call, &rows[i], CSMS_PRIV_READ))
		{
			/* named only to a caller who may describe it */
			if (row_allowed(call, &rows[i], CSMS_PRIV_DESCRIBE))
				appendStringInfo(&denied, "%s%s", denied.len ? ", " : "", names[i]);
			else
				hidden++;
		}
		else if (!rows[i].readable)
			appendStringInfo(&unreadable, "%s%s", unreadable.len ? ", " : "", names[i]);
	}
	if (missing.len)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("secrets do not exist in region \"%s\" or have no SYSCURRENT version: %s",
						call->region, missing.data),
				 unreadable.len ?
				 errdetail("These secrets exist but are not enabled: %s.", unreadable.data) : 0));
	if (denied.len)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for secrets: %s", denied.data),
				 hidden ?
				 errdetail_plural("The caller may not read %d more secret named.",
								  "The caller may not read %d more of the secrets named.",
								  hidden, hidden) :
				 errdetail("Reading them needs the privilege \"read\" on each.")));
	if (hidden)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg_plural("permission denied for %d secret named",
							   "permission denied for %d of the secrets named", hidden, hidden),
				 errdetail("Reading them needs the privilege \"read\" on each.")));
	if (unreadable.len)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("secrets are not enabled: %s", unreadable.data),
				 errdetail("Only enabled secrets serve their values.")));

	for (i = 0; i < n; i++)
	{
		CsmsValue	v;
		Datum		values[CSMS_METADATA_NCOLS + 2];
		bool		nulls[CSMS_METADATA_NCOLS + 2];

		open_row(call, &rows[i], &v);
		csms_value_row(&v, values, nulls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		csms_wipe(VARDATA(v.plain), VARSIZE(v.plain) - VARHDRSZ);
	}
}
