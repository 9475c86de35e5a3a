/*-------------------------------------------------------------------------
 *
 * redact.c
 *	  No value of a secret reaches the server log: the log lines of a
 *	  statement that calls the extension show its text with literals
 *	  masked, its parameters' values masked, and no other copy of a
 *	  literal or parameter value.
 *
 *	  Every line written to the server log passes emit_log_hook, whoever
 *	  wrote it: PostgreSQL's statement logging (log_statement,
 *	  log_min_duration_statement, the STATEMENT line of
 *	  log_min_error_statement, bind parameters of the extended protocol,
 *	  log_parameter_max_length_on_error), auto_explain, pgaudit.  The hook
 *	  decides whether the statement running now is sensitive -- its text
 *	  calls a function named csms_* (sqlmask.h), or calls a SQL or
 *	  PL/pgSQL function whose body does (by name, three levels deep), or
 *	  it ran an API function, or a statement it runs does -- and if so,
 *	  rewrites the line's fields: each statement text it knows (the
 *	  top-level one and those of the executors running now) becomes its
 *	  masked form, each literal of those texts and each text or bytea
 *	  parameter value of those executors becomes the mask, and logged
 *	  parameters ($1 = '...') are masked; debug_query_string, which the
 *	  STATEMENT line shows, is pointed at the masked text for the rest of
 *	  the statement.  Statements that do not call the extension are logged
 *	  as PostgreSQL logs them.
 *
 *	  The ExecutorStart and ExecutorEnd hooks keep the stack of executors
 *	  running now (nested ones too: PL/pgSQL, SPI) so that a line can name
 *	  their texts and parameters, and mask pg_stat_activity's text of a
 *	  sensitive top-level statement once it runs.  They cost a statement a
 *	  scan of its text for "csms_" (a new top-level statement also a hash
 *	  of it, and the look-up of the functions it calls), and a push and
 *	  pop; nothing is converted or copied until a line is logged.
 *
 *	  Loaded with the library: in shared_preload_libraries or
 *	  session_preload_libraries from the start of every session; else from
 *	  the first call of an API function in a session, so that lines logged
 *	  before it (that statement's log_statement line, say) are not
 *	  rewritten (README.md, "Logs").
 *
 * src/redact.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "commands/prepare.h"
#include "commands/proclang.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/inval.h"
#include "utils/syscache.h"

#include "util.h"
#include "sqlmask.h"
#include "redact.h"

#define MAX_RUNNING			32	/* executors remembered; deeper ones are not */
#define WRAPPER_DEPTH		3	/* function bodies followed by name */

static emit_log_hook_type prev_emit_log_hook = NULL;
static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorEnd_hook_type prev_ExecutorEnd = NULL;

/* The executors running now, outermost first. */
static struct
{
	QueryDesc  *qd;
	int			level;			/* transaction nest level it started in */
	bool		sensitive;		/* its text calls the extension */
}			running[MAX_RUNNING];
static int	nrunning = 0;

/*
 * The top-level statement the last executor ran for, by the address,
 * length and hash of its text (debug_query_string): never a copy, which
 * would hold its literals.
 */
static struct
{
	const char *text;
	size_t		len;
	uint64		hash;
	bool		sensitive;		/* its text, or an executor's, calls the extension */
	bool		called;			/* an API function ran in it */
	bool		activity_checked;	/* activity_masked is known */
	char	   *activity_masked;	/* its masked text, when it differs (no value) */
}			statement;

/* the masked text debug_query_string points to, and the text it replaced */
static char *swapped = NULL;
static const char *swapped_from = NULL;

/* function names whose bodies were looked at: name -> calls the extension */
typedef struct WrapperEntry
{
	char		name[NAMEDATALEN];
	bool		calls;
} WrapperEntry;

static HTAB *wrappers = NULL;

/* A hash of a text's bytes (for the masked-text cache) */
static uint64
text_hash(const char *s, size_t len)
{
	uint64		h = UINT64CONST(0xcbf29ce484222325);
	size_t		i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char) s[i]) * UINT64CONST(0x100000001b3);
	return h;
}

/* Invalidation listener: wrapper functions may have changed */
static void
wrappers_forget(Datum arg, int cacheid, uint32 hashvalue)
{
	if (wrappers)
	{
		hash_destroy(wrappers);
		wrappers = NULL;
	}
}

static bool name_calls_csms(const char *name, int depth);

struct names_ctx
{
	int			depth;
	bool		found;
};

/* Does a called function name the extension's or a wrapper's? */
static void
check_called_name(void *arg, const char *name)
{
	struct names_ctx *c = arg;

	if (!c->found && name_calls_csms(name, c->depth))
		c->found = true;
}

/*
 * Does a function of this name (in any schema) of language SQL or
 * PL/pgSQL have a body that calls the extension, directly or through
 * functions it calls by name, up to WRAPPER_DEPTH levels?  Looked up once
 * per backend and name, until pg_proc changes.  Only in a transaction.
 */
static bool
name_calls_csms(const char *name, int depth)
{
	static Oid	plpgsql = InvalidOid;
	WrapperEntry *e;
	bool		found;
	CatCList   *list;
	int			i;
	bool		calls = false;

	if (strncmp(name, "csms_", 5) == 0)
		return true;
	if (depth >= WRAPPER_DEPTH || strlen(name) >= NAMEDATALEN)
		return false;
	if (wrappers == NULL)
	{
		HASHCTL		ctl;
		static bool registered = false;

		if (!registered)
		{
			CacheRegisterSyscacheCallback(PROCOID, wrappers_forget, (Datum) 0);
			registered = true;
		}
		ctl.keysize = NAMEDATALEN;
		ctl.entrysize = sizeof(WrapperEntry);
		ctl.hcxt = TopMemoryContext;
		wrappers = hash_create("csms wrapper functions", 64, &ctl,
							   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	e = hash_search(wrappers, name, HASH_FIND, NULL);
	if (e)
		return e->calls;
	/* not found while being looked at: a function that calls itself */
	e = hash_search(wrappers, name, HASH_ENTER, &found);
	e->calls = false;

	if (!OidIsValid(plpgsql))
		plpgsql = get_language_oid("plpgsql", true);
	list = SearchSysCacheList1(PROCNAMEARGSNSP, CStringGetDatum(name));
	for (i = 0; i < list->n_members && !calls; i++)
	{
		HeapTuple	tup = &list->members[i]->tuple;
		Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(tup);
		bool		isnull;
		Datum		src;
		text	   *body;
		struct names_ctx c;

		if (proc->prolang != SQLlanguageId &&
			(!OidIsValid(plpgsql) || proc->prolang != plpgsql))
			continue;
		src = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_prosrc, &isnull);
		if (isnull)
			continue;
		body = DatumGetTextPP(src);
		if (csms_sql_calls_csms(VARDATA_ANY(body), VARSIZE_ANY_EXHDR(body)))
			calls = true;
		else
		{
			c.depth = depth + 1;
			c.found = false;
			csms_sql_called_names(VARDATA_ANY(body), VARSIZE_ANY_EXHDR(body),
								  check_called_name, &c);
			calls = c.found;
		}
	}
	ReleaseSysCacheList(list);
	/* the table may have been rebuilt meanwhile (an invalidation) */
	if (wrappers)
	{
		e = hash_search(wrappers, name, HASH_ENTER, &found);
		e->calls = calls;
	}
	return calls;
}

/*
 * Does this statement text call the extension: by name, through an SQL
 * EXECUTE of a prepared statement that does, or (with lookups, in a
 * transaction) through a function whose body does?
 */
static bool
text_sensitive(const char *text, size_t len, bool lookups)
{
	struct names_ctx c;
	const char *p = text;

	if (csms_sql_calls_csms(text, len))
		return true;
	/* EXECUTE name [(args)]: the prepared statement's text decides */
	while (*p && isspace((unsigned char) *p))
		p++;
	if (pg_strncasecmp(p, "execute", 7) == 0 && isspace((unsigned char) p[7]))
	{
		char		name[NAMEDATALEN];
		int			n = 0;
		PreparedStatement *ps;

		for (p += 7; *p && isspace((unsigned char) *p); p++)
			;
		while ((isalnum((unsigned char) *p) || *p == '_') && n < NAMEDATALEN - 1)
			name[n++] = pg_tolower((unsigned char) *p++);
		name[n] = '\0';
		if (n > 0 && (ps = FetchPreparedStatement(name, false)) != NULL &&
			text_sensitive(ps->plansource->query_string,
						   strlen(ps->plansource->query_string), lookups))
			return true;
	}
	if (!lookups)
		return false;
	c.depth = 0;
	c.found = false;
	csms_sql_called_names(text, len, check_called_name, &c);
	return c.found;
}

/* May a log line's hook look things up in the catalogs now? */
static bool
lookups_allowed(int elevel)
{
	return elevel < ERROR && IsTransactionState() && !IsAbortedTransactionBlockState() &&
		CritSectionCount == 0 && OidIsValid(MyDatabaseId) && !proc_exit_inprogress;
}

/* Is debug_query_string the statement last seen by an executor's start? */
static bool
is_current_statement(const char *text, size_t len)
{
	return text == statement.text && len == statement.len &&
		text_hash(text, len) == statement.hash;
}

/* An API function runs: the statement it runs in is sensitive. */
void
csms_redact_note_call(void)
{
	statement.called = true;
}

/* ExecutorStart hook: note statements that call the extension */
static void
executor_start(QueryDesc *qd, int eflags)
{
	const char *top = debug_query_string;
	bool		sensitive;

	/*
	 * A new top-level statement: while executors run, it cannot change
	 * under them, so only the first one of a statement looks.
	 */
	if (top && (nrunning == 0 || top != statement.text))
	{
		size_t		len = strlen(top);

		if (!is_current_statement(top, len))
		{
			statement.text = top;
			statement.len = len;
			statement.hash = text_hash(top, len);
			statement.called = false;
			statement.sensitive = top == swapped || text_sensitive(top, len, true);
			statement.activity_checked = false;
			if (statement.activity_masked)
			{
				pfree(statement.activity_masked);
				statement.activity_masked = NULL;
			}
		}
	}

	/*
	 * The executor's own text: the top-level statement's (whose answer is
	 * known), or one it runs, looked at every time -- the same address
	 * holds another text once its buffer is reused, and a scan of a
	 * statement's text costs less than its parse.
	 */
	if (top && (qd->sourceText == top || (top == swapped && qd->sourceText == swapped_from)))
		sensitive = statement.sensitive;
	else
		sensitive = qd->sourceText && csms_sql_calls_csms(qd->sourceText, strlen(qd->sourceText));
	if (sensitive)
		statement.sensitive = true;
	if (nrunning < MAX_RUNNING)
	{
		running[nrunning].qd = qd;
		running[nrunning].level = GetCurrentTransactionNestLevel();
		running[nrunning].sensitive = sensitive;
		nrunning++;
	}

	/*
	 * pg_stat_activity shows the masked text of a sensitive statement from
	 * now on (and after it, while the session is idle); PostgreSQL reports
	 * the text as sent at each execution of it
	 */
	if (nrunning == 1 && top && statement.sensitive && pgstat_track_activities)
	{
		if (!statement.activity_checked)
		{
			const char *original = top == swapped ? swapped_from : top;
			size_t		len = strlen(original);
			char	   *masked = MemoryContextAlloc(TopMemoryContext, csms_sql_mask_bound(len));
			size_t		n = csms_sql_mask(original, len, masked);

			if (n != len || memcmp(masked, original, len) != 0)
				statement.activity_masked = masked;
			else
				pfree(masked);
			statement.activity_checked = true;
		}
		if (statement.activity_masked)
		{
			pgstat_report_activity(STATE_RUNNING, statement.activity_masked);
			if (qd->plannedstmt)
				pgstat_report_query_id(qd->plannedstmt->queryId, true);
		}
	}

	if (prev_ExecutorStart)
		prev_ExecutorStart(qd, eflags);
	else
		standard_ExecutorStart(qd, eflags);
}

/* ExecutorEnd hook: pop what executor_start noted */
static void
executor_end(QueryDesc *qd)
{
	int			i;

	if (prev_ExecutorEnd)
		prev_ExecutorEnd(qd);
	else
		standard_ExecutorEnd(qd);
	/* usually the innermost; a cursor's may end after later ones */
	for (i = nrunning - 1; i >= 0; i--)
		if (running[i].qd == qd)
		{
			memmove(&running[i], &running[i + 1], sizeof(running[0]) * (nrunning - i - 1));
			nrunning--;
			break;
		}
}

/* An aborted (sub)transaction takes the executors it started with it. */
static void
redact_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		nrunning = 0;
}

/* An aborted subtransaction drops the statements it noted */
static void
redact_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		int			level = GetCurrentTransactionNestLevel();

		while (nrunning > 0 && running[nrunning - 1].level >= level)
			nrunning--;
	}
}

/* The texts and values one log line is rewritten for. */
typedef struct Needles
{
	csms_needle *n;
	int			count;
	int			size;
} Needles;

/* Remember a value this statement carries, to mask it where it appears */
static void
needle_add(Needles *nd, const char *text, size_t len, const char *rep, size_t replen)
{
	if (len == 0)
		return;
	if (nd->count == nd->size)
	{
		nd->size = nd->size ? nd->size * 2 : 32;
		nd->n = nd->n ? repalloc(nd->n, sizeof(csms_needle) * nd->size) :
			palloc(sizeof(csms_needle) * nd->size);
	}
	nd->n[nd->count].text = text;
	nd->n[nd->count].len = len;
	nd->n[nd->count].replacement = rep;
	nd->n[nd->count].replacement_len = replen;
	nd->count++;
}

/* s with every double quote doubled, as a CSV field (pgaudit) holds it */
static char *
csv_form(const char *s, size_t len, size_t *outlen)
{
	char	   *out = palloc(len * 2 + 1);
	size_t		i,
				o = 0;

	for (i = 0; i < len; i++)
	{
		if (s[i] == '"')
			out[o++] = '"';
		out[o++] = s[i];
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/*
 * A value replaced by the mask where it stands quoted -- as SQL quotes it
 * ('it''s': a constant in auto_explain's plan) and as PostgreSQL's messages
 * do ("value": an input function's complaint) -- and, if it has at least
 * MIN_BARE bytes, wherever it stands (and in its CSV form, as pgaudit
 * writes a field).  A shorter value unquoted would match too much of a
 * line (a "1" of a duration), and pgaudit's parameter field is masked
 * whole (csms_redact).
 */
#define MIN_BARE 4

/* A needle from a Datum of the statement's parameters */
static void
needle_value(Needles *nd, const char *s, size_t len)
{
	char	   *q = palloc(len * 2 + 3);
	char	   *dq = palloc(len + 3);
	size_t		i,
				o = 0;

	if (len == 0)
		return;
	if (len >= MIN_BARE)
	{
		size_t		clen;
		char	   *c = csv_form(s, len, &clen);

		needle_add(nd, s, len, CSMS_MASK, CSMS_MASK_LEN);
		if (clen != len)
			needle_add(nd, c, clen, CSMS_MASK, CSMS_MASK_LEN);
	}
	q[o++] = '\'';
	for (i = 0; i < len; i++)
	{
		if (s[i] == '\'')
			q[o++] = '\'';
		q[o++] = s[i];
	}
	q[o++] = '\'';
	needle_add(nd, q, o, "'" CSMS_MASK "'", CSMS_MASK_LEN + 2);
	dq[0] = '"';
	memcpy(dq + 1, s, len);
	dq[len + 1] = '"';
	needle_add(nd, dq, len + 2, "\"" CSMS_MASK "\"", CSMS_MASK_LEN + 2);
}

/* a literal's content as written: its value, '' read as ' */
static void
needle_literal(void *arg, const char *s, size_t len)
{
	Needles    *nd = arg;
	char	   *value = palloc(len + 1);
	size_t		i,
				o = 0;

	for (i = 0; i < len; i++)
	{
		value[o++] = s[i];
		if (s[i] == '\'' && i + 1 < len && s[i + 1] == '\'')
			i++;
	}
	needle_value(nd, value, o);
}

/*
 * a statement text, as it is and in its CSV form, replaced by its masked
 * form (into texts), and its literals (into values)
 */
static void
needle_statement(Needles *nd, Needles *values, const char *text)
{
	size_t		len = strlen(text);
	char	   *masked = palloc(csms_sql_mask_bound(len));
	size_t		mlen = csms_sql_mask(text, len, masked);
	size_t		clen,
				cmlen;
	char	   *c = csv_form(text, len, &clen);
	char	   *cm = csv_form(masked, mlen, &cmlen);

	needle_add(nd, text, len, masked, mlen);
	if (clen != len)
		needle_add(nd, c, clen, cm, cmlen);
	csms_sql_literals(text, len, needle_literal, values);
}

/* the text and bytea parameter values of an executor */
static void
needle_params(Needles *nd, ParamListInfo params)
{
	int			i;

	if (params == NULL)
		return;
	for (i = 0; i < params->numParams; i++)
	{
		ParamExternData workspace;
		ParamExternData *prm;
		Oid			type;

		prm = params->paramFetch ?
			params->paramFetch(params, i + 1, true, &workspace) : &params->params[i];
		if (prm == NULL || prm->isnull)
			continue;
		type = prm->ptype;
		if (type == TEXTOID || type == VARCHAROID || type == BPCHAROID || type == UNKNOWNOID ||
			type == NAMEOID || type == JSONOID)
		{
			if (type == NAMEOID)
				needle_value(nd, NameStr(*DatumGetName(prm->value)),
							 strlen(NameStr(*DatumGetName(prm->value))));
			else if (type == UNKNOWNOID)
				needle_value(nd, DatumGetCString(prm->value), strlen(DatumGetCString(prm->value)));
			else
			{
				text	   *t = DatumGetTextPP(prm->value);

				needle_value(nd, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
			}
		}
		else if (type == BYTEAOID)
		{
			bytea	   *b = DatumGetByteaPP(prm->value);
			size_t		n = VARSIZE_ANY_EXHDR(b);
			char	   *hex = palloc(n * 2 + 3);

			hex[0] = '\\';
			hex[1] = 'x';
			hex_encode(VARDATA_ANY(b), n, hex + 2);
			hex[n * 2 + 2] = '\0';
			needle_value(nd, hex, n * 2 + 2);
		}
	}
}

/* Mask one field of a log line */
static char *
redact_field(char *field, Needles *nd)
{
	size_t		len,
				n;
	char	   *out;

	if (field == NULL)
		return NULL;
	len = strlen(field);
	n = csms_redact(field, len, nd->n, nd->count, NULL);
	out = palloc(n + 1);
	csms_redact(field, len, nd->n, nd->count, out);
	return out;
}

/* emit_log_hook: mask the statement and the fields that quote it */
static void
redact_emit_log(ErrorData *edata)
{
	static bool busy = false;
	const char *top = debug_query_string;
	const char *original;
	size_t		len;
	bool		sensitive;
	bool		ours;
	int			i;
	Needles		texts = {NULL, 0, 0};
	Needles		values = {NULL, 0, 0};

	if (busy || !edata->output_to_server)
		goto out;
	busy = true;

	/*
	 * debug_query_string is NULL when a portal's executor ends after its
	 * Execute message (at Sync: auto_explain logs then): the executors
	 * running tell.
	 */
	original = top == swapped ? swapped_from : top;
	len = top ? strlen(top) : 0;
	sensitive = top != NULL && top == swapped;
	for (i = 0; i < nrunning && !sensitive; i++)
		sensitive = running[i].sensitive;
	if (!sensitive && top && is_current_statement(top, len))
		sensitive = statement.sensitive || statement.called;
	if (!sensitive && top)
		sensitive = text_sensitive(top, len, lookups_allowed(edata->elevel));
	if (!sensitive)
	{
		busy = false;
		goto out;
	}

	/*
	 * Statement texts (as a CONTEXT or QUERY line, auto_explain and
	 * pgaudit show them) become their masked forms in every line.  Values
	 * -- literals, parameters -- are replaced wherever else they stand, but
	 * for the extension's own messages, which name objects and never hold
	 * a value: a client that is told that secret "db" does not exist must
	 * not read secret "[redacted]" (the fields go to the client too).
	 */
	ours = edata->domain != NULL && strcmp(edata->domain, TEXTDOMAIN) == 0;
	if (original)
		needle_statement(&texts, &values, original);
	for (i = 0; i < nrunning; i++)
	{
		if (running[i].qd->sourceText && running[i].qd->sourceText != original)
			needle_statement(&texts, &values, running[i].qd->sourceText);
		needle_params(&values, running[i].qd->params);
	}
	if (!ours)
		for (i = 0; i < values.count; i++)
			needle_add(&texts, values.n[i].text, values.n[i].len,
					   values.n[i].replacement, values.n[i].replacement_len);
	edata->message = redact_field(edata->message, &texts);
	edata->detail = redact_field(edata->detail, &texts);
	edata->detail_log = redact_field(edata->detail_log, &texts);
	edata->hint = redact_field(edata->hint, &texts);
	edata->context = redact_field(edata->context, &texts);
	edata->internalquery = redact_field(edata->internalquery, &texts);

	/* the STATEMENT line (server only), now and for the rest of the statement */
	if (top && top != swapped)
	{
		char	   *masked = MemoryContextAlloc(TopMemoryContext, csms_sql_mask_bound(len));

		csms_sql_mask(top, len, masked);
		if (swapped)
			pfree(swapped);		/* debug_query_string no longer points to it */
		swapped = masked;
		swapped_from = top;
		debug_query_string = swapped;
	}
	busy = false;

out:
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/* Install the hooks; called by _PG_init. */
void
csms_redact_init(void)
{
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = redact_emit_log;
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = executor_start;
	prev_ExecutorEnd = ExecutorEnd_hook;
	ExecutorEnd_hook = executor_end;
	RegisterXactCallback(redact_xact_callback, NULL);
	RegisterSubXactCallback(redact_subxact_callback, NULL);
}
