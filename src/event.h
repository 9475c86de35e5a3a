/*-------------------------------------------------------------------------
 *
 * event.h
 *	  Events (csms.events) and the notifications they send: a secret that
 *	  names an event in event_subscriptions has it fire, for the event
 *	  types the event lists, as a pg_notify on the event's channel (sent
 *	  when, and only when, the transaction commits) and a row of
 *	  csms.notification_records.  Payloads hold names, ids and times, never
 *	  a value.
 *
 * src/event.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_EVENT_H
#define CSMS_EVENT_H

#include "postgres.h"

#include "funcapi.h"
#include "datatype/timestamp.h"
#include "utils/array.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

#include "context.h"

/* the event types (csms-api.md, section 5) */
#define CSMS_EVENT_VERSION_CREATED	"SECRET_VERSION_CREATED"
#define CSMS_EVENT_VERSION_EXPIRED	"SECRET_VERSION_EXPIRED"
#define CSMS_EVENT_ROTATED			"SECRET_ROTATED"
#define CSMS_EVENT_ROTATED_FAILED	"SECRET_ROTATED_FAILED"
#define CSMS_EVENT_DELETED			"SECRET_DELETED"

#define CSMS_MAX_EVENTS				30	/* per region */
#define CSMS_MAX_EVENT_TYPES		12

/* A secret an event fires for, as the caller knows it */
typedef struct CsmsEventSubject
{
	pg_uuid_t	id;
	const char *name;
	const char *region;
	const char *secret_type;
	const char *event;			/* the event its subscription names, or NULL */
	int			version;		/* 0: none */
	TimestampTz expire_time;	/* DT_NOBEGIN: none */
} CsmsEventSubject;

/*
 * Fire event type `type` for subjects[0..n-1]: for each, the event it
 * subscribes to in its region, if that event is ENABLED and lists the type.
 * The statement reads csms.events only (a few rows per region), so that it
 * costs the same whatever the size of the other tables.
 */
extern void csms_events_fire(const char *type, const CsmsEventSubject *subjects, int n);

/* The event an event_subscriptions array names (its first), or NULL */
extern const char *csms_event_subscribed(Datum subscriptions);

/* Whether event `name` exists in the call's region (locked FOR KEY SHARE) */
extern bool csms_event_exists(CsmsCall *call, const char *name);

/* 42704 unless every event subs names (checked) exists in the call's region */
extern void csms_events_check_subscriptions(CsmsCall *call, ArrayType *subs);

/* What csms_create_event and csms_update_event are given (NULL: unchanged) */
typedef struct CsmsEventSpec
{
	const char *name;
	ArrayType  *types;			/* checked */
	const char *state;			/* checked */
	const char *target_name;	/* the channel, checked */
} CsmsEventSpec;

/* The argument checks: each one error with its SQLSTATE */
extern void csms_event_check_types(ArrayType *types);
extern void csms_event_check_state(const char *state);
extern const char *csms_event_check_notification(Jsonb *notification);

/* The event API, in the call's region; results are csms_event rows */
extern HeapTuple csms_event_create(CsmsCall *call, TupleDesc tupdesc, const CsmsEventSpec *spec);
extern HeapTuple csms_event_show(CsmsCall *call, TupleDesc tupdesc, const char *name);
extern HeapTuple csms_event_update(CsmsCall *call, TupleDesc tupdesc, const CsmsEventSpec *spec);
extern void csms_event_delete(CsmsCall *call, const char *name);
extern void csms_event_list(CsmsCall *call, ReturnSetInfo *rsinfo, int page_size,
							const char *marker);

/* One page of notification records (newest first, ids below marker; 0: from the newest) */
extern void csms_notification_list(CsmsCall *call, ReturnSetInfo *rsinfo, int page_size,
								   int64 marker);

/* Delete up to `limit` notification records older than `cutoff`; how many went */
extern uint64 csms_notification_retire(TimestampTz cutoff, int limit);

#endif							/* CSMS_EVENT_H */
