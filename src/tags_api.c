/*-------------------------------------------------------------------------
 *
 * tags_api.c
 *	  SQL entry points for tags: csms_create_secret_tag,
 *	  csms_delete_secret_tag, csms_batch_secret_tags,
 *	  csms_list_secret_tags, csms_list_project_tags,
 *	  csms_list_resource_instances.
 *
 *	  Changing a secret's tags needs the privilege manage on it (as its
 *	  other metadata), reading them describe; the listings show the secrets
 *	  the caller may describe.  A replica takes no change (the gate refuses
 *	  it): its tags are its primary's, which reach it in the same
 *	  transaction.  None needs the account's project id: the account comes
 *	  from the per-backend cache in the home region.
 *
 * src/tags_api.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/jsonb.h"

#include "util.h"
#include "validate.h"
#include "frame.h"
#include "secret.h"
#include "replica.h"
#include "tag.h"

PG_FUNCTION_INFO_V1(csms_create_secret_tag);
PG_FUNCTION_INFO_V1(csms_delete_secret_tag);
PG_FUNCTION_INFO_V1(csms_batch_secret_tags);
PG_FUNCTION_INFO_V1(csms_list_secret_tags);
PG_FUNCTION_INFO_V1(csms_list_project_tags);
PG_FUNCTION_INFO_V1(csms_list_resource_instances);

/* A jsonb argument that must be given */
static Jsonb *
jsonb_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be NULL", argname)));
	return PG_GETARG_JSONB_P(argno);
}

/* Change the tags of secret `name`: put them, or remove them */
static void
tags_change(const char *fname, const char *name, const CsmsTagList *l, bool remove,
			bool must_exist)
{
	CsmsCall	call;
	CsmsSecret *s;
	bool		changed;

	csms_call_begin(&call, fname, CSMS_CACHED_ACCOUNT);
	s = csms_secret_open(&call, name, CSMS_ACT_WRITE_META, CSMS_PRIV_MANAGE);
	changed = remove ? csms_tags_remove(s, l) : csms_tags_put(s, l);
	if (must_exist && !changed)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("tag \"%s\" of secret \"%s\" does not exist", l->keys[0], s->name)));
	if (changed)
		csms_replicas_follow(&call, s);
	csms_call_end(&call);
}

/* csms_create_secret_tag(name, key, value): a tag, or a new value of its key */
Datum
csms_create_secret_tag(PG_FUNCTION_ARGS)
{
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	char	   *key = csms_arg_text(fcinfo, 1, "key");
	char	   *value = csms_arg_text(fcinfo, 2, "value");
	CsmsTagList l = {1, &key, &value};

	csms_check_name("secret", name);
	csms_check_tag_key(key);
	csms_check_tag_value(value);
	tags_change("csms_create_secret_tag", name, &l, false, false);
	PG_RETURN_VOID();
}

/* csms_delete_secret_tag(name, key): 42704 when the secret has no such tag */
Datum
csms_delete_secret_tag(PG_FUNCTION_ARGS)
{
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	char	   *key = csms_arg_text(fcinfo, 1, "key");
	char	   *any = NULL;
	CsmsTagList l = {1, &key, &any};

	csms_check_name("secret", name);
	csms_check_tag_key(key);
	tags_change("csms_delete_secret_tag", name, &l, true, true);
	PG_RETURN_VOID();
}

/*
 * csms_batch_secret_tags(name, action, tags): create (put) or delete 1 to
 * 20 tags at once, all or none; a delete of a tag the secret does not have
 * is no error
 */
Datum
csms_batch_secret_tags(PG_FUNCTION_ARGS)
{
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	char	   *action = csms_arg_text(fcinfo, 1, "action");
	Jsonb	   *tags = jsonb_arg(fcinfo, 2, "tags");
	bool		remove = strcmp(action, "delete") == 0;
	CsmsTagList l;

	csms_check_name("secret", name);
	if (!remove && strcmp(action, "create") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid action \"%s\"", csms_trunc(action)),
				 errdetail("The action of csms_batch_secret_tags is \"create\" or \"delete\".")));
	csms_tag_list_parse(tags, remove, &l);
	tags_change("csms_batch_secret_tags", name, &l, remove, false);
	PG_RETURN_VOID();
}

/* csms_list_secret_tags(name): a secret's tags, by key */
Datum
csms_list_secret_tags(PG_FUNCTION_ARGS)
{
	char	   *name = csms_arg_text(fcinfo, 0, "name");
	CsmsCall	call;
	CsmsSecret *s;

	InitMaterializedSRF(fcinfo, 0);
	csms_call_begin(&call, "csms_list_secret_tags", CSMS_CACHED_ACCOUNT);
	s = csms_secret_open(&call, name, CSMS_ACT_READ_META, CSMS_PRIV_DESCRIBE);
	csms_tags_list(&call, (ReturnSetInfo *) fcinfo->resultinfo, s);
	csms_call_end(&call);
	return (Datum) 0;
}

/* csms_list_project_tags(): the tag keys and values of the region */
Datum
csms_list_project_tags(PG_FUNCTION_ARGS)
{
	CsmsCall	call;

	InitMaterializedSRF(fcinfo, 0);
	csms_call_begin(&call, "csms_list_project_tags", CSMS_CACHED_ACCOUNT);
	csms_tags_of_region(&call, (ReturnSetInfo *) fcinfo->resultinfo);
	csms_call_end(&call);
	return (Datum) 0;
}

/*
 * csms_list_resource_instances(action, tags, matches, page_size, offset):
 * the secrets of the region by tags and name, a page of them (filter) or
 * their number (count; page_size and offset are ignored, as the cloud does)
 */
Datum
csms_list_resource_instances(PG_FUNCTION_ARGS)
{
	char	   *action = csms_arg_text(fcinfo, 0, "action");
	Jsonb	   *tags = PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1);
	Jsonb	   *matches = PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2);
	int			page_size = PG_ARGISNULL(3) ? 10 : PG_GETARG_INT32(3);
	int			offset = PG_ARGISNULL(4) ? 0 : PG_GETARG_INT32(4);
	bool		count = strcmp(action, "count") == 0;
	CsmsTagFilter f;
	CsmsCall	call;

	if (!count && strcmp(action, "filter") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid action \"%s\"", csms_trunc(action)),
				 errdetail("The action of csms_list_resource_instances is \"filter\" or \"count\".")));
	csms_tag_filter_parse(tags, matches, &f);
	if (!count)
	{
		csms_check_page_size(page_size);
		if (offset < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("offset must not be negative")));
	}

	InitMaterializedSRF(fcinfo, 0);
	csms_call_begin(&call, "csms_list_resource_instances", CSMS_CACHED_ACCOUNT);
	csms_tags_find(&call, (ReturnSetInfo *) fcinfo->resultinfo, &f, count, page_size, offset);
	csms_call_end(&call);
	return (Datum) 0;
}
