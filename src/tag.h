/*-------------------------------------------------------------------------
 *
 * tag.h
 *	  Tags of secrets (csms.tags: secret_id, key, value; one value per key,
 *	  at most CSMS_MAX_TAGS per secret): the tag arguments of the API as
 *	  lists, writing and deleting a secret's tags, and the listings -- one
 *	  secret's tags, the tags of a region, and the secrets of a region found
 *	  by tags and name (csms_list_resource_instances), answered through the
 *	  index on csms.tags (key, value) or the one on csms.secrets (name,
 *	  region), never by reading every secret.
 *
 *	  A replica's tags are its primary's: the write paths call
 *	  csms_replicas_follow after a change (replica.h), whose sync copies
 *	  them.
 *
 * src/tag.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_TAG_H
#define CSMS_TAG_H

#include "postgres.h"

#include "funcapi.h"
#include "utils/jsonb.h"

#include "context.h"
#include "secret.h"

/* tags of a filter, values of each of them, name matches (the cloud's limits) */
#define CSMS_TAG_FILTER_MAX		10

/* tags as the write paths take them: keys distinct, each checked */
typedef struct CsmsTagList
{
	int			n;
	char	  **keys;
	char	  **values;			/* values[i] NULL: any value (a delete by key) */
} CsmsTagList;

/* the filter of csms_list_resource_instances */
typedef struct CsmsTagFilter
{
	bool		by_tags;		/* a non-empty tags filter was given */
	int			nkeys;			/* its keys (distinct), all of which a secret must have */
	int			npairs;			/* (key, value) pairs of the keys with values */
	char	  **pair_keys;
	char	  **pair_values;
	int			nany;			/* the keys with an empty list: any value */
	char	  **any_keys;
	bool		by_name;		/* a name match was given */
	char	   *prefix;			/* ... the names that start with it */
	bool		none;			/* no secret can match (an empty or impossible match) */
} CsmsTagFilter;

/*
 * The tags argument of csms_batch_secret_tags: a JSON array of 1 to
 * CSMS_MAX_TAGS objects {"key": k, "value": v}, keys distinct and checked;
 * for a delete "value" may be left out (any value).  22023 / 54000.
 */
extern void csms_tag_list_parse(Jsonb *tags, bool for_delete, CsmsTagList *out);

/*
 * The tags and matches arguments of csms_list_resource_instances (NULL: not
 * given): tags [{"key": k, "values": [v, ...]}, ...] (at most 10 keys, each
 * with at most 10 values; an empty list is any value), matches
 * [{"key": "resource_name", "value": p}, ...] (at most 10, every one must
 * hold).  22023 / 54000.
 */
extern void csms_tag_filter_parse(Jsonb *tags, Jsonb *matches, CsmsTagFilter *out);

/*
 * Give secret s (opened for CSMS_ACT_WRITE_META, so locked) the tags of l,
 * replacing the value of a key it has; 54000 when it would have more than
 * CSMS_MAX_TAGS.  Whether anything changed.
 */
extern bool csms_tags_put(CsmsSecret *s, const CsmsTagList *l);

/*
 * Delete the tags of l from s (locked): a key with a value only when it
 * has that value.  Whether anything was deleted.
 */
extern bool csms_tags_remove(CsmsSecret *s, const CsmsTagList *l);

/* The tags of s (key, value) by key into a materialized SRF. */
extern void csms_tags_list(CsmsCall *call, ReturnSetInfo *rsinfo, const CsmsSecret *s);

/*
 * Every tag key of the secrets of the call's region that the caller may
 * describe, with the values they have (key, values), by key.
 */
extern void csms_tags_of_region(CsmsCall *call, ReturnSetInfo *rsinfo);

/*
 * The secrets of the call's region that the caller may describe and that f
 * matches, by name: one page of rows of csms_resource_instance (count:
 * false), or one row with their number (count: true).
 */
extern void csms_tags_find(CsmsCall *call, ReturnSetInfo *rsinfo, const CsmsTagFilter *f,
						   bool count, int page_size, int offset);

#endif							/* CSMS_TAG_H */
