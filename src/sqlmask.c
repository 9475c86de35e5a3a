/*-------------------------------------------------------------------------
 *
 * sqlmask.c
 *	  Masking of SQL texts and log lines (see sqlmask.h).
 *
 * src/sqlmask.c
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "sqlmask.h"

#define MAX_DEPTH 8

/* Can c start an identifier? */
static bool
ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

/* Can c continue an identifier? */
static bool
ident_char(unsigned char c)
{
	return ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

/* An ASCII digit? */
static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* SQL white space? */
static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* ASCII lower case */
static unsigned char
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/*
 * The end of the quoted string whose opening quote is at i; *closed
 * (unless NULL) says whether its closing quote is there.
 */
static size_t
quoted_end(const char *s, size_t len, size_t i, bool backslash, bool *closed)
{
	char		q = s[i];

	if (closed)
		*closed = false;
	for (i++; i < len; i++)
	{
		if (backslash && s[i] == '\\')
		{
			i++;
			continue;
		}
		if (s[i] == q)
		{
			if (i + 1 < len && s[i + 1] == q)
			{
				i++;
				continue;
			}
			if (closed)
				*closed = true;
			return i + 1;
		}
	}
	return len;
}

/* The end of the string literal at p (quote doubling, E'' escapes) */
static size_t
string_end(const char *s, size_t len, size_t i, bool backslash)
{
	return quoted_end(s, len, i, backslash, NULL);
}

/* The length of a dollar tag ($ or $name$) at i, or 0. */
static size_t
dollar_tag(const char *s, size_t len, size_t i)
{
	size_t		j = i + 1;

	if (s[i] != '$')
		return 0;
	if (j < len && s[j] == '$')
		return 2;
	if (j >= len || !ident_start((unsigned char) s[j]))
		return 0;
	for (j++; j < len && ident_char((unsigned char) s[j]) && s[j] != '$'; j++)
		;
	return (j < len && s[j] == '$') ? j - i + 1 : 0;
}

/* Where the body of the dollar-quoted string at i (tag of length t) ends. */
static size_t
dollar_end(const char *s, size_t len, size_t i, size_t t, size_t *body_end)
{
	size_t		j;

	for (j = i + t; j + t <= len; j++)
		if (s[j] == '$' && memcmp(s + j, s + i, t) == 0)
		{
			*body_end = j;
			return j + t;
		}
	*body_end = len;
	return len;
}

/* The end of the block comment at i (nested ones too). */
static size_t
comment_end(const char *s, size_t len, size_t i)
{
	int			depth = 0;

	while (i < len)
	{
		if (i + 1 < len && s[i] == '/' && s[i + 1] == '*')
		{
			depth++;
			i += 2;
		}
		else if (i + 1 < len && s[i] == '*' && s[i + 1] == '/')
		{
			i += 2;
			if (--depth == 0)
				return i;
		}
		else
			i++;
	}
	return len;
}

/*
 * A string literal starting at i, with its prefix (E, B, X, N, U&):
 * *quote is where its quote is, *backslash whether backslashes escape.
 */
static bool
string_start(const char *s, size_t len, size_t i, size_t *quote, bool *backslash)
{
	unsigned char c = (unsigned char) s[i];

	*backslash = false;
	if (c == '\'')
	{
		*quote = i;
		return true;
	}
	if (i > 0 && ident_char((unsigned char) s[i - 1]))
		return false;
	c = lower(c);
	if ((c == 'e' || c == 'b' || c == 'x' || c == 'n') && i + 1 < len && s[i + 1] == '\'')
	{
		*quote = i + 1;
		*backslash = c == 'e';
		return true;
	}
	if (c == 'u' && i + 2 < len && s[i + 1] == '&' && s[i + 2] == '\'')
	{
		*quote = i + 2;
		return true;
	}
	return false;
}

/* Does the text name a csms_ function outside literals and comments? */
bool
csms_sql_calls_csms(const char *sql, size_t len)
{
	const char *end = sql + len;
	const char *u;
	const char *p = sql;

	/* by the underscores (memchr is fast), then the four letters before */
	while (p < end && (u = memchr(p, '_', end - p)) != NULL)
	{
		p = u + 1;
		if (u - sql < 4 || lower((unsigned char) u[-4]) != 'c' ||
			lower((unsigned char) u[-3]) != 's' || lower((unsigned char) u[-2]) != 'm' ||
			lower((unsigned char) u[-1]) != 's')
			continue;
		if (u - sql > 4 && ident_char((unsigned char) u[-5]))
			continue;
		while (p < end && ident_char((unsigned char) *p))
			p++;
		if (p < end && *p == '"')
			p++;
		while (p < end && is_space((unsigned char) *p))
			p++;
		if (p < end && *p == '(')
			return true;
	}
	return false;
}

/* The length of the masked form of a text, at most */
size_t
csms_sql_mask_bound(size_t len)
{
	/* every masked token of n >= 1 bytes becomes at most 4 + CSMS_MASK_LEN + n */
	return len * (CSMS_MASK_LEN + 5) + 1;
}

/* Append bytes to the masked text */
static size_t
emit(char *out, size_t o, const char *p, size_t n)
{
	if (out)
		memcpy(out + o, p, n);
	return o + n;
}

/* The text with every literal replaced by a placeholder */
size_t
csms_sql_mask(const char *sql, size_t len, char *out)
{
	size_t		i = 0,
				o = 0;

	while (i < len)
	{
		unsigned char c = (unsigned char) sql[i];
		size_t		q,
					t,
					end,
					body_end;
		bool		bs;

		if (string_start(sql, len, i, &q, &bs))
		{
			o = emit(out, o, sql + i, q - i + 1);
			o = emit(out, o, CSMS_MASK, CSMS_MASK_LEN);
			end = string_end(sql, len, q, bs);
			o = emit(out, o, "'", 1);
			i = end;
		}
		else if (ident_start(c))
		{
			for (end = i + 1; end < len && ident_char((unsigned char) sql[end]); end++)
				;
			o = emit(out, o, sql + i, end - i);
			i = end;
		}
		else if (c == '"')
		{
			end = string_end(sql, len, i, false);
			o = emit(out, o, sql + i, end - i);
			i = end;
		}
		else if (c == '$' && i + 1 < len && is_digit((unsigned char) sql[i + 1]))
		{
			for (end = i + 1; end < len && is_digit((unsigned char) sql[end]); end++)
				;
			o = emit(out, o, sql + i, end - i);
			i = end;
		}
		else if ((t = dollar_tag(sql, len, i)) > 0)
		{
			end = dollar_end(sql, len, i, t, &body_end);
			o = emit(out, o, sql + i, t);
			o = emit(out, o, CSMS_MASK, CSMS_MASK_LEN);
			if (body_end < len)
				o = emit(out, o, sql + i, t);
			i = end;
		}
		else if (is_digit(c) || (c == '.' && i + 1 < len && is_digit((unsigned char) sql[i + 1])))
		{
			for (end = i; end < len && (is_digit((unsigned char) sql[end]) || sql[end] == '.'); end++)
				;
			if (end < len && lower((unsigned char) sql[end]) == 'e')
			{
				size_t		e = end + 1;

				if (e < len && (sql[e] == '+' || sql[e] == '-'))
					e++;
				if (e < len && is_digit((unsigned char) sql[e]))
					for (end = e; end < len && is_digit((unsigned char) sql[end]); end++)
						;
			}
			o = emit(out, o, CSMS_MASK, CSMS_MASK_LEN);
			i = end;
		}
		else if (c == '-' && i + 1 < len && sql[i + 1] == '-')
		{
			for (end = i; end < len && sql[end] != '\n'; end++)
				;
			o = emit(out, o, "--", 2);
			o = emit(out, o, CSMS_MASK, CSMS_MASK_LEN);
			i = end;
		}
		else if (c == '/' && i + 1 < len && sql[i + 1] == '*')
		{
			o = emit(out, o, "/*" CSMS_MASK "*/", CSMS_MASK_LEN + 4);
			i = comment_end(sql, len, i);
		}
		else
		{
			o = emit(out, o, sql + i, 1);
			i++;
		}
	}
	if (out)
		out[o] = '\0';
	return o;
}

/* Call fn for each literal of a text */
static void
literals(const char *sql, size_t len, csms_sql_literal_fn fn, void *arg, int depth)
{
	size_t		i = 0;

	while (i < len)
	{
		unsigned char c = (unsigned char) sql[i];
		size_t		q,
					t,
					end,
					body_end;
		bool		bs;

		if (string_start(sql, len, i, &q, &bs))
		{
			bool		closed;

			end = quoted_end(sql, len, q, bs, &closed);
			fn(arg, sql + q + 1, end - q - 1 - (closed ? 1 : 0));
			i = end;
		}
		else if (ident_start(c))
		{
			for (i++; i < len && ident_char((unsigned char) sql[i]); i++)
				;
		}
		else if (c == '"')
			i = string_end(sql, len, i, false);
		else if (c == '$' && i + 1 < len && is_digit((unsigned char) sql[i + 1]))
			i++;
		else if ((t = dollar_tag(sql, len, i)) > 0)
		{
			end = dollar_end(sql, len, i, t, &body_end);
			fn(arg, sql + i + t, body_end - i - t);
			if (depth < MAX_DEPTH)
				literals(sql + i + t, body_end - i - t, fn, arg, depth + 1);
			i = end;
		}
		else if (c == '-' && i + 1 < len && sql[i + 1] == '-')
		{
			while (i < len && sql[i] != '\n')
				i++;
		}
		else if (c == '/' && i + 1 < len && sql[i + 1] == '*')
			i = comment_end(sql, len, i);
		else
			i++;
	}
}

/* The literals of a text, decoded, for needles */
void
csms_sql_literals(const char *sql, size_t len, csms_sql_literal_fn fn, void *arg)
{
	literals(sql, len, fn, arg, 0);
}

/* The function names a text calls */
void
csms_sql_called_names(const char *sql, size_t len, csms_sql_name_fn fn, void *arg)
{
	size_t		i = 0;
	char		name[64];

	while (i < len)
	{
		unsigned char c = (unsigned char) sql[i];
		size_t		q,
					t,
					end,
					body_end,
					n = 0,
					j;
		bool		bs;

		if (string_start(sql, len, i, &q, &bs))
		{
			i = string_end(sql, len, q, bs);
			continue;
		}
		if (ident_start(c) || c == '"')
		{
			if (c == '"')
			{
				end = string_end(sql, len, i, false);
				for (j = i + 1; j + 1 < end && n < sizeof(name) - 1; j++)
				{
					if (sql[j] == '"')
						j++;		/* "" is one quote */
					name[n++] = sql[j];
				}
			}
			else
			{
				for (end = i; end < len && ident_char((unsigned char) sql[end]); end++)
					if (n < sizeof(name) - 1)
						name[n++] = (char) lower((unsigned char) sql[end]);
			}
			name[n] = '\0';
			for (j = end; j < len && is_space((unsigned char) sql[j]); j++)
				;
			if (j < len && sql[j] == '(' && n > 0)
				fn(arg, name);
			i = end;
			continue;
		}
		if (c == '$' && i + 1 < len && is_digit((unsigned char) sql[i + 1]))
			i++;
		else if ((t = dollar_tag(sql, len, i)) > 0)
		{
			end = dollar_end(sql, len, i, t, &body_end);
			i = end;
		}
		else if (c == '-' && i + 1 < len && sql[i + 1] == '-')
		{
			while (i < len && sql[i] != '\n')
				i++;
		}
		else if (c == '/' && i + 1 < len && sql[i + 1] == '*')
			i = comment_end(sql, len, i);
		else
			i++;
	}
}

/*
 * A parameter value as PostgreSQL logs it at i ($N = '...'): *value_start
 * and *value_end delimit the value between its quotes.
 */
static bool
param_value(const char *s, size_t len, size_t i, size_t *value_start, size_t *value_end)
{
	size_t		j = i + 1;

	if (s[i] != '$' || (i > 0 && ident_char((unsigned char) s[i - 1])))
		return false;
	if (j >= len || !is_digit((unsigned char) s[j]))
		return false;
	while (j < len && is_digit((unsigned char) s[j]))
		j++;
	if (j + 4 > len || memcmp(s + j, " = '", 4) != 0)
		return false;
	*value_start = j + 4;
	*value_end = string_end(s, len, j + 3, false);
	return true;
}

/*
 * Where the parameter field of a pgaudit line starts (the ninth and last
 * of "AUDIT: type,statement id,substatement id,class,command,object
 * type,object name,statement,parameter", CSV-quoted where needed), or len
 * when in is no such line or the field is <none> or <not logged>.
 */
static size_t
audit_parameter_field(const char *in, size_t len)
{
	static const char prefix[] = "AUDIT: ";
	size_t		i = sizeof(prefix) - 1,
				start = i;
	int			field = 1;
	bool		quoted = false;

	if (len < i || memcmp(in, prefix, i) != 0)
		return len;
	for (; i < len; i++)
	{
		if (quoted)
		{
			if (in[i] == '"')
			{
				if (i + 1 < len && in[i + 1] == '"')
					i++;
				else
					quoted = false;
			}
		}
		else if (in[i] == '"')
			quoted = true;
		else if (in[i] == ',')
		{
			field++;
			start = i + 1;
		}
	}
	if (field < 9)
		return len;
	if ((len - start == 6 && memcmp(in + start, "<none>", 6) == 0) ||
		(len - start == 12 && memcmp(in + start, "<not logged>", 12) == 0))
		return len;
	return start;
}

/* A log text with every needle and $N value masked */
size_t
csms_redact(const char *in, size_t len, const csms_needle *needles, int nneedles,
			char *out)
{
	size_t		i = 0,
				o = 0;
	size_t		params = audit_parameter_field(in, len);

	while (i < len)
	{
		size_t		vs,
					ve,
					best = 0;
		int			k,
					which = -1;

		if (i == params)
		{
			o = emit(out, o, CSMS_MASK, CSMS_MASK_LEN);
			break;
		}
		if (param_value(in, len, i, &vs, &ve))
		{
			o = emit(out, o, in + i, vs - i);
			o = emit(out, o, CSMS_MASK "'", CSMS_MASK_LEN + 1);
			i = ve;
			continue;
		}
		for (k = 0; k < nneedles; k++)
		{
			const csms_needle *nd = &needles[k];

			if (nd->len > best && nd->len <= len - i && nd->text[0] == in[i] &&
				memcmp(nd->text, in + i, nd->len) == 0)
			{
				best = nd->len;
				which = k;
			}
		}
		if (which >= 0)
		{
			o = emit(out, o, needles[which].replacement, needles[which].replacement_len);
			i += best;
		}
		else
		{
			o = emit(out, o, in + i, 1);
			i++;
		}
	}
	if (out)
		out[o] = '\0';
	return o;
}
