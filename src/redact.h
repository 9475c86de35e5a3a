/*-------------------------------------------------------------------------
 *
 * redact.h
 *	  Log redaction: no value of a secret reaches the server log (redact.c
 *	  says how).
 *
 * src/redact.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_REDACT_H
#define CSMS_REDACT_H

/* Install the hooks (module init). */
extern void csms_redact_init(void);

/* An API function runs: the statement it runs in is one that calls the extension. */
extern void csms_redact_note_call(void);

#endif							/* CSMS_REDACT_H */
