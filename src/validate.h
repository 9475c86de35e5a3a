/*-------------------------------------------------------------------------
 *
 * validate.h
 *	  Argument checks shared by the entry points.  Each raises one error
 *	  with the SQLSTATE of the error model (22023 for malformed arguments,
 *	  54000 for limits) and never echoes more than a short, cleaned prefix
 *	  of what the caller sent.
 *
 * src/validate.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_VALIDATE_H
#define CSMS_VALIDATE_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/jsonb.h"

/* a bounded, cleaned copy of caller input, for messages */
extern char *csms_trunc(const char *s);

extern void csms_check_name(const char *what, const char *name);
extern void csms_check_page_size(int page_size);
extern int	csms_parse_version_id(const char *version_id, bool allow_latest);
extern void csms_check_rotation_period(const char *period, Interval **out);
extern void csms_check_description(const char *description);
extern void csms_check_value_size(Size len);
extern ArrayType *csms_check_stage_list(ArrayType *stages, int *nstages,
										char ***names);
extern void csms_check_event_subscriptions(ArrayType *subs);
extern void csms_check_tags(Jsonb *tags);
extern void csms_check_tag_key(const char *key);
extern void csms_check_tag_value(const char *value);
extern void csms_check_rotation_config(Jsonb *config, const char *secret_type);
extern void csms_check_printable(const char *what, const char *s, int maxlen);
extern void csms_check_key_alias(const char *alias);

/*
 * The value of a call that takes secret_string (argument string_arg) or
 * secret_binary (binary_arg): exactly one, at most CSMS_VALUE_MAXLEN bytes.
 * Returns its kind (CSMS_KIND_STRING or CSMS_KIND_BINARY); *value points
 * into the argument.
 */
extern char csms_value_arg(FunctionCallInfo fcinfo, int string_arg, int binary_arg,
						   const char **value, Size *len);

#endif							/* CSMS_VALIDATE_H */
