/*-------------------------------------------------------------------------
 *
 * tag.c
 *	  Tags of secrets (see tag.h).
 *
 *	  Secrets are found by tags through the index csms.tags_key_value_idx
 *	  on (key, value, secret_id): each (key, value) pair of a filter is one
 *	  index range, a key with any value the range of that key, and a secret
 *	  matches when it turns up for every key of the filter (one value per
 *	  key per secret, so counting its rows says how many keys it has).  A
 *	  name match is a prefix of names, one range of the index on
 *	  csms.secrets (name, region).  Each combination of the two has its own
 *	  statement.  Those without a key of any value are planned once,
 *	  generically (CURSOR_OPT_GENERIC_PLAN): their plans are index lookups
 *	  whatever the values, and planning them at every call cost a call a
 *	  sixth of its time.  A key with any value, whose range may hold most of
 *	  csms.tags or nothing, is planned for its values at every run
 *	  (CURSOR_OPT_CUSTOM_PLAN): its generic plan would read all of
 *	  csms.tags.  (A session's plan_cache_mode, when it forces one or the
 *	  other, comes first.)
 *
 * src/tag.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/typcache.h"

#include "util.h"
#include "validate.h"
#include "spi.h"
#include "secret.h"
#include "tag.h"

/* Writes ---------------------------------------------------------------------- */

/* how many tags s has, and how many of them l does not name */
static CsmsStmt q_tags_count = {
	"SELECT pg_catalog.count(*),"
	" pg_catalog.count(*) FILTER (WHERE key OPERATOR(pg_catalog.<>) ALL ($2))"
	" FROM csms.tags WHERE secret_id OPERATOR(pg_catalog.=) $1",
	2, {UUIDOID, TEXTARRAYOID}
};

/*
 * New keys, and new values of keys the secret has; a change touches the
 * secret's update_time, as every change of a secret does
 */
static CsmsStmt q_tags_put = {
	"WITH p AS (INSERT INTO csms.tags AS t (secret_id, key, value)"
	"  SELECT $1, f.k, f.v FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3)) f(k, v)"
	"  ON CONFLICT (secret_id, key) DO UPDATE SET value = EXCLUDED.value"
	"   WHERE t.value OPERATOR(pg_catalog.<>) EXCLUDED.value"
	"  RETURNING 1)"
	" UPDATE csms.secrets SET update_time = pg_catalog.now()"
	" WHERE id OPERATOR(pg_catalog.=) $1 AND EXISTS (SELECT FROM p)",
	3, {UUIDOID, TEXTARRAYOID, TEXTARRAYOID}
};

/* a NULL value deletes the key whatever its value */
static CsmsStmt q_tags_remove = {
	"WITH d AS (DELETE FROM csms.tags t"
	"  USING ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3)) f(k, v)"
	"  WHERE t.secret_id OPERATOR(pg_catalog.=) $1 AND t.key OPERATOR(pg_catalog.=) f.k"
	"   AND (f.v IS NULL OR t.value OPERATOR(pg_catalog.=) f.v)"
	"  RETURNING 1)"
	" UPDATE csms.secrets SET update_time = pg_catalog.now()"
	" WHERE id OPERATOR(pg_catalog.=) $1 AND EXISTS (SELECT FROM d)",
	3, {UUIDOID, TEXTARRAYOID, TEXTARRAYOID}
};

/* Listings --------------------------------------------------------------------- */

static CsmsStmt q_tags_of = {
	"SELECT key, value FROM csms.tags WHERE secret_id OPERATOR(pg_catalog.=) $1"
	" ORDER BY key COLLATE pg_catalog.\"C\"",
	1, {UUIDOID}
};

static CsmsStmt q_tags_of_region = {
	"SELECT t.key, pg_catalog.array_agg(DISTINCT t.value COLLATE pg_catalog.\"C\""
	"  ORDER BY t.value COLLATE pg_catalog.\"C\")"
	" FROM csms.secrets s JOIN csms.tags t ON t.secret_id OPERATOR(pg_catalog.=) s.id"
	" WHERE s.region OPERATOR(pg_catalog.=) $1"
	"   AND csms.caller_may_see('secret', s.owner, COALESCE(s.primary_id, s.id), s.name, s.region)"
	" GROUP BY t.key ORDER BY t.key COLLATE pg_catalog.\"C\"",
	1, {TEXTOID}
};

/*
 * csms_list_resource_instances.  Parameters of every statement: $1 the
 * region, $2 and $3 the (key, value) pairs of the tags filter, $4 its keys
 * with any value, $5 the number of its keys, $6 and $7 the range of names
 * [$6, $7) of a prefix, $8 and $9 the page (limit, offset).
 */
#define RI_NARGS 9

/* a page of the matches by name, with all their tags and how many match in all */
#define RI_PAGE_COLUMNS \
	" p.id, p.name, COALESCE((SELECT pg_catalog.jsonb_object_agg(t.key, t.value)" \
	"  FROM csms.tags t WHERE t.secret_id OPERATOR(pg_catalog.=) p.id), '{}'::pg_catalog.jsonb)," \
	" p.total" \
	" FROM (SELECT s.id, s.name, pg_catalog.count(*) OVER () AS total FROM"
#define RI_PAGE_TAIL \
	"  ORDER BY s.name LIMIT $8 OFFSET $9) p" \
	" ORDER BY p.name"

/*
 * The secrets that have every key of the filter with one of its values:
 * each (key, value) pair is an index range, and a secret turns up once per
 * key it matches.  Without keys of any value ($4 empty), planned
 * generically: every pair is a lookup in the index whatever its values.
 */
#define RI_FROM_PAIRS \
	" (SELECT t.secret_id" \
	"   FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3)) f(k, v)" \
	"   JOIN csms.tags t ON t.key OPERATOR(pg_catalog.=) f.k" \
	"    AND t.value OPERATOR(pg_catalog.=) f.v" \
	"  GROUP BY t.secret_id HAVING pg_catalog.count(*) OPERATOR(pg_catalog.=) $5) g" \
	" JOIN csms.secrets s ON s.id OPERATOR(pg_catalog.=) g.secret_id"
/* the same with keys of any value: planned for its values at every run */
#define RI_FROM_TAGS \
	" (SELECT m.secret_id FROM" \
	"   (SELECT t.secret_id" \
	"     FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3)) f(k, v)" \
	"     JOIN csms.tags t ON t.key OPERATOR(pg_catalog.=) f.k" \
	"      AND t.value OPERATOR(pg_catalog.=) f.v" \
	"    UNION ALL" \
	"    SELECT t.secret_id FROM csms.tags t WHERE t.key OPERATOR(pg_catalog.=) ANY ($4)) m" \
	"  GROUP BY m.secret_id HAVING pg_catalog.count(*) OPERATOR(pg_catalog.=) $5) g" \
	" JOIN csms.secrets s ON s.id OPERATOR(pg_catalog.=) g.secret_id"
#define RI_FROM_ALL " csms.secrets s"
#define RI_WHERE \
	" WHERE s.region OPERATOR(pg_catalog.=) $1" \
	"   AND csms.caller_may_see('secret', s.owner, COALESCE(s.primary_id, s.id), s.name, s.region)"
#define RI_PREFIX \
	"   AND s.name OPERATOR(pg_catalog.>=) ($6 COLLATE pg_catalog.\"C\")" \
	"   AND s.name OPERATOR(pg_catalog.<) ($7 COLLATE pg_catalog.\"C\")"

static CsmsStmt q_ri_page_all = {
	"SELECT" RI_PAGE_COLUMNS RI_FROM_ALL RI_WHERE RI_PAGE_TAIL,
	9, {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT8OID, TEXTOID, TEXTOID, INT4OID, INT4OID},
	CURSOR_OPT_GENERIC_PLAN
};
static CsmsStmt q_ri_page_name = {
	"SELECT" RI_PAGE_COLUMNS RI_FROM_ALL RI_WHERE RI_PREFIX RI_PAGE_TAIL,
	9, {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT8OID, TEXTOID, TEXTOID, INT4OID, INT4OID},
	CURSOR_OPT_GENERIC_PLAN
};
static CsmsStmt q_ri_page_pairs = {
	"SELECT" RI_PAGE_COLUMNS RI_FROM_PAIRS RI_WHERE RI_PAGE_TAIL,
	9, {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT8OID, TEXTOID, TEXTOID, INT4OID, INT4OID},
	CURSOR_OPT_GENERIC_PLAN
};
static CsmsStmt q_ri_page_pairs_name = {
	"SELECT" RI_PAGE_COLUMNS RI_FROM_PAIRS RI_WHERE RI_PREFIX RI_PAGE_TAIL,
	9, {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT8OID, TEXTOID, TEXTOID, INT4OID, INT4OID},
	CURSOR_OPT_GENERIC_PLAN
};
static CsmsStmt q_ri_page_tags = {
	"SELECT" RI_PAGE_COLUMNS RI_FROM_TAGS RI_WHERE RI_PAGE_TAIL,
	9, {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT8OID, TEXTOID, TEXTOID, INT4OID, INT4OID},
	CURSOR_OPT_CUSTOM_PLAN
};
static CsmsStmt q_ri_page_tags_name = {
	"SELECT" RI_PAGE_COLUMNS RI_FROM_TAGS RI_WHERE RI_PREFIX RI_PAGE_TAIL,
	9, {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT8OID, TEXTOID, TEXTOID, INT4OID, INT4OID},
	CURSOR_OPT_CUSTOM_PLAN
};
static CsmsStmt q_ri_count_all = {
	"SELECT pg_catalog.count(*) FROM" RI_FROM_ALL RI_WHERE,
	9, {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT8OID, TEXTOID, TEXTOID, INT4OID, INT4OID},
	CURSOR_OPT_GENERIC_PLAN
};
static CsmsStmt q_ri_count_name = {
	"SELECT pg_catalog.count(*) FROM" RI_FROM_ALL RI_WHERE RI_PREFIX,
	9, {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT8OID, TEXTOID, TEXTOID, INT4OID, INT4OID},
	CURSOR_OPT_GENERIC_PLAN
};
static CsmsStmt q_ri_count_pairs = {
	"SELECT pg_catalog.count(*) FROM" RI_FROM_PAIRS RI_WHERE,
	9, {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT8OID, TEXTOID, TEXTOID, INT4OID, INT4OID},
	CURSOR_OPT_GENERIC_PLAN
};
static CsmsStmt q_ri_count_pairs_name = {
	"SELECT pg_catalog.count(*) FROM" RI_FROM_PAIRS RI_WHERE RI_PREFIX,
	9, {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT8OID, TEXTOID, TEXTOID, INT4OID, INT4OID},
	CURSOR_OPT_GENERIC_PLAN
};
static CsmsStmt q_ri_count_tags = {
	"SELECT pg_catalog.count(*) FROM" RI_FROM_TAGS RI_WHERE,
	9, {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT8OID, TEXTOID, TEXTOID, INT4OID, INT4OID},
	CURSOR_OPT_CUSTOM_PLAN
};
static CsmsStmt q_ri_count_tags_name = {
	"SELECT pg_catalog.count(*) FROM" RI_FROM_TAGS RI_WHERE RI_PREFIX,
	9, {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT8OID, TEXTOID, TEXTOID, INT4OID, INT4OID},
	CURSOR_OPT_CUSTOM_PLAN
};

/* the columns of csms_resource_instance */
#define RI_NCOLS 5

/* Arguments ------------------------------------------------------------------- */

/* A string of JSON as a C string (jsonb strings hold no NUL) */
static char *
jv_str(const JsonbValue *v)
{
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* The object that array element v is, or NULL */
static JsonbContainer *
jv_object(const JsonbValue *v)
{
	if (v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data))
		return v->val.binary.data;
	return NULL;
}

/* Member `name` of object o when it has that type, or NULL (*present: it is there) */
static JsonbValue *
jv_member(JsonbContainer *o, const char *name, enum jbvType type, bool *present)
{
	JsonbValue *v = getKeyJsonValueFromContainer(o, name, strlen(name), NULL);

	*present = v != NULL;
	if (v == NULL)
		return NULL;
	if (type == jbvArray)
		return (v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data)) ? v : NULL;
	return v->type == type ? v : NULL;
}

/* a JSON array (not a scalar), and how many elements */
static bool
jb_is_array(Jsonb *j)
{
	return JB_ROOT_IS_ARRAY(j) && !JB_ROOT_IS_SCALAR(j);
}

/* 22023 for a key given twice */
static void
check_distinct(char **keys, int n, const char *where)
{
	int			i;

	for (i = 0; i < n; i++)
		if (strcmp(keys[i], keys[n]) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("tag key \"%s\" is given twice in %s", csms_trunc(keys[n]), where)));
}

/* The tags of csms_batch_secret_tags (tag.h) */
void
csms_tag_list_parse(Jsonb *tags, bool for_delete, CsmsTagList *out)
{
	int			n,
				i;

	if (!jb_is_array(tags) || JB_ROOT_COUNT(tags) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tags must be a non-empty JSON array of tags"),
				 errhint("For example '[{\"key\": \"env\", \"value\": \"prod\"}]'.")));
	n = JB_ROOT_COUNT(tags);
	if (n > CSMS_MAX_TAGS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many tags"),
				 errdetail("A batch takes at most %d tags; %d were given.", CSMS_MAX_TAGS, n)));
	out->n = n;
	out->keys = palloc(sizeof(char *) * n);
	out->values = palloc(sizeof(char *) * n);
	for (i = 0; i < n; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(&tags->root, i);
		JsonbContainer *o = jv_object(e);
		JsonbValue *k = NULL,
				   *v = NULL;
		bool		has_key = false,
					has_value = false;

		if (o)
		{
			k = jv_member(o, "key", jbvString, &has_key);
			v = jv_member(o, "value", jbvString, &has_value);
		}
		if (o == NULL || k == NULL || (has_value && v == NULL) ||
			(!has_value && !for_delete) ||
			JsonContainerSize(o) != (has_key ? 1 : 0) + (has_value ? 1 : 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid element %d of tags", i + 1),
					 for_delete ?
					 errdetail("A tag to delete is an object with a string \"key\" and, to delete it only with that value, a string \"value\".") :
					 errdetail("A tag is an object with a string \"key\" and a string \"value\".")));
		out->keys[i] = jv_str(k);
		csms_check_tag_key(out->keys[i]);
		check_distinct(out->keys, i, "tags");
		out->values[i] = v ? jv_str(v) : NULL;
		if (out->values[i])
			csms_check_tag_value(out->values[i]);
	}
}

/* The tags filter of csms_list_resource_instances */
static void
filter_tags_parse(Jsonb *tags, CsmsTagFilter *f)
{
	int			n,
				i;
	char	  **keys;

	if (!jb_is_array(tags))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tags must be a JSON array of tag filters"),
				 errhint("For example '[{\"key\": \"env\", \"values\": [\"prod\", \"test\"]}]'.")));
	n = JB_ROOT_COUNT(tags);
	if (n > CSMS_TAG_FILTER_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many tag filters"),
				 errdetail("A filter takes at most %d tags; %d were given.", CSMS_TAG_FILTER_MAX, n)));
	f->by_tags = n > 0;
	f->nkeys = n;
	keys = palloc(sizeof(char *) * Max(n, 1));
	f->pair_keys = palloc(sizeof(char *) * Max(n * CSMS_TAG_FILTER_MAX, 1));
	f->pair_values = palloc(sizeof(char *) * Max(n * CSMS_TAG_FILTER_MAX, 1));
	f->any_keys = palloc(sizeof(char *) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(&tags->root, i);
		JsonbContainer *o = jv_object(e);
		JsonbValue *k = NULL,
				   *vs = NULL;
		bool		has_key = false,
					has_values = false;
		JsonbContainer *a;
		int			nv,
					first = f->npairs,
					j;

		if (o)
		{
			k = jv_member(o, "key", jbvString, &has_key);
			vs = jv_member(o, "values", jbvArray, &has_values);
		}
		if (o == NULL || k == NULL || vs == NULL || JsonContainerSize(o) != 2)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid element %d of tags", i + 1),
					 errdetail("A tag filter is an object with a string \"key\" and an array \"values\" of strings; an empty array matches any value.")));
		keys[i] = jv_str(k);
		csms_check_tag_key(keys[i]);
		check_distinct(keys, i, "the filter");
		a = vs->val.binary.data;
		nv = JsonContainerSize(a);
		if (nv > CSMS_TAG_FILTER_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many values for tag key \"%s\"", csms_trunc(keys[i])),
					 errdetail("A tag filter takes at most %d values; %d were given.",
							   CSMS_TAG_FILTER_MAX, nv)));
		if (nv == 0)
		{
			f->any_keys[f->nany++] = keys[i];
			continue;
		}
		for (j = 0; j < nv; j++)
		{
			JsonbValue *v = getIthJsonbValueFromContainer(a, j);
			char	   *value;
			int			p;

			if (v->type != jbvString)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid element %d of tags", i + 1),
						 errdetail("The values of a tag filter are strings.")));
			value = jv_str(v);
			csms_check_tag_value(value);
			/* a value given twice is one value: each pair counts once */
			for (p = first; p < f->npairs; p++)
				if (strcmp(f->pair_values[p], value) == 0)
					break;
			if (p < f->npairs)
				continue;
			f->pair_keys[f->npairs] = keys[i];
			f->pair_values[f->npairs++] = value;
		}
	}
}

/* a character of a secret name: ^[a-zA-Z0-9_-]$ */
static bool
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '_' || c == '-';
}

/*
 * The matches of csms_list_resource_instances: every value must be a start
 * of the name, so they hold together when each is a start of the longest,
 * which is then the prefix; otherwise, or when one is empty, or holds what
 * no name holds, nothing matches.  Values are taken literally: a prefix is
 * a range of names, no pattern.
 */
static void
filter_matches_parse(Jsonb *matches, CsmsTagFilter *f)
{
	int			n,
				i;
	char	  **values;
	char	   *longest = NULL;
	const char *p;

	if (!jb_is_array(matches))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("matches must be a JSON array of name matches"),
				 errhint("For example '[{\"key\": \"resource_name\", \"value\": \"payments-\"}]'.")));
	n = JB_ROOT_COUNT(matches);
	if (n > CSMS_TAG_FILTER_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many matches"),
				 errdetail("A filter takes at most %d matches; %d were given.", CSMS_TAG_FILTER_MAX, n)));
	if (n == 0)
		return;
	values = palloc(sizeof(char *) * n);
	for (i = 0; i < n; i++)
	{
		JsonbValue *e = getIthJsonbValueFromContainer(&matches->root, i);
		JsonbContainer *o = jv_object(e);
		JsonbValue *k = NULL,
				   *v = NULL;
		bool		has_key = false,
					has_value = false;
		char	   *key;

		if (o)
		{
			k = jv_member(o, "key", jbvString, &has_key);
			v = jv_member(o, "value", jbvString, &has_value);
		}
		if (o == NULL || k == NULL || v == NULL || JsonContainerSize(o) != 2)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid element %d of matches", i + 1),
					 errdetail("A match is an object with \"key\" \"resource_name\" and a string \"value\".")));
		key = jv_str(k);
		if (strcmp(key, "resource_name") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid match key \"%s\"", csms_trunc(key)),
					 errdetail("The only match key is \"resource_name\".")));
		values[i] = jv_str(v);
		if (pg_mbstrlen(values[i]) > 255)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid element %d of matches", i + 1),
					 errdetail("A match value has at most 255 characters.")));
		if (longest == NULL || strlen(values[i]) > strlen(longest))
			longest = values[i];
	}
	f->by_name = true;
	f->prefix = longest;
	for (i = 0; i < n; i++)
		if (values[i][0] == '\0' || strncmp(longest, values[i], strlen(values[i])) != 0)
			f->none = true;
	if (strlen(longest) > CSMS_NAME_MAXLEN)
		f->none = true;
	for (p = longest; *p; p++)
		if (!name_char(*p))
			f->none = true;
}

/* The filter of csms_list_resource_instances (tag.h) */
void
csms_tag_filter_parse(Jsonb *tags, Jsonb *matches, CsmsTagFilter *out)
{
	memset(out, 0, sizeof(*out));
	if (tags)
		filter_tags_parse(tags, out);
	if (matches)
		filter_matches_parse(matches, out);
}

/* Writes ------------------------------------------------------------------------ */

/* A text[] of n strings, NULL for a NULL pointer */
static Datum
text_array(char **items, int n)
{
	Datum	   *d;
	bool	   *nulls;
	int			dims[1];
	int			lbs[1] = {1};
	int			i;

	if (n == 0)
		return PointerGetDatum(construct_empty_array(TEXTOID));
	d = palloc(sizeof(Datum) * n);
	nulls = palloc(sizeof(bool) * n);
	for (i = 0; i < n; i++)
	{
		nulls[i] = items[i] == NULL;
		d[i] = nulls[i] ? (Datum) 0 : CStringGetTextDatum(items[i]);
	}
	dims[0] = n;
	return PointerGetDatum(construct_md_array(d, nulls, 1, dims, lbs, TEXTOID, -1, false,
											  TYPALIGN_INT));
}

/* Tags for s (tag.h) */
bool
csms_tags_put(CsmsSecret *s, const CsmsTagList *l)
{
	Datum		args[3];
	bool		isnull;
	int64		has,
				others;

	Assert(s->locked);
	args[0] = UUIDPGetDatum(&s->id);
	args[1] = text_array(l->keys, l->n);
	args[2] = text_array(l->values, l->n);
	/* the secret's row is locked: no other write changes its tags meanwhile */
	csms_exec(&q_tags_count, args, NULL, SPI_OK_SELECT, 0);
	has = DatumGetInt64(csms_col(0, 1, &isnull));
	others = DatumGetInt64(csms_col(0, 2, &isnull));
	if (others + l->n > CSMS_MAX_TAGS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("secret \"%s\" would have more than %d tags", s->name, CSMS_MAX_TAGS),
				 errdetail_plural("It has %d tags, and the call gives %d new key.",
								  "It has %d tags, and the call gives %d new keys.",
								  (unsigned long) (others + l->n - has), (int) has,
								  (int) (others + l->n - has)),
				 errhint("Delete tags that are no longer used with csms_delete_secret_tag() or csms_batch_secret_tags().")));
	return csms_exec(&q_tags_put, args, NULL, SPI_OK_UPDATE, 0) > 0;
}

/* Tags of s deleted (tag.h) */
bool
csms_tags_remove(CsmsSecret *s, const CsmsTagList *l)
{
	Datum		args[3];

	Assert(s->locked);
	args[0] = UUIDPGetDatum(&s->id);
	args[1] = text_array(l->keys, l->n);
	args[2] = text_array(l->values, l->n);
	return csms_exec(&q_tags_remove, args, NULL, SPI_OK_UPDATE, 0) > 0;
}

/* Listings ------------------------------------------------------------------------ */

/* Every row of the last statement into the SRF, as it is */
static void
rows_out(ReturnSetInfo *rsinfo, uint64 n, int ncols)
{
	uint64		i;

	for (i = 0; i < n; i++)
	{
		Datum		values[RI_NCOLS];
		bool		nulls[RI_NCOLS];
		int			c;

		for (c = 0; c < ncols; c++)
			values[c] = csms_col(i, c + 1, &nulls[c]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/* The tags of s (tag.h) */
void
csms_tags_list(CsmsCall *call, ReturnSetInfo *rsinfo, const CsmsSecret *s)
{
	Datum		arg = UUIDPGetDatum(&s->id);

	rows_out(rsinfo, csms_exec(&q_tags_of, &arg, NULL, SPI_OK_SELECT, 0), 2);
}

/* The tags of the call's region (tag.h) */
void
csms_tags_of_region(CsmsCall *call, ReturnSetInfo *rsinfo)
{
	Datum		arg = csms_text_datum(call->region);

	rows_out(rsinfo, csms_exec(&q_tags_of_region, &arg, NULL, SPI_OK_SELECT, 0), 2);
}

/* Secrets by tags and name (tag.h) */
void
csms_tags_find(CsmsCall *call, ReturnSetInfo *rsinfo, const CsmsTagFilter *f, bool count,
			   int page_size, int offset)
{
	/* by count or page, by no tags, pairs only or keys of any value too, by name or not */
	static CsmsStmt *const stmts[2][3][2] = {
		{{&q_ri_page_all, &q_ri_page_name}, {&q_ri_page_pairs, &q_ri_page_pairs_name},
		 {&q_ri_page_tags, &q_ri_page_tags_name}},
		{{&q_ri_count_all, &q_ri_count_name}, {&q_ri_count_pairs, &q_ri_count_pairs_name},
		 {&q_ri_count_tags, &q_ri_count_tags_name}},
	};
	CsmsStmt   *stmt = stmts[count][!f->by_tags ? 0 : f->nany == 0 ? 1 : 2][f->by_name];
	Datum		args[RI_NARGS];
	Datum		values[RI_NCOLS];
	bool		nulls[RI_NCOLS];
	char	   *hi;
	SPITupleTable *rows;
	TupleDesc	detail_desc;
	pg_uuid_t  *ids;
	Datum	   *details;
	bool	   *no_detail;
	uint64		n,
				i;

	if (f->none)
	{
		/* nothing can match: no statement */
		if (count)
		{
			memset(nulls, true, sizeof(nulls));
			values[3] = Int64GetDatum(0);
			nulls[3] = false;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		return;
	}

	args[0] = csms_text_datum(call->region);
	args[1] = text_array(f->pair_keys, f->npairs);
	args[2] = text_array(f->pair_values, f->npairs);
	args[3] = text_array(f->any_keys, f->nany);
	args[4] = Int64GetDatum(f->nkeys);
	/* the names that start with the prefix: [prefix, prefix with its last byte + 1) */
	hi = pstrdup(f->by_name ? f->prefix : "");
	if (hi[0] != '\0')
		hi[strlen(hi) - 1]++;
	args[5] = csms_text_datum(f->by_name ? f->prefix : "");
	args[6] = csms_text_datum(hi);
	args[7] = Int32GetDatum(page_size);
	args[8] = Int32GetDatum(offset);
	n = csms_exec(stmt, args, NULL, SPI_OK_SELECT, 0);
	if (count)
	{
		memset(nulls, true, sizeof(nulls));
		values[3] = csms_col(0, 1, &nulls[3]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		return;
	}

	/* each row with the secret's metadata (csms_secret), all in one statement */
	rows = SPI_tuptable;
	ids = palloc(sizeof(pg_uuid_t) * Max(n, 1));
	details = palloc(sizeof(Datum) * Max(n, 1));
	no_detail = palloc(sizeof(bool) * Max(n, 1));
	for (i = 0; i < n; i++)
		ids[i] = *DatumGetUUIDP(SPI_getbinval(rows->vals[i], rows->tupdesc, 1, &nulls[0]));
	detail_desc = lookup_rowtype_tupdesc_copy(TupleDescAttr(rsinfo->setDesc, 4)->atttypid, -1);
	csms_secret_datums(call, detail_desc, ids, (int) n, details, no_detail);
	for (i = 0; i < n; i++)
	{
		int			c;

		for (c = 0; c < 4; c++)
			values[c] = SPI_getbinval(rows->vals[i], rows->tupdesc, c + 1, &nulls[c]);
		values[4] = details[i];
		nulls[4] = no_detail[i];
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}
