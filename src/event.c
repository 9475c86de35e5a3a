/*-------------------------------------------------------------------------
 *
 * event.c
 *	  Events and their notifications (see event.h).
 *
 *	  A notification is one row of csms.notification_records and one
 *	  pg_notify, made by one statement (q_fire_one, or q_fire for several
 *	  secrets): the row and the notify are part of the transaction that made
 *	  the change, so a listener hears of a change when it commits and never
 *	  of one that rolled back.
 *
 * src/event.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "storage/lmgr.h"

#include "util.h"
#include "validate.h"
#include "spi.h"
#include "catalog.h"
#include "acl.h"
#include "event.h"

static const char *const event_types[] = {
	CSMS_EVENT_VERSION_CREATED, CSMS_EVENT_VERSION_EXPIRED, CSMS_EVENT_ROTATED,
	CSMS_EVENT_ROTATED_FAILED, CSMS_EVENT_DELETED
};

/*
 * For each secret given, the event its subscription names in its region,
 * when that event is ENABLED and lists the type: a record, and its payload
 * (content) sent on the event's channel.  q_fire_one takes one secret as
 * scalars, q_fire many as arrays (whose function scans cost a statement
 * about 200,000 instructions to set up: four times a whole create,
 * callgrind).  The payload is written here (payload_text) and stored as
 * jsonb (one secret's is sent as written, many as jsonb prints them): built
 * in SQL with jsonb_build_object it cost a create another 50,000.
 */
static CsmsStmt q_fire_one = {
	"INSERT INTO csms.notification_records (create_time, region, event_name,"
	" secret_id, secret_name, secret_type, event_type, target_type, target_name,"
	" content, status)"
	" SELECT pg_catalog.now(), $4, e.name, $2, $3, $5, $1, e.target_type, e.target_name,"
	"  $7::pg_catalog.jsonb, 'SUCCESS'"
	" FROM csms.events e"
	" WHERE e.name OPERATOR(pg_catalog.=) $6 AND e.region OPERATOR(pg_catalog.=) $4"
	"  AND e.state OPERATOR(pg_catalog.=) 'ENABLED'"
	"  AND $1 OPERATOR(pg_catalog.=) ANY (e.event_types)"
	" RETURNING pg_catalog.pg_notify(target_name, $7)",
	7, {TEXTOID, UUIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID}
};

static CsmsStmt q_fire = {
	"INSERT INTO csms.notification_records (create_time, region, event_name,"
	" secret_id, secret_name, secret_type, event_type, target_type, target_name,"
	" content, status)"
	" SELECT pg_catalog.now(), x.region, e.name, x.id, x.name, x.secret_type, $1,"
	"  e.target_type, e.target_name, x.content::pg_catalog.jsonb, 'SUCCESS'"
	" FROM ROWS FROM (pg_catalog.unnest($2::pg_catalog.uuid[]),"
	"   pg_catalog.unnest($3::pg_catalog.text[]), pg_catalog.unnest($4::pg_catalog.text[]),"
	"   pg_catalog.unnest($5::pg_catalog.text[]), pg_catalog.unnest($6::pg_catalog.text[]),"
	"   pg_catalog.unnest($7::pg_catalog.text[]))"
	"  WITH ORDINALITY AS x(id, name, region, secret_type, event, content, n)"
	" JOIN csms.events e ON e.name OPERATOR(pg_catalog.=) x.event"
	"  AND e.region OPERATOR(pg_catalog.=) x.region"
	" WHERE e.state OPERATOR(pg_catalog.=) 'ENABLED'"
	"  AND $1 OPERATOR(pg_catalog.=) ANY (e.event_types)"
	" ORDER BY x.n"
	" RETURNING pg_catalog.pg_notify(target_name, content::pg_catalog.text)",
	7, {TEXTOID, UUIDARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
	TEXTARRAYOID}
};

static void
append_time(StringInfo b, TimestampTz t)
{
	char		buf[MAXDATELEN + 1];

	appendStringInfoChar(b, '"');
	appendStringInfoString(b, JsonEncodeDateTime(buf, TimestampTzGetDatum(t),
												  TIMESTAMPTZOID, NULL));
	appendStringInfoChar(b, '"');
}

/*
 * The payload of `type` for x, as the cloud's record content: eventName,
 * eventType, eventTime (now(), the transaction's start), data (the secret's
 * id, name, type and region, the version and its expiry when there is one).
 * Names, ids and times only, never a value.
 */
static char *
payload_text(const char *type, const CsmsEventSubject *x)
{
	StringInfoData b;

	initStringInfo(&b);
	appendStringInfoString(&b, "{\"eventName\": ");
	escape_json(&b, x->event);
	appendStringInfoString(&b, ", \"eventType\": ");
	escape_json(&b, type);
	appendStringInfoString(&b, ", \"eventTime\": ");
	append_time(&b, GetCurrentTransactionStartTimestamp());
	appendStringInfo(&b, ", \"data\": {\"secretId\": \"%s\", \"secretName\": ",
					 csms_uuid_text(&x->id));
	escape_json(&b, x->name);
	appendStringInfoString(&b, ", \"secretType\": ");
	escape_json(&b, x->secret_type);
	appendStringInfoString(&b, ", \"region\": ");
	escape_json(&b, x->region);
	if (x->version > 0)
		appendStringInfo(&b, ", \"versionId\": \"v%d\"", x->version);
	if (!TIMESTAMP_IS_NOBEGIN(x->expire_time))
	{
		appendStringInfoString(&b, ", \"versionExpireTime\": ");
		append_time(&b, x->expire_time);
	}
	appendStringInfoString(&b, "}}");
	return b.data;
}

static Datum
text_array(Datum *elems, int n)
{
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* Fire `type` for n subjects (event.h) */
void
csms_events_fire(const char *type, const CsmsEventSubject *subjects, int n)
{
	Datum	   *ids,
			   *names,
			   *regions,
			   *types,
			   *events,
			   *contents;
	Datum		args[7];
	int			i,
				m = 0;

	if (n <= 0)
		return;
	if (n == 1)
	{
		const CsmsEventSubject *x = &subjects[0];

		if (x->event == NULL)
			return;				/* subscribes to nothing */
		args[0] = csms_text_datum(type);
		args[1] = UUIDPGetDatum(&x->id);
		args[2] = csms_text_datum(x->name);
		args[3] = csms_text_datum(x->region);
		args[4] = csms_text_datum(x->secret_type);
		args[5] = csms_text_datum(x->event);
		args[6] = csms_text_datum(payload_text(type, x));
		csms_exec(&q_fire_one, args, NULL, SPI_OK_INSERT_RETURNING, 0);
		return;
	}
	ids = palloc(sizeof(Datum) * n);
	names = palloc(sizeof(Datum) * n);
	regions = palloc(sizeof(Datum) * n);
	types = palloc(sizeof(Datum) * n);
	events = palloc(sizeof(Datum) * n);
	contents = palloc(sizeof(Datum) * n);
	for (i = 0; i < n; i++)
	{
		const CsmsEventSubject *x = &subjects[i];

		if (x->event == NULL)
			continue;			/* subscribes to nothing */
		ids[m] = UUIDPGetDatum(&x->id);
		names[m] = csms_text_datum(x->name);
		regions[m] = csms_text_datum(x->region);
		types[m] = csms_text_datum(x->secret_type);
		events[m] = csms_text_datum(x->event);
		contents[m] = csms_text_datum(payload_text(type, x));
		m++;
	}
	if (m == 0)
		return;
	args[0] = csms_text_datum(type);
	args[1] = PointerGetDatum(construct_array(ids, m, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	args[2] = text_array(names, m);
	args[3] = text_array(regions, m);
	args[4] = text_array(types, m);
	args[5] = text_array(events, m);
	args[6] = text_array(contents, m);
	csms_exec(&q_fire, args, NULL, SPI_OK_INSERT_RETURNING, 0);
}

/* The event a subscriptions array names (event.h) */
const char *
csms_event_subscribed(Datum subscriptions)
{
	ArrayType  *a = DatumGetArrayTypeP(subscriptions);
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (ARR_NDIM(a) == 0)
		return NULL;
	deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	return (n > 0 && !nulls[0]) ? TextDatumGetCString(elems[0]) : NULL;
}

/* Subscriptions ------------------------------------------------------------ */

/*
 * FOR KEY SHARE: a csms_delete_event that has not yet looked for
 * subscribers waits for this transaction, and then sees its subscription;
 * one that has deleted the event makes this find nothing.
 */
static CsmsStmt q_event_exists = {
	"SELECT FROM csms.events WHERE name OPERATOR(pg_catalog.=) $1"
	" AND region OPERATOR(pg_catalog.=) $2 FOR KEY SHARE",
	2, {TEXTOID, TEXTOID}
};

static void event_not_found(CsmsCall *call, const char *name) pg_attribute_noreturn();

static void
event_not_found(CsmsCall *call, const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("event \"%s\" does not exist in region \"%s\"", name, call->region),
			 errhint("Create it with csms_create_event(), or see the events there with csms_list_events().")));
}

bool
csms_event_exists(CsmsCall *call, const char *name)
{
	Datum		args[2];

	args[0] = csms_text_datum(name);
	args[1] = csms_text_datum(call->region);
	return csms_exec(&q_event_exists, args, NULL, SPI_OK_SELECT, 1) == 1;
}

/* Every event subs names exists in the call's region (event.h) */
void
csms_events_check_subscriptions(CsmsCall *call, ArrayType *subs)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				i;

	deconstruct_array(subs, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (i = 0; i < n; i++)
	{
		char	   *name = TextDatumGetCString(elems[i]);

		if (!csms_event_exists(call, name))
			event_not_found(call, name);
	}
}

/* Argument checks ---------------------------------------------------------- */

/* 1..12 distinct event types of the five */
void
csms_event_check_types(ArrayType *types)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				i,
				j;

	if (ARR_NDIM(types) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("event_types must be a one-dimensional array")));
	deconstruct_array(types, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n < 1 || n > CSMS_MAX_EVENT_TYPES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an event has 1 to %d event types", CSMS_MAX_EVENT_TYPES),
				 errdetail("%d were given.", n)));
	for (i = 0; i < n; i++)
	{
		char	   *t;
		bool		known = false;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("event_types must not contain NULL")));
		t = TextDatumGetCString(elems[i]);
		for (j = 0; j < lengthof(event_types); j++)
			known |= strcmp(t, event_types[j]) == 0;
		if (!known)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid event type \"%s\"", csms_trunc(t)),
					 errdetail("The event types are SECRET_VERSION_CREATED, SECRET_VERSION_EXPIRED, SECRET_ROTATED, SECRET_ROTATED_FAILED and SECRET_DELETED.")));
		for (j = 0; j < i; j++)
			if (strcmp(t, TextDatumGetCString(elems[j])) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("event type \"%s\" is given twice", t)));
	}
}

/* ENABLED or DISABLED */
void
csms_event_check_state(const char *state)
{
	if (strcmp(state, "ENABLED") != 0 && strcmp(state, "DISABLED") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid event state \"%s\"", csms_trunc(state)),
				 errdetail("An event is ENABLED or DISABLED.")));
}

static void notification_error(const char *detail) pg_attribute_noreturn();

static void
notification_error(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid notification"),
			 errdetail("%s", detail),
			 errhint("For example '{\"target_type\": \"NOTIFY\", \"target_name\": \"secrets_events\"}'.")));
}

/*
 * {"target_type": "NOTIFY", "target_name": "<channel>"}: the channel, a
 * name of 1 to 63 characters (a PostgreSQL identifier's limit, which LISTEN
 * needs) from a-z, A-Z, 0-9, "_" and "-".
 */
const char *
csms_event_check_notification(Jsonb *notification)
{
	JsonbValue *type,
			   *target;
	char	   *channel;
	int			i;

	if (!JB_ROOT_IS_OBJECT(notification) || JB_ROOT_IS_SCALAR(notification))
		notification_error("The notification is a JSON object with members target_type and target_name.");
	{
		JsonbIterator *it = JsonbIteratorInit(&notification->root);
		JsonbValue	v;
		JsonbIteratorToken tok;

		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
			if (tok == WJB_KEY &&
				!(v.val.string.len == 11 && memcmp(v.val.string.val, "target_type", 11) == 0) &&
				!(v.val.string.len == 11 && memcmp(v.val.string.val, "target_name", 11) == 0))
				notification_error("The notification has only the members target_type and target_name.");
	}
	type = getKeyJsonValueFromContainer(&notification->root, "target_type", 11, NULL);
	target = getKeyJsonValueFromContainer(&notification->root, "target_name", 11, NULL);
	if (type == NULL || type->type != jbvString || type->val.string.len != 6 ||
		memcmp(type->val.string.val, "NOTIFY", 6) != 0)
		notification_error("Its target_type must be \"NOTIFY\": the notification is sent with pg_notify.");
	if (target == NULL || target->type != jbvString)
		notification_error("Its target_name must be a string, the channel to notify.");
	channel = pnstrdup(target->val.string.val, target->val.string.len);
	for (i = 0; channel[i]; i++)
		if (!(isalnum((unsigned char) channel[i]) || channel[i] == '_' || channel[i] == '-'))
			break;
	if (i == 0 || channel[i] != '\0' || i > NAMEDATALEN - 1)
		notification_error("Its target_name, the channel, is 1 to 63 characters from a-z, A-Z, 0-9, \"_\" and \"-\".");
	return channel;
}

/* The API ------------------------------------------------------------------- */

/* the columns of csms_event, in order */
#define EVENT_COLUMNS \
	"e.id, e.name, e.event_types, e.state," \
	" pg_catalog.jsonb_build_object('target_type', e.target_type, 'target_name', e.target_name)," \
	" e.create_time, e.update_time"
#define EVENT_NCOLS 7

/*
 * Creates of events take turns (a lock mode that conflicts with itself, and
 * not with reads or the subscription checks' row locks), so that two cannot
 * both find room for the thirtieth.
 */
static CsmsStmt q_event_count = {
	"SELECT FROM csms.events WHERE region OPERATOR(pg_catalog.=) $1 LIMIT $2",
	2, {TEXTOID, INT4OID}
};

static CsmsStmt q_event_insert = {
	"WITH e AS (INSERT INTO csms.events (id, region, name, event_types, state,"
	"  target_type, target_name, create_time, update_time)"
	" VALUES ($1, $2, $3, $4, $5, 'NOTIFY', $6, pg_catalog.now(), pg_catalog.now())"
	" ON CONFLICT (name, region) DO NOTHING RETURNING *)"
	" SELECT " EVENT_COLUMNS " FROM e",
	6, {UUIDOID, TEXTOID, TEXTOID, TEXTARRAYOID, TEXTOID, TEXTOID}
};

static CsmsStmt q_event_row = {
	"SELECT " EVENT_COLUMNS " FROM csms.events e"
	" WHERE e.name OPERATOR(pg_catalog.=) $1 AND e.region OPERATOR(pg_catalog.=) $2",
	2, {TEXTOID, TEXTOID}
};

static CsmsStmt q_event_update = {
	"WITH e AS (UPDATE csms.events SET event_types = COALESCE($3, event_types),"
	"  state = COALESCE($4, state), target_name = COALESCE($5, target_name),"
	"  update_time = pg_catalog.now()"
	" WHERE name OPERATOR(pg_catalog.=) $1 AND region OPERATOR(pg_catalog.=) $2"
	" RETURNING *)"
	" SELECT " EVENT_COLUMNS " FROM e",
	5, {TEXTOID, TEXTOID, TEXTARRAYOID, TEXTOID, TEXTOID}
};

static CsmsStmt q_event_lock = {
	"SELECT id FROM csms.events"
	" WHERE name OPERATOR(pg_catalog.=) $1 AND region OPERATOR(pg_catalog.=) $2"
	" FOR UPDATE",
	2, {TEXTOID, TEXTOID}
};

/*
 * The secrets of the region that subscribe to the event, locked.  Replicas
 * do not count: theirs is their primary's subscription, which fires for an
 * event of that name in their region while there is one.
 */
static CsmsStmt q_event_subscribers = {
	"SELECT s.name FROM csms.secrets s WHERE s.region OPERATOR(pg_catalog.=) $2"
	" AND $1 OPERATOR(pg_catalog.=) ANY (s.event_subscriptions)"
	" AND s.replica_type OPERATOR(pg_catalog.<>) 'REPLICA'"
	" ORDER BY s.name FOR SHARE",
	2, {TEXTOID, TEXTOID}
};

static CsmsStmt q_event_delete = {
	"DELETE FROM csms.events"
	" WHERE name OPERATOR(pg_catalog.=) $1 AND region OPERATOR(pg_catalog.=) $2",
	2, {TEXTOID, TEXTOID}
};

static CsmsStmt q_event_list = {
	"SELECT " EVENT_COLUMNS " FROM csms.events e"
	" WHERE e.region OPERATOR(pg_catalog.=) $1"
	"   AND ($2 IS NULL OR e.name OPERATOR(pg_catalog.>) $2)"
	" ORDER BY e.name LIMIT $3",
	3, {TEXTOID, TEXTOID, INT4OID}
};

static void require_admin(CsmsCall *call, const char *what);

/* Events are the region's configuration: csms_admin manages them (42501) */
static void
require_admin(CsmsCall *call, const char *what)
{
	if (!csms_acl_is_admin(call->save_uid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s", what),
				 errdetail("Events are managed by members of csms_admin: a notification reaches every session that listens on its channel."),
				 errhint("Ask an administrator to grant you csms_admin, or to manage the event.")));
}

/* Row 0 of the last statement as a csms_event in the caller's context */
static HeapTuple
event_result(CsmsCall *call, TupleDesc tupdesc)
{
	Datum		values[EVENT_NCOLS];
	bool		nulls[EVENT_NCOLS];
	MemoryContext old;
	HeapTuple	tup;
	int			c;

	for (c = 0; c < EVENT_NCOLS; c++)
		values[c] = csms_col(0, c + 1, &nulls[c]);
	old = MemoryContextSwitchTo(call->caller_cxt);
	tup = heap_form_tuple(tupdesc, values, nulls);
	MemoryContextSwitchTo(old);
	return tup;
}

HeapTuple
csms_event_create(CsmsCall *call, TupleDesc tupdesc, const CsmsEventSpec *spec)
{
	Datum		args[6];
	pg_uuid_t	id;

	require_admin(call, "create an event");
	csms_new_uuid(&id);
	LockRelationOid(csms_rel(CSMS_EVENTS), ShareRowExclusiveLock);
	args[0] = csms_text_datum(call->region);
	args[1] = Int32GetDatum(CSMS_MAX_EVENTS);
	if (csms_exec(&q_event_count, args, NULL, SPI_OK_SELECT, 0) >= CSMS_MAX_EVENTS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("region \"%s\" has %d events, the most it may have", call->region,
						CSMS_MAX_EVENTS),
				 errhint("Delete an event that no secret subscribes to with csms_delete_event().")));
	args[0] = UUIDPGetDatum(&id);
	args[1] = csms_text_datum(call->region);
	args[2] = csms_text_datum(spec->name);
	args[3] = PointerGetDatum(spec->types);
	args[4] = csms_text_datum(spec->state);
	args[5] = csms_text_datum(spec->target_name);
	if (csms_exec(&q_event_insert, args, NULL, SPI_OK_SELECT, 1) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("event \"%s\" already exists in region \"%s\"", spec->name, call->region)));
	return event_result(call, tupdesc);
}

HeapTuple
csms_event_show(CsmsCall *call, TupleDesc tupdesc, const char *name)
{
	Datum		args[2];

	args[0] = csms_text_datum(name);
	args[1] = csms_text_datum(call->region);
	if (csms_exec(&q_event_row, args, NULL, SPI_OK_SELECT, 1) != 1)
		event_not_found(call, name);
	return event_result(call, tupdesc);
}

HeapTuple
csms_event_update(CsmsCall *call, TupleDesc tupdesc, const CsmsEventSpec *spec)
{
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	require_admin(call, "change an event");
	args[0] = csms_text_datum(spec->name);
	args[1] = csms_text_datum(call->region);
	args[2] = spec->types ? PointerGetDatum(spec->types) : (nulls[2] = 'n', (Datum) 0);
	args[3] = spec->state ? csms_text_datum(spec->state) : (nulls[3] = 'n', (Datum) 0);
	args[4] = spec->target_name ? csms_text_datum(spec->target_name) : (nulls[4] = 'n', (Datum) 0);
	if (csms_exec(&q_event_update, args, nulls, SPI_OK_SELECT, 1) != 1)
		event_not_found(call, spec->name);
	return event_result(call, tupdesc);
}

/* Refused (2BP01) while a secret of the region subscribes to it */
void
csms_event_delete(CsmsCall *call, const char *name)
{
	Datum		args[2];
	uint64		n;

	require_admin(call, "delete an event");
	args[0] = csms_text_datum(name);
	args[1] = csms_text_datum(call->region);
	if (csms_exec(&q_event_lock, args, NULL, SPI_OK_SELECT, 1) != 1)
		event_not_found(call, name);
	n = csms_exec(&q_event_subscribers, args, NULL, SPI_OK_SELECT, 0);
	if (n > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("event \"%s\" is in use", name),
				 n == 1 ? errdetail("Secret \"%s\" subscribes to it.", csms_col_text(0, 1)) :
				 errdetail("Secret \"%s\" and %d more secrets subscribe to it.",
						   csms_col_text(0, 1), (int) (n - 1)),
				 errhint("Remove the subscriptions with csms_update_secret(name, event_subscriptions => '{}') first.")));
	csms_exec(&q_event_delete, args, NULL, SPI_OK_DELETE, 0);
}

void
csms_event_list(CsmsCall *call, ReturnSetInfo *rsinfo, int page_size, const char *marker)
{
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};
	uint64		n,
				i;

	args[0] = csms_text_datum(call->region);
	args[1] = marker ? csms_text_datum(marker) : (nulls[1] = 'n', (Datum) 0);
	args[2] = Int32GetDatum(page_size);
	n = csms_exec(&q_event_list, args, nulls, SPI_OK_SELECT, 0);
	for (i = 0; i < n; i++)
	{
		Datum		values[EVENT_NCOLS];
		bool		isnull[EVENT_NCOLS];
		int			c;

		for (c = 0; c < EVENT_NCOLS; c++)
			values[c] = csms_col(i, c + 1, &isnull[c]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
	}
}

/* Notification records ------------------------------------------------------ */

/*
 * A record names a secret: it is listed to the roles that may describe that
 * secret while it exists, and to csms_admin (who alone sees the records of
 * deleted secrets).
 */
static CsmsStmt q_record_list = {
	"SELECT r.id, r.create_time, r.event_name, r.event_type, r.secret_name,"
	" r.secret_type, r.target_type, r.target_name, r.status, r.content"
	" FROM csms.notification_records r"
	" LEFT JOIN csms.secrets s ON s.id OPERATOR(pg_catalog.=) r.secret_id"
	" WHERE r.region OPERATOR(pg_catalog.=) $1"
	"   AND ($2 IS NULL OR r.id OPERATOR(pg_catalog.<) $2)"
	"   AND ($4 OR (s.id IS NOT NULL AND csms.caller_may_see('secret', s.owner,"
	"        COALESCE(s.primary_id, s.id), s.name, s.region)))"
	" ORDER BY r.id DESC LIMIT $3",
	4, {TEXTOID, INT8OID, INT4OID, BOOLOID}
};

void
csms_notification_list(CsmsCall *call, ReturnSetInfo *rsinfo, int page_size, int64 marker)
{
	Datum		args[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	uint64		n,
				i;

	args[0] = csms_text_datum(call->region);
	args[1] = marker > 0 ? Int64GetDatum(marker) : (nulls[1] = 'n', (Datum) 0);
	args[2] = Int32GetDatum(page_size);
	args[3] = BoolGetDatum(csms_acl_is_admin(call->save_uid));
	n = csms_exec(&q_record_list, args, nulls, SPI_OK_SELECT, 0);
	for (i = 0; i < n; i++)
	{
		Datum		values[10];
		bool		isnull[10];
		int			c;

		for (c = 0; c < 10; c++)
			values[c] = csms_col(i, c + 1, &isnull[c]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
	}
}

static CsmsStmt q_record_retire = {
	"DELETE FROM csms.notification_records WHERE id OPERATOR(pg_catalog.=) ANY (ARRAY("
	" SELECT r.id FROM csms.notification_records r"
	" WHERE r.create_time OPERATOR(pg_catalog.<) $1"
	" ORDER BY r.create_time LIMIT $2))",
	2, {TIMESTAMPTZOID, INT4OID}
};

uint64
csms_notification_retire(TimestampTz cutoff, int limit)
{
	Datum		args[2];

	args[0] = TimestampTzGetDatum(cutoff);
	args[1] = Int32GetDatum(limit);
	return csms_exec(&q_record_retire, args, NULL, SPI_OK_DELETE, 0);
}
