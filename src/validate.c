/*-------------------------------------------------------------------------
 *
 * validate.c
 *	  Argument checks shared by the entry points (see validate.h).  Each raises one error
 *	  with the SQLSTATE of the error model (22023 for malformed arguments,
 *	  54000 for limits) and never echoes more than a short, cleaned prefix of
 *	  what the caller sent.
 *
 * src/validate.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "util.h"
#include "validate.h"

/*
 * A bounded copy of caller input for messages: at most 64 characters, control
 * characters replaced by "?".  The input is valid in the server encoding.
 */
char *
csms_trunc(const char *s)
{
	StringInfoData buf;
	int			n = 0;

	initStringInfo(&buf);
	while (*s && n < 64)
	{
		int			len = pg_mblen(s);

		if (len == 1 && ((unsigned char) *s < 0x20 || *s == 0x7f))
			appendStringInfoChar(&buf, '?');
		else
			appendBinaryStringInfo(&buf, s, len);
		s += len;
		n++;
	}
	if (*s)
		appendStringInfoString(&buf, "...");
	return buf.data;
}

/* 1 to maxlen characters from a-z, A-Z, 0-9, "_" and "-" */
static bool
name_ok(const char *name, int maxlen)
{
	const char *p;

	for (p = name; *p; p++)
		if (!(isalnum((unsigned char) *p) || *p == '_' || *p == '-') ||
			(unsigned char) *p >= 0x80)
			return false;
	return p > name && p - name <= maxlen;
}

/* Names of secrets, stages and events: ^[a-zA-Z0-9_-]{1,64}$ */
void
csms_check_name(const char *what, const char *name)
{
	if (!name_ok(name, CSMS_NAME_MAXLEN))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s name \"%s\"", what, csms_trunc(name)),
				 errdetail("%s %s name is 1 to 64 characters from a-z, A-Z, 0-9, \"_\" and \"-\".",
						   strchr("aeiou", what[0]) ? "An" : "A", what)));
}

/* 22023 for a page size outside 1..CSMS_PAGE_MAX */
void
csms_check_page_size(int page_size)
{
	if (page_size < 1 || page_size > CSMS_PAGE_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("page_size must be between 1 and %d", CSMS_PAGE_MAX)));
}

/*
 * "latest" (when allowed) gives 0; "v<N>" gives N, where N is a positive
 * number without leading zeros that fits in an int4.
 */
int
csms_parse_version_id(const char *version_id, bool allow_latest)
{
	const char *p;
	int64		n = 0;

	if (allow_latest && strcmp(version_id, "latest") == 0)
		return 0;
	if (version_id[0] != 'v' || version_id[1] < '1' || version_id[1] > '9' ||
		strlen(version_id) > 11)
		goto bad;
	for (p = version_id + 1; *p; p++)
	{
		if (*p < '0' || *p > '9')
			goto bad;
		n = n * 10 + (*p - '0');
	}
	if (n > PG_INT32_MAX)
		goto bad;
	return (int) n;

bad:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid version id \"%s\"", csms_trunc(version_id)),
			 errdetail(allow_latest ?
					   "A version id is \"latest\" or \"v\" followed by a number from 1 to 2147483647." :
					   "A version id is \"v\" followed by a number from 1 to 2147483647.")));
	return 0;
}

/* <n>h or <n>d, from 4h to 8760h (365d). */
void
csms_check_rotation_period(const char *period, Interval **out)
{
	const char *p = period;
	int64		n = 0;
	int64		hours;
	char		unit;

	if (!isdigit((unsigned char) *p))
		goto bad;
	while (isdigit((unsigned char) *p))
	{
		n = n * 10 + (*p - '0');
		if (n > 1000000)
			goto range;
		p++;
	}
	unit = *p++;
	if ((unit != 'h' && unit != 'd') || *p != '\0')
		goto bad;
	hours = unit == 'd' ? n * 24 : n;
	if (hours < 4 || hours > 8760)
		goto range;
	if (out)
	{
		Interval   *iv = palloc0(sizeof(Interval));

		iv->time = hours * USECS_PER_HOUR;
		*out = iv;
	}
	return;

bad:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid rotation period \"%s\"", csms_trunc(period)),
			 errdetail("A rotation period is a number followed by \"h\" (hours) or \"d\" (days), for example \"24h\" or \"30d\".")));
range:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("rotation period \"%s\" is out of range", csms_trunc(period)),
			 errdetail("A rotation period is between 4 hours and 8760 hours (365 days).")));
}

/* At most CSMS_DESCRIPTION_MAXLEN bytes */
void
csms_check_description(const char *description)
{
	if (strlen(description) > CSMS_DESCRIPTION_MAXLEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("description is too long"),
				 errdetail("A description has at most %d bytes; this one has %zu.",
						   CSMS_DESCRIPTION_MAXLEN, strlen(description))));
}

/* 54000 for a value over CSMS_VALUE_MAXLEN bytes */
void
csms_check_value_size(Size len)
{
	if (len > CSMS_VALUE_MAXLEN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("secret value is too large"),
				 errdetail("A value has at most %d bytes; this one has %zu.",
						   CSMS_VALUE_MAXLEN, (size_t) len)));
}

/*
 * A text[] of stage names: 1 to 12 names, each valid, no NULL, no
 * duplicates.  Returns the names as C strings.
 */
ArrayType *
csms_check_stage_list(ArrayType *stages, int *nstages, char ***names)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				i,
				j;
	char	  **out;

	if (ARR_NDIM(stages) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("version_stages must be a one-dimensional array")));
	deconstruct_array(stages, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("version_stages must not be empty"),
				 errhint("Omit version_stages to make the new version SYSCURRENT.")));
	if (n > CSMS_MAX_STAGES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many version stages"),
				 errdetail("A version takes at most %d stages; %d were given.",
						   CSMS_MAX_STAGES, n)));
	out = palloc(sizeof(char *) * n);
	for (i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("version_stages must not contain NULL")));
		out[i] = TextDatumGetCString(elems[i]);
		csms_check_name("stage", out[i]);
		for (j = 0; j < i; j++)
			if (strcmp(out[i], out[j]) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("stage \"%s\" is given twice", out[i])));
	}
	*nstages = n;
	*names = out;
	return stages;
}

/* 0 or 1 event names. */
void
csms_check_event_subscriptions(ArrayType *subs)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (ARR_NDIM(subs) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("event_subscriptions must be a one-dimensional array")));
	deconstruct_array(subs, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a secret subscribes to at most one event"),
				 errdetail("%d event names were given.", n)));
	if (n == 1)
	{
		if (nulls[0])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("event_subscriptions must not contain NULL")));
		csms_check_name("event", TextDatumGetCString(elems[0]));
	}
}

/*
 * Tag keys: 1..128 characters, no leading or trailing white space, not
 * starting with "_sys_", letters, digits, white space and _ . : = + - @.
 * Tag values: 0..255 characters, the same set plus "/".  Non-ASCII
 * characters count as letters.
 */
static bool
tag_chars_ok(const char *s, bool is_value)
{
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c >= 0x80 || isalnum(c) || c == ' ' || strchr("_.:=+-@", c) ||
			(is_value && c == '/'))
			continue;
		return false;
	}
	return true;
}

/* A tag key: 22023 unless it keeps the rules above */
void
csms_check_tag_key(const char *key)
{
	int			clen = pg_mbstrlen(key);

	if (clen < 1 || clen > 128 || !tag_chars_ok(key, false) ||
		isspace((unsigned char) key[0]) ||
		isspace((unsigned char) key[strlen(key) - 1]) ||
		strncmp(key, "_sys_", 5) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid tag key \"%s\"", csms_trunc(key)),
				 errdetail("A tag key is 1 to 128 letters, digits, spaces or \"_.:=+-@\", does not start or end with a space, and does not start with \"_sys_\".")));
}

/* A tag value: 22023 unless it keeps the rules above */
void
csms_check_tag_value(const char *value)
{
	if (pg_mbstrlen(value) > 255 || !tag_chars_ok(value, true))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for tag"),
				 errdetail("A tag value is 0 to 255 letters, digits, spaces or \"_.:/=+-@\".")));
}

/* A JSON object of at most CSMS_MAX_TAGS members, keys and values checked */
void
csms_check_tags(Jsonb *tags)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;

	if (!JB_ROOT_IS_OBJECT(tags) || JB_ROOT_IS_SCALAR(tags))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tags must be a JSON object of string values"),
				 errhint("For example '{\"env\": \"prod\"}'.")));
	if (JB_ROOT_COUNT(tags) > CSMS_MAX_TAGS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many tags"),
				 errdetail("A secret has at most %d tags; %d were given.",
						   CSMS_MAX_TAGS, (int) JB_ROOT_COUNT(tags))));

	it = JsonbIteratorInit(&tags->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			csms_check_tag_key(pnstrdup(v.val.string.val, v.val.string.len));
		else if (tok == WJB_VALUE)
		{
			if (v.type != jbvString)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("tags must be a JSON object of string values")));
			csms_check_tag_value(pnstrdup(v.val.string.val, v.val.string.len));
		}
	}
}

/*
 * The value of a call that takes secret_string (argument string_arg) or
 * secret_binary (binary_arg): exactly one, at most CSMS_VALUE_MAXLEN bytes.
 * Returns the kind; *value points into the argument.
 */
char
csms_value_arg(FunctionCallInfo fcinfo, int string_arg, int binary_arg,
			   const char **value, Size *len)
{
	struct varlena *v;

	if (PG_ARGISNULL(string_arg) == PG_ARGISNULL(binary_arg))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("exactly one of secret_string and secret_binary must be given")));
	v = PG_GETARG_VARLENA_PP(PG_ARGISNULL(string_arg) ? binary_arg : string_arg);
	*value = VARDATA_ANY(v);
	*len = VARSIZE_ANY_EXHDR(v);
	csms_check_value_size(*len);
	return PG_ARGISNULL(string_arg) ? CSMS_KIND_BINARY : CSMS_KIND_STRING;
}

/*
 * rotation_config of a secret of type secret_type: a JSON object of at most
 * 1024 characters; RDS-FG and GaussDB-FG need InstanceId and SecretSubType;
 * PG-ROLE may give SecretSubType (SingleUser by default), and MultiUser
 * needs Usernames, the two roles that alternate.
 */
void
csms_check_rotation_config(Jsonb *config, const char *secret_type)
{
	bool		needs = strcmp(secret_type, "RDS-FG") == 0 ||
		strcmp(secret_type, "GaussDB-FG") == 0;

	if (config == NULL)
	{
		if (needs)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("rotation_config is required for secrets of type %s", secret_type),
					 errhint("Give '{\"InstanceId\": \"...\", \"SecretSubType\": \"SingleUser\"}' or \"MultiUser\".")));
		return;
	}
	if (!JB_ROOT_IS_OBJECT(config) || JB_ROOT_IS_SCALAR(config))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rotation_config must be a JSON object")));
	if (strlen(JsonbToCString(NULL, &config->root, VARSIZE(config))) > 1024)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rotation_config is too long"),
				 errdetail("The JSON text of rotation_config has at most 1024 characters.")));
	if (needs)
	{
		JsonbValue *iid = getKeyJsonValueFromContainer(&config->root, "InstanceId", 10, NULL);
		JsonbValue *sub = getKeyJsonValueFromContainer(&config->root, "SecretSubType", 13, NULL);

		if (iid == NULL || iid->type != jbvString || iid->val.string.len == 0 ||
			sub == NULL || sub->type != jbvString ||
			!((sub->val.string.len == 10 && strncmp(sub->val.string.val, "SingleUser", 10) == 0) ||
			  (sub->val.string.len == 9 && strncmp(sub->val.string.val, "MultiUser", 9) == 0)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid rotation_config for a secret of type %s", secret_type),
					 errdetail("It needs a string \"InstanceId\" and \"SecretSubType\" \"SingleUser\" or \"MultiUser\".")));
	}
	if (strcmp(secret_type, "PG-ROLE") == 0)
	{
		JsonbValue *sub = getKeyJsonValueFromContainer(&config->root, "SecretSubType", 13, NULL);
		JsonbValue *users = getKeyJsonValueFromContainer(&config->root, "Usernames", 9, NULL);
		bool		multi = false;

		if (sub != NULL)
		{
			if (sub->type != jbvString ||
				!((sub->val.string.len == 10 && strncmp(sub->val.string.val, "SingleUser", 10) == 0) ||
				  (sub->val.string.len == 9 && strncmp(sub->val.string.val, "MultiUser", 9) == 0)))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid rotation_config for a secret of type PG-ROLE"),
						 errdetail("\"SecretSubType\" is \"SingleUser\" or \"MultiUser\".")));
			multi = sub->val.string.len == 9;
		}
		if (multi)
		{
			JsonbValue *a = NULL,
					   *b = NULL;

			if (users != NULL && users->type == jbvBinary &&
				JsonContainerIsArray(users->val.binary.data) &&
				JsonContainerSize(users->val.binary.data) == 2)
			{
				a = getIthJsonbValueFromContainer(users->val.binary.data, 0);
				b = getIthJsonbValueFromContainer(users->val.binary.data, 1);
			}
			if (a == NULL || b == NULL || a->type != jbvString || b->type != jbvString ||
				a->val.string.len == 0 || a->val.string.len >= NAMEDATALEN ||
				b->val.string.len == 0 || b->val.string.len >= NAMEDATALEN ||
				(a->val.string.len == b->val.string.len &&
				 strncmp(a->val.string.val, b->val.string.val, a->val.string.len) == 0))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid rotation_config for a MultiUser secret of type PG-ROLE"),
						 errdetail("\"Usernames\" is an array of the two different login roles that alternate, for example [\"app_blue\", \"app_green\"].")));
		}
		else if (users != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid rotation_config for a SingleUser secret of type PG-ROLE"),
					 errdetail("\"Usernames\" belongs to \"SecretSubType\": \"MultiUser\"; a SingleUser secret rotates the role its value names.")));
	}
}

/* 1 to maxlen printable ASCII characters (what names the argument in the error) */
void
csms_check_printable(const char *what, const char *s, int maxlen)
{
	const char *p;

	for (p = s; *p; p++)
		if ((unsigned char) *p < 0x20 || (unsigned char) *p >= 0x7f)
			break;
	if (*p != '\0' || p == s || p - s > maxlen)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s \"%s\"", what, csms_trunc(s)),
				 errdetail("A %s is 1 to %d printable ASCII characters.", what, maxlen)));
}

/* a key alias a caller may give a new key (csms/ aliases are the extension's) */
void
csms_check_key_alias(const char *alias)
{
	const char *p;
	pg_uuid_t	u;

	for (p = alias; *p; p++)
		if (!(isalnum((unsigned char) *p) || *p == ':' || *p == '/' ||
			  *p == '_' || *p == '-') || (unsigned char) *p >= 0x80)
			break;
	if (*p != '\0' || p == alias || p - alias > 255)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid key alias \"%s\"", csms_trunc(alias)),
				 errdetail("A key alias is 1 to 255 characters from a-z, A-Z, 0-9, \":\", \"/\", \"_\" and \"-\".")));
	if (csms_parse_uuid(alias, &u))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid key alias \"%s\"", alias),
				 errdetail("A key alias must not have the form of a key id (a UUID).")));
	if (strncmp(alias, "csms/", 5) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid key alias \"%s\"", alias),
				 errdetail("Aliases that start with \"csms/\" are reserved for keys the extension creates.")));
}
