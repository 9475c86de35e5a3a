/*-------------------------------------------------------------------------
 *
 * backup.c
 *	  The backup blob of a secret (see backup.h).
 *
 *	  A blob is ")CloudSecretManagementBackupV1.com" followed by a JWE
 *	  (A256KW + A256GCM) sealed with the backup key of the region the secret
 *	  lives in (src/blob.c), whose payload is UTF-8 JSON (format 1):
 *
 *		{"format": 1, "domain_id": "...", "region": "...", "project_id": "...",
 *		 "secret": {metadata}, "tags": {"k": "v"}, "versions": [
 *		   {"id": "v1", "create_time": "...", "expire_time": null,
 *			"stages": ["SYSCURRENT"], "secret_string": "..."}, ...]}
 *
 *	  (secret_binary values are standard base64.)  The payload holds
 *	  plaintext, so it is built and parsed only in buffers that are wiped:
 *	  src/json.c with an allocator over csms_alloc_sensitive(), never
 *	  PostgreSQL's json or jsonb code.  Metadata (no secrets) is written by
 *	  jsonb_build_object in SQL.
 *
 *	  Restore checks, in order, each with its own error: size, prefix, five
 *	  segments, base64url, header alg/enc, kid (a backup key of this account:
 *	  of the session's region, or which region it belongs to), unwrap,
 *	  decrypt, JSON, account and region, the payload's shape and limits, the
 *	  name (and id) being free.
 *
 * src/backup.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/base64.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "blob.h"
#include "json.h"
#include "util.h"
#include "validate.h"
#include "spi.h"
#include "roledep.h"
#include "keyring.h"
#include "envelope.h"
#include "frame.h"
#include "secret.h"
#include "version.h"
#include "event.h"
#include "rotation.h"
#include "backup.h"

#define PAYLOAD_FORMAT 1

/* Allocators ---------------------------------------------------------------- */

/* Not secret (the blob text, the parsed envelope): plain palloc. */
static void *
plain_alloc(void *ctx, size_t size)
{
	return palloc_extended(size, MCXT_ALLOC_NO_OOM);
}

/* The memory stays to its context, as with palloc */
static void
plain_free(void *ctx, void *ptr)
{
	pfree(ptr);
}

static const csms_allocator plain_allocator = {plain_alloc, plain_free, NULL};

/* Secret (payload, JSON tree, writer buffers): csms_sensitive_allocator (util.h) */

/* Errors ---------------------------------------------------------------- */

/* "the blob is bad" -> "The blob is bad." */
static char *
sentence(const char *s)
{
	char	   *out = psprintf("%s.", s);

	out[0] = pg_toupper((unsigned char) out[0]);
	return out;
}

static void
blob_error(csms_blob_status st) pg_attribute_noreturn();

/* The error of a blob codec status (22023 for what the caller sent) */
static void
blob_error(csms_blob_status st)
{
	switch (st)
	{
		case CSMS_BLOB_ERR_TOO_LONG:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("backup blob is too long"),
					 errdetail("A backup blob has at most %d characters.", CSMS_BLOB_MAX_LEN)));
			break;
		case CSMS_BLOB_ERR_NOMEM:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));
			break;
		case CSMS_BLOB_ERR_RANDOM:
		case CSMS_BLOB_ERR_CRYPTO:
		case CSMS_BLOB_ERR_ARGUMENT:
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not process the backup blob: %s", csms_blob_strerror(st))));
			break;
		case CSMS_BLOB_ERR_UNWRAP:
		case CSMS_BLOB_ERR_DECRYPT:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("backup blob failed authentication"),
					 errdetail("The blob was altered or truncated.")));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid backup blob"),
					 errdetail("%s", sentence(csms_blob_strerror(st)))));
	}
	pg_unreachable();
}

static void
payload_error(const char *fmt,...) pg_attribute_printf(1, 2) pg_attribute_noreturn();

/* 22023 for a payload that is not what this extension writes */
static void
payload_error(const char *fmt,...)
{
	char		buf[256];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid backup blob"),
			 errdetail("The payload is not what this extension writes: %s.", buf)));
}

/* Backup -------------------------------------------------------------------- */

/*
 * last_used_time is the stored value (to csms.last_used_grain): a read that
 * the usage worker has not written yet (usage.c, at most one
 * csms.usage_flush_interval old) is not in the blob.  A blob records metadata, not an audit trail.
 */
static CsmsStmt q_backup_meta = {
	"SELECT pg_catalog.jsonb_build_object("
	" 'id', s.id, 'name', s.name, 'state', s.state, 'kms_key_id', s.kms_key_id,"
	" 'description', s.description, 'secret_type', s.secret_type,"
	" 'auto_rotation', s.auto_rotation, 'rotation_period', s.rotation_period,"
	" 'rotation_config', s.rotation_config, 'rotation_time', s.rotation_time,"
	" 'next_rotation_time', s.next_rotation_time, 'last_used_time',"
	"  CASE WHEN s.last_used_time OPERATOR(pg_catalog.<>) '-infinity' THEN s.last_used_time END,"
	" 'event_subscriptions', s.event_subscriptions,"
	" 'enterprise_project_id', s.enterprise_project_id,"
	" 'rotation_func_urn', s.rotation_func_urn, 'create_time', s.create_time,"
	" 'update_time', s.update_time, 'last_version', s.last_version)::pg_catalog.text,"
	" (SELECT pg_catalog.jsonb_object_agg(t.key, t.value) FROM csms.tags t"
	"   WHERE t.secret_id OPERATOR(pg_catalog.=) s.id)::pg_catalog.text"
	" FROM csms.secrets s WHERE s.id OPERATOR(pg_catalog.=) $1",
	1, {UUIDOID}
};

static CsmsStmt q_backup_versions = {
	"SELECT v.version, pg_catalog.jsonb_build_object("
	"  'id', 'v' OPERATOR(pg_catalog.||) v.version::pg_catalog.text,"
	"  'create_time', v.create_time, 'expire_time', v.expire_time,"
	"  'stages', ARRAY(SELECT st.name"
	"   FROM ROWS FROM (pg_catalog.unnest(s.stage_names),"
	"    pg_catalog.unnest(s.stage_versions)) st(name, version)"
	"   WHERE st.version OPERATOR(pg_catalog.=) v.version ORDER BY st.name))::pg_catalog.text,"
	" v.key_id, v.key_version, v.wrapped_dek, v.ciphertext, k.alias, k.state"
	" FROM csms.versions v JOIN csms.keys k ON k.id OPERATOR(pg_catalog.=) v.key_id"
	" JOIN csms.secrets s ON s.id OPERATOR(pg_catalog.=) v.secret_id"
	" WHERE v.secret_id OPERATOR(pg_catalog.=) $1 ORDER BY v.version",
	1, {UUIDOID}
};

/*
 * The blob of secret `name`: metadata and tags from SQL, values opened one
 * by one into a wiped buffer
 */
text *
csms_backup_make(CsmsCall *call, const char *name)
{
	CsmsSecret *s;
	CsmsKey    *backup;
	Datum		arg;
	char	   *meta;
	char	   *tags;
	SPITupleTable *versions;
	uint64		n,
				i;
	csms_json_buf buf;
	csms_blob_status st;
	char	   *blob;
	size_t		blob_len;
	text	   *result;

	csms_call_need_root_key(call);
	s = csms_secret_open(call, name, CSMS_ACT_BACKUP, CSMS_PRIV_READ);
	backup = csms_backup_key(call, true);

	arg = UUIDPGetDatum(&s->id);
	csms_exec(&q_backup_meta, &arg, NULL, SPI_OK_SELECT, 1);
	meta = csms_col_text(0, 1);
	tags = csms_col_text(0, 2);

	csms_json_buf_init(&buf, &csms_sensitive_allocator);
	csms_json_buf_raw(&buf, "{\"format\": 1, \"domain_id\": ", 27);
	csms_json_buf_string(&buf, call->domain_id, strlen(call->domain_id));
	csms_json_buf_raw(&buf, ", \"region\": ", 12);
	csms_json_buf_string(&buf, call->region, strlen(call->region));
	csms_json_buf_raw(&buf, ", \"project_id\": ", 16);
	csms_json_buf_string(&buf, call->project_id, strlen(call->project_id));
	csms_json_buf_raw(&buf, ", \"secret\": ", 12);
	csms_json_buf_raw(&buf, meta, strlen(meta));
	if (tags)
	{
		csms_json_buf_raw(&buf, ", \"tags\": ", 10);
		csms_json_buf_raw(&buf, tags, strlen(tags));
	}
	csms_json_buf_raw(&buf, ", \"versions\": [", 15);

	n = csms_exec(&q_backup_versions, &arg, NULL, SPI_OK_SELECT, 0);
	versions = SPI_tuptable;
	for (i = 0; i < n; i++)
	{
		HeapTuple	row = versions->vals[i];
		TupleDesc	desc = versions->tupdesc;
		bool		isnull;
		int			version = DatumGetInt32(SPI_getbinval(row, desc, 1, &isnull));
		char	   *vmeta = TextDatumGetCString(SPI_getbinval(row, desc, 2, &isnull));
		CsmsKey    *key;
		bytea	   *plain;
		char		kind;
		size_t		vlen = strlen(vmeta);

		key = csms_key_for_version(call, DatumGetUUIDP(SPI_getbinval(row, desc, 3, &isnull)),
								   TextDatumGetCString(SPI_getbinval(row, desc, 7, &isnull)),
								   TextDatumGetCString(SPI_getbinval(row, desc, 8, &isnull)),
								   DatumGetInt32(SPI_getbinval(row, desc, 4, &isnull)));
		plain = csms_open_value(call, &s->id, call->region, s->name, version, key,
								DatumGetByteaPP(SPI_getbinval(row, desc, 5, &isnull)),
								DatumGetByteaPP(SPI_getbinval(row, desc, 6, &isnull)),
								&kind);
		csms_wipe(key->material, CSMS_KEY_LEN);

		/* the version's metadata object, with the value added at its end */
		Assert(vlen > 0 && vmeta[vlen - 1] == '}');
		if (i > 0)
			csms_json_buf_raw(&buf, ", ", 2);
		csms_json_buf_raw(&buf, vmeta, vlen - 1);
		if (kind == CSMS_KIND_STRING)
		{
			csms_json_buf_raw(&buf, ", \"secret_string\": ", 19);
			csms_json_buf_string(&buf, VARDATA(plain), VARSIZE(plain) - VARHDRSZ);
		}
		else
		{
			int			len = VARSIZE(plain) - VARHDRSZ;
			int			enclen = pg_b64_enc_len(len);
			char	   *b64 = csms_alloc_sensitive(enclen + 1);
			int			written = pg_b64_encode(VARDATA(plain), len, b64, enclen);

			if (written < 0)
				elog(ERROR, "could not encode a binary value");
			csms_json_buf_raw(&buf, ", \"secret_binary\": \"", 20);
			csms_json_buf_raw(&buf, b64, written);
			csms_json_buf_raw(&buf, "\"", 1);
			csms_wipe(b64, enclen + 1);
		}
		csms_json_buf_raw(&buf, "}", 1);
		csms_wipe(VARDATA(plain), VARSIZE(plain) - VARHDRSZ);
	}
	csms_json_buf_raw(&buf, "]}", 2);
	if (buf.failed)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));

	st = csms_blob_seal(backup->id_text, backup->material, (const uint8 *) buf.data,
						buf.len, &plain_allocator, &blob, &blob_len);
	csms_json_buf_free(&buf);
	csms_wipe(backup->material, CSMS_KEY_LEN);
	if (st != CSMS_BLOB_OK)
		blob_error(st);

	result = (text *) MemoryContextAlloc(call->caller_cxt, VARHDRSZ + blob_len);
	SET_VARSIZE(result, VARHDRSZ + blob_len);
	memcpy(VARDATA(result), blob, blob_len);
	return result;
}

/* Restore ------------------------------------------------------------------- */

/* A member that must be a string (or, with null_ok, null): NULL for null. */
static const char *
get_string(const csms_json *obj, const char *path, const char *key, bool null_ok)
{
	const csms_json *v = csms_json_get(obj, key);

	if (v == NULL)
		payload_error("member \"%s%s\" is missing", path, key);
	if (v->type == CSMS_JSON_NULL && null_ok)
		return NULL;
	if (v->type != CSMS_JSON_STRING)
		payload_error("member \"%s%s\" is not a string", path, key);
	return v->str;
}

/* A member that must be a boolean */
static bool
get_bool(const csms_json *obj, const char *path, const char *key)
{
	const csms_json *v = csms_json_get(obj, key);

	if (v == NULL)
		payload_error("member \"%s%s\" is missing", path, key);
	if (v->type != CSMS_JSON_TRUE && v->type != CSMS_JSON_FALSE)
		payload_error("member \"%s%s\" is not a boolean", path, key);
	return v->type == CSMS_JSON_TRUE;
}

/* A member of JSON type `type`, or with null_ok null (NULL) */
static const csms_json *
get_typed(const csms_json *obj, const char *path, const char *key,
		  csms_json_type type, bool null_ok)
{
	const csms_json *v = csms_json_get(obj, key);

	if (v == NULL)
		payload_error("member \"%s%s\" is missing", path, key);
	if (v->type == CSMS_JSON_NULL && null_ok)
		return NULL;
	if (v->type != type)
		payload_error("member \"%s%s\" has the wrong type", path, key);
	return v;
}

/* A timestamptz from its JSON text, or 22023. */
static Datum
parse_time(const char *s, const char *what)
{
	Datum		d = (Datum) 0;
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		d = DirectFunctionCall3(timestamptz_in, CStringGetDatum(s),
								ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		FlushErrorState();
		payload_error("member \"%s\" is not a time", what);
	}
	PG_END_TRY();
	if (TIMESTAMP_NOT_FINITE(DatumGetTimestampTz(d)))
		payload_error("member \"%s\" is not a finite time", what);
	return d;
}

/* Serialize a (non-secret) JSON tree back to text, for jsonb_in. */
static void
json_to_text(const csms_json *v, StringInfo out)
{
	size_t		i;

	switch (v->type)
	{
		case CSMS_JSON_NULL:
			appendStringInfoString(out, "null");
			break;
		case CSMS_JSON_FALSE:
			appendStringInfoString(out, "false");
			break;
		case CSMS_JSON_TRUE:
			appendStringInfoString(out, "true");
			break;
		case CSMS_JSON_NUMBER:
			appendBinaryStringInfo(out, v->str, v->len);
			break;
		case CSMS_JSON_STRING:
			escape_json(out, v->str);
			break;
		case CSMS_JSON_ARRAY:
			appendStringInfoChar(out, '[');
			for (i = 0; i < v->count; i++)
			{
				if (i > 0)
					appendStringInfoChar(out, ',');
				json_to_text(v->items[i], out);
			}
			appendStringInfoChar(out, ']');
			break;
		case CSMS_JSON_OBJECT:
			appendStringInfoChar(out, '{');
			for (i = 0; i < v->count; i++)
			{
				if (i > 0)
					appendStringInfoChar(out, ',');
				escape_json(out, v->keys[i]);
				appendStringInfoChar(out, ':');
				json_to_text(v->items[i], out);
			}
			appendStringInfoChar(out, '}');
			break;
	}
}

/* A (non-secret) JSON tree as jsonb */
static Jsonb *
json_to_jsonb(const csms_json *v)
{
	StringInfoData buf;

	initStringInfo(&buf);
	json_to_text(v, &buf);
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

typedef struct RestoreVersion
{
	int			version;
	Datum		create_time;
	Datum		expire_time;
	bool		expire_null;
	const csms_json *stages;
	char		kind;
	const char *value;
	size_t		len;
} RestoreVersion;

static CsmsStmt q_backup_key_of = {
	"SELECT region, purpose FROM csms.keys WHERE id OPERATOR(pg_catalog.=) $1",
	1, {UUIDOID}
};

static CsmsStmt q_restore_key = {
	"SELECT alias, state FROM csms.keys WHERE id OPERATOR(pg_catalog.=) $1"
	" AND region OPERATOR(pg_catalog.=) $2 AND purpose OPERATOR(pg_catalog.=) 'secret'",
	2, {UUIDOID, TEXTOID}
};

static CsmsStmt q_restore_secret = {
	"INSERT INTO csms.secrets (id, region, name, state, kms_key_id, description,"
	" secret_type, auto_rotation, rotation_period, rotation_config, rotation_time,"
	" next_rotation_time, event_subscriptions, enterprise_project_id,"
	" rotation_func_urn, create_time, update_time, last_version, stage_names,"
	" stage_versions, stage_times, version_count, owner, last_used_time)"
	" VALUES ($1, $2, $3, 'ENABLED', $4, $5, $6, $7, $8, $9, $10, $11, $13, $14,"
	" $15, $16, $17, $18, $19, $20, $21, $22, $23,"
	" COALESCE($12, '-infinity'::pg_catalog.timestamptz)) ON CONFLICT DO NOTHING",
	23, {UUIDOID, TEXTOID, TEXTOID, UUIDOID, TEXTOID, TEXTOID, BOOLOID, TEXTOID,
		JSONBOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTARRAYOID,
		TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT4OID, TEXTARRAYOID,
	INT4ARRAYOID, TIMESTAMPTZARRAYOID, INT4OID, REGROLEOID}
};

static CsmsStmt q_restore_tags = {
	"INSERT INTO csms.tags (secret_id, key, value)"
	" SELECT $1, t.key, t.value FROM pg_catalog.jsonb_each_text($2) t",
	2, {UUIDOID, JSONBOID}
};

static CsmsStmt q_name_taken = {
	"SELECT FROM csms.secrets WHERE region OPERATOR(pg_catalog.=) $1"
	" AND name OPERATOR(pg_catalog.=) $2",
	2, {TEXTOID, TEXTOID}
};

static CsmsStmt q_id_taken = {
	"SELECT region, name FROM csms.secrets WHERE id OPERATOR(pg_catalog.=) $1",
	1, {UUIDOID}
};

/*
 * Which backup key sealed the blob: one of this account's, and of the
 * session's region.  A kid of another account says nothing about it.
 */
static CsmsKey *
restore_backup_key(CsmsCall *call, const char *kid)
{
	pg_uuid_t	id;
	Datum		arg;
	char	   *region;
	CsmsKey    *key;

	if (!csms_parse_uuid(kid, &id))
		goto foreign;
	arg = UUIDPGetDatum(&id);
	if (csms_exec(&q_backup_key_of, &arg, NULL, SPI_OK_SELECT, 1) != 1 ||
		strcmp(csms_col_text(0, 2), "backup") != 0)
		goto foreign;
	region = csms_col_text(0, 1);
	if (strcmp(region, call->region) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("backup blob was made in region \"%s\", not in region \"%s\"",
						region, call->region),
				 errdetail("A backup blob restores only in the region it was made in."),
				 errhint("Restore it in a session with SET csms.region = '%s'.", region)));
	key = csms_backup_key(call, false);
	if (key == NULL || memcmp(key->id.data, id.data, UUID_LEN) != 0)
		goto foreign;
	return key;

foreign:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("backup blob was not made by this account"),
			 errdetail("Only backup blobs made by the same account in the same region can be restored.")));
	return NULL;
}

/* The blob's form, before any call frame (so no key is needed to reject it) */
void
csms_backup_parse(const text *blob, csms_blob_parsed *parsed)
{
	csms_blob_status st;

	st = csms_blob_parse(VARDATA_ANY(blob), VARSIZE_ANY_EXHDR(blob), &plain_allocator, parsed);
	if (st != CSMS_BLOB_OK)
		blob_error(st);
}

/*
 * Check the payload in full, then write the secret, every version sealed
 * afresh, tags
 */
void
csms_backup_restore(CsmsCall *call, csms_blob_parsed *parsed, pg_uuid_t *id_out)
{
	csms_blob_status st;
	CsmsKey    *backup;
	uint8	   *payload;
	size_t		payload_len;
	csms_json  *doc;
	csms_json_status jst;
	const csms_json *secret,
			   *versions,
			   *tags,
			   *v;
	const char *name,
			   *s;
	pg_uuid_t	id,
				key_id;
	CsmsKey    *key;
	RestoreVersion *rv;
	int			nversions,
				last_version,
				i;
	size_t		j;
	Datum		args[23];
	char		nulls[23];
	CsmsStages	stages;
	Jsonb	   *tags_jsonb = NULL;
	Jsonb	   *rotation_config = NULL;
	ArrayType  *subs;

	csms_call_need_root_key(call);
	backup = restore_backup_key(call, parsed->kid);

	/* authenticate and decrypt, into memory that is wiped */
	{
		csms_blob_parsed sp = *parsed;

		sp.allocator = csms_sensitive_allocator;
		st = csms_blob_open(&sp, backup->material, &payload, &payload_len);
	}
	csms_wipe(backup->material, CSMS_KEY_LEN);
	if (st != CSMS_BLOB_OK)
		blob_error(st);

	jst = csms_json_parse((const char *) payload, payload_len, &csms_sensitive_allocator, &doc);
	if (jst != CSMS_JSON_OK)
		payload_error("%s", csms_json_strerror(jst));
	if (doc->type != CSMS_JSON_OBJECT)
		payload_error("it is not a JSON object");

	/* account and region */
	v = get_typed(doc, "", "format", CSMS_JSON_NUMBER, false);
	if (strcmp(v->str, "1") != 0)
		payload_error("format %s is not known", v->len < 20 ? v->str : "(long)");
	if (strcmp(get_string(doc, "", "domain_id", false), call->domain_id) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("backup blob was not made by this account"),
				 errdetail("Only backup blobs made by the same account in the same region can be restored.")));
	s = get_string(doc, "", "region", false);
	if (strcmp(s, call->region) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("backup blob was made in region \"%s\", not in region \"%s\"",
						csms_trunc(s), call->region),
				 errdetail("A backup blob restores only in the region it was made in."),
				 errhint("Restore it in a session with SET csms.region = '%s'.", csms_trunc(s))));
	(void) get_string(doc, "", "project_id", false);

	/* the secret */
	secret = get_typed(doc, "", "secret", CSMS_JSON_OBJECT, false);
	if (!csms_parse_uuid(get_string(secret, "secret.", "id", false), &id))
		payload_error("member \"secret.id\" is not a UUID");
	name = get_string(secret, "secret.", "name", false);
	csms_check_name("secret", name);
	if (!csms_parse_uuid(get_string(secret, "secret.", "kms_key_id", false), &key_id))
		payload_error("member \"secret.kms_key_id\" is not a UUID");

	memset(nulls, ' ', sizeof(nulls));
	args[0] = UUIDPGetDatum(&id);
	args[1] = csms_text_datum(call->region);
	args[2] = csms_text_datum(name);
	s = get_string(secret, "secret.", "description", true);
	if (s)
	{
		csms_check_description(s);
		args[4] = csms_text_datum(s);
	}
	else
		nulls[4] = 'n';
	s = get_string(secret, "secret.", "secret_type", false);
	if (strcmp(s, "COMMON") != 0 && strcmp(s, "RDS-FG") != 0 && strcmp(s, "GaussDB-FG") != 0 &&
		strcmp(s, "PG-ROLE") != 0)
		payload_error("member \"secret.secret_type\" is not a secret type");
	args[5] = csms_text_datum(s);
	args[6] = BoolGetDatum(get_bool(secret, "secret.", "auto_rotation"));
	s = get_string(secret, "secret.", "rotation_period", true);
	if (s)
	{
		csms_check_rotation_period(s, NULL);
		args[7] = csms_text_datum(s);
	}
	else
		nulls[7] = 'n';
	v = get_typed(secret, "secret.", "rotation_config", CSMS_JSON_OBJECT, true);
	if (v)
	{
		rotation_config = json_to_jsonb(v);
		args[8] = JsonbPGetDatum(rotation_config);
	}
	else
		nulls[8] = 'n';
	{
		static const char *const times[] = {"rotation_time", "next_rotation_time", "last_used_time"};

		for (i = 0; i < 3; i++)
		{
			s = get_string(secret, "secret.", times[i], true);
			if (s)
				args[9 + i] = parse_time(s, times[i]);
			else
				nulls[9 + i] = 'n';
		}
	}
	v = get_typed(secret, "secret.", "event_subscriptions", CSMS_JSON_ARRAY, false);
	{
		Datum	   *elems = palloc(sizeof(Datum) * Max(v->count, 1));

		for (j = 0; j < v->count; j++)
		{
			if (v->items[j]->type != CSMS_JSON_STRING)
				payload_error("member \"secret.event_subscriptions\" holds a non-string");
			elems[j] = csms_text_datum(v->items[j]->str);
		}
		subs = construct_array(elems, (int) v->count, TEXTOID, -1, false, TYPALIGN_INT);
		csms_check_event_subscriptions(subs);
		/* a subscription names an event of the region: one that is gone is dropped */
		{
			const char *event = csms_event_subscribed(PointerGetDatum(subs));

			if (event && !csms_event_exists(call, event))
			{
				ereport(NOTICE,
						(errmsg("event \"%s\" of the backup does not exist in region \"%s\"",
								event, call->region),
						 errdetail("The restored secret subscribes to no event."),
						 errhint("Create the event with csms_create_event(), then subscribe the secret with csms_update_secret().")));
				subs = construct_empty_array(TEXTOID);
			}
		}
		args[12] = PointerGetDatum(subs);
	}
	args[13] = csms_text_datum(get_string(secret, "secret.", "enterprise_project_id", false));
	s = get_string(secret, "secret.", "rotation_func_urn", true);
	/* a rotation function runs as its owner: the restorer must be one who could name it */
	if (s && !csms_rotation_function_allowed(s, call->save_uid))
	{
		ereport(NOTICE,
				(errmsg("rotation function %s of the backup is not restored", csms_trunc(s)),
				 errdetail("It is not a rotation function that the restoring role may name here (EXECUTE on it and the privileges of its owner)."),
				 errhint("Name one with csms_update_secret(rotation_func_urn => ...).")));
		s = NULL;
	}
	if (s)
		args[14] = csms_text_datum(s);
	else
		nulls[14] = 'n';
	args[15] = parse_time(get_string(secret, "secret.", "create_time", false), "create_time");
	args[16] = parse_time(get_string(secret, "secret.", "update_time", false), "update_time");
	v = get_typed(secret, "secret.", "last_version", CSMS_JSON_NUMBER, false);
	last_version = csms_parse_version_id(psprintf("v%s", v->str), false);

	/* tags */
	tags = csms_json_get(doc, "tags");
	if (tags && tags->type != CSMS_JSON_NULL)
	{
		if (tags->type != CSMS_JSON_OBJECT)
			payload_error("member \"tags\" is not an object");
		tags_jsonb = json_to_jsonb(tags);
		csms_check_tags(tags_jsonb);
	}

	/* versions */
	versions = get_typed(doc, "", "versions", CSMS_JSON_ARRAY, false);
	if (versions->count == 0)
		payload_error("the secret has no versions");
	if (versions->count > CSMS_MAX_VERSIONS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("backup blob holds more than %d versions", CSMS_MAX_VERSIONS)));
	nversions = (int) versions->count;
	rv = palloc0(sizeof(RestoreVersion) * nversions);
	stages.n = 0;
	for (i = 0; i < nversions; i++)
	{
		const csms_json *ver = versions->items[i];
		const csms_json *str,
				   *bin;
		int			k;

		if (ver->type != CSMS_JSON_OBJECT)
			payload_error("a version is not an object");
		rv[i].version = csms_parse_version_id(get_string(ver, "versions[].", "id", false), false);
		if (rv[i].version > last_version)
			payload_error("a version id is above \"secret.last_version\"");
		for (k = 0; k < i; k++)
			if (rv[k].version == rv[i].version)
				payload_error("version \"v%d\" is given twice", rv[i].version);
		rv[i].create_time = parse_time(get_string(ver, "versions[].", "create_time", false), "create_time");
		s = get_string(ver, "versions[].", "expire_time", true);
		rv[i].expire_null = s == NULL;
		if (s)
			rv[i].expire_time = parse_time(s, "expire_time");
		rv[i].stages = get_typed(ver, "versions[].", "stages", CSMS_JSON_ARRAY, false);
		for (j = 0; j < rv[i].stages->count; j++)
		{
			const csms_json *sn = rv[i].stages->items[j];

			if (sn->type != CSMS_JSON_STRING)
				payload_error("a stage name is not a string");
			csms_check_name("stage", sn->str);
			if (csms_stages_find(&stages, sn->str) >= 0)
				payload_error("stage \"%s\" marks two versions", sn->str);
			if (stages.n == CSMS_MAX_STAGES)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("backup blob holds more than %d stages", CSMS_MAX_STAGES)));
			stages.names[stages.n] = sn->str;
			stages.versions[stages.n] = rv[i].version;
			stages.n++;
		}
		str = csms_json_get(ver, "secret_string");
		bin = csms_json_get(ver, "secret_binary");
		if ((str == NULL) == (bin == NULL))
			payload_error("a version needs exactly one of \"secret_string\" and \"secret_binary\"");
		if (str)
		{
			if (str->type != CSMS_JSON_STRING)
				payload_error("member \"secret_string\" is not a string");
			if (pg_verify_mbstr_len(GetDatabaseEncoding(), str->str, (int) Min(str->len, INT_MAX), true) < 0)
				payload_error("a value is not valid in the database encoding");
			rv[i].kind = CSMS_KIND_STRING;
			rv[i].value = str->str;
			rv[i].len = str->len;
		}
		else
		{
			int			declen;
			char	   *dec;

			if (bin->type != CSMS_JSON_STRING || bin->len > INT_MAX / 2)
				payload_error("member \"secret_binary\" is not a string");
			declen = pg_b64_dec_len((int) bin->len);
			dec = csms_alloc_sensitive(declen + 1);
			declen = pg_b64_decode(bin->str, (int) bin->len, dec, declen);
			if (declen < 0)
				payload_error("member \"secret_binary\" is not base64");
			rv[i].kind = CSMS_KIND_BINARY;
			rv[i].value = dec;
			rv[i].len = (size_t) declen;
		}
		csms_check_value_size(rv[i].len);
	}

	/* the key: the secret's own, if it is still in this region */
	args[0] = UUIDPGetDatum(&key_id);
	args[1] = csms_text_datum(call->region);
	if (csms_exec(&q_restore_key, args, NULL, SPI_OK_SELECT, 1) == 1)
	{
		key = csms_key_by_id(&key_id);
	}
	else
		key = csms_key_resolve(call, NULL, true, false);	/* csms/default */
	csms_acl_check_key(call, key, call->region, CSMS_PRIV_USE);
	csms_key_require_enabled(key);
	csms_key_material(call, key, key->version);

	/* the name and the id must be free */
	args[0] = csms_text_datum(call->region);
	args[1] = csms_text_datum(name);
	if (csms_exec(&q_name_taken, args, NULL, SPI_OK_SELECT, 1) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("secret \"%s\" already exists in region \"%s\"", name, call->region),
				 errhint("A backup restores only under a free name: delete the existing secret first.")));
	args[0] = UUIDPGetDatum(&id);
	if (csms_exec(&q_id_taken, args, NULL, SPI_OK_SELECT, 1) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("a secret with id %s already exists", csms_uuid_text(&id)),
				 errdetail("It is secret \"%s\" in region \"%s\".",
						   csms_col_text(0, 2), csms_col_text(0, 1))));

	/*
	 * the secret row with its stages (each since the secret's update_time),
	 * then every version encrypted afresh, the copy of SYSCURRENT, tags
	 */
	args[0] = UUIDPGetDatum(&id);
	args[1] = csms_text_datum(call->region);
	args[2] = csms_text_datum(name);
	args[3] = UUIDPGetDatum(&key->id);
	args[17] = Int32GetDatum(last_version);
	args[21] = Int32GetDatum(nversions);
	/* a restored secret belongs to the role that restores it */
	args[22] = ObjectIdGetDatum(call->save_uid);
	nulls[22] = ' ';
	for (i = 0; i < stages.n; i++)
		stages.times[i] = DatumGetTimestampTz(args[16]);
	csms_stages_datums(&stages, &args[18], &args[19], &args[20]);
	if (csms_exec(&q_restore_secret, args, nulls, SPI_OK_INSERT, 0) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("secret \"%s\" already exists in region \"%s\"", name, call->region)));
	csms_role_depend(CSMS_SECRETS, call->save_uid);

	for (i = 0; i < nversions; i++)
	{
		csms_store_version(call, &id, call->region, rv[i].version, key, rv[i].kind,
						   rv[i].value, rv[i].len, &rv[i].create_time,
						   rv[i].expire_null ? NULL : &rv[i].expire_time, NULL);
		csms_wipe((void *) rv[i].value, rv[i].len);
	}
	if (csms_stages_find(&stages, "SYSCURRENT") >= 0)
		csms_current_refresh(&id);
	/* each restored version is a version created in this region */
	{
		CsmsEventSubject *made = palloc0(sizeof(CsmsEventSubject) * Max(nversions, 1));
		const char *event = nulls[12] == 'n' ? NULL : csms_event_subscribed(args[12]);

		for (i = 0; i < nversions; i++)
		{
			made[i].id = id;
			made[i].name = name;
			made[i].region = call->region;
			made[i].secret_type = TextDatumGetCString(args[5]);
			made[i].event = event;
			made[i].version = rv[i].version;
			made[i].expire_time = rv[i].expire_null ? DT_NOBEGIN :
				DatumGetTimestampTz(rv[i].expire_time);
		}
		csms_events_fire(CSMS_EVENT_VERSION_CREATED, made, nversions);
	}
	if (tags_jsonb)
	{
		args[0] = UUIDPGetDatum(&id);
		args[1] = JsonbPGetDatum(tags_jsonb);
		csms_exec(&q_restore_tags, args, NULL, SPI_OK_INSERT, 0);
	}
	csms_json_free(doc, &csms_sensitive_allocator);
	csms_free_secret(&csms_sensitive_allocator, payload, payload_len);
	csms_blob_parsed_free(parsed);
	*id_out = id;
}
