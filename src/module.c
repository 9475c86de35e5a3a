/*-------------------------------------------------------------------------
 *
 * module.c
 *	  Module init: the settings (their names, defaults, contexts and hooks;
 *	  the variables are in settings.c), and with shared_preload_libraries
 *	  the shared memory and background worker of last_used_time (usage.c)
 *	  and the log hooks of log redaction (redact.c).
 *
 * src/module.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/guc.h"

#include "util.h"
#include "settings.h"
#include "redact.h"
#include "keyring.h"
#include "usage.h"
#include "maintenance.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* a changed root key source: the cached root key and CMK material go */
static void
root_key_source_assign(const char *newval, void *extra)
{
	csms_keyring_reset();
}

/* The settings, then shared memory and hooks when preloaded */
void
_PG_init(void)
{
	DefineCustomStringVariable("csms.root_key_command",
							   "Shell command that prints the root key as 64 hexadecimal characters.",
							   "Takes precedence over csms.root_key_file and the key file in the data directory.",
							   &csms_root_key_command,
							   "",
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY,
							   NULL, root_key_source_assign, NULL);
	DefineCustomStringVariable("csms.root_key_file",
							   "File that holds the root key as 64 hexadecimal characters.",
							   "Used when csms.root_key_command is empty; when both are empty the file csms_root.key in the data directory is used.",
							   &csms_root_key_file,
							   "",
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY,
							   NULL, root_key_source_assign, NULL);
	DefineCustomStringVariable("csms.region",
							   "Region the session works in.",
							   "Empty means the home region of the account.",
							   &csms_region_guc,
							   "",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);
	DefineCustomBoolVariable("csms.track_last_used",
							 "Records when each secret's value was last read (last_used_time).",
							 "To csms.last_used_grain. With shared_preload_libraries = 'secrets' a background worker writes the time; otherwise the read does, in place.",
							 &csms_track_last_used,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("csms.last_used_grain",
							"How old last_used_time must be before a read replaces it.",
							"A read replaces a secret's last_used_time once it is this old, so the time is written at most once per grain.",
							&csms_last_used_grain,
							3600, 1, 86400,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("csms.usage_flush_interval",
							"Time between two writes of recorded reads to last_used_time.",
							"Used when the library is in shared_preload_libraries: reads are recorded in shared memory and a background worker writes them this often.",
							&csms_usage_flush_interval,
							60000, 100, 3600000,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("csms.maintenance_interval",
							"Time between two runs of the due work in every database with the extension.",
							"Used when the library is in shared_preload_libraries: a background worker purges secrets due for deletion, announces expired versions and drops old notification records this often. 0 turns it off.",
							&csms_maintenance_interval,
							60, 0, 86400,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("csms.now_offset",
							"Moves the clock of the due work (a test aid).",
							"The maintenance takes now() plus this as the time to decide what is due: deletions, expiries, record retention. For tests; leave it at 0.",
							&csms_now_offset,
							0, -315360000, 315360000,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	/* shared memory is only for a preloaded library */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomIntVariable("csms.usage_slots",
								"Number of secrets whose recent reads shared memory holds until they are written to last_used_time.",
								"When the table is full, a read writes last_used_time itself, as without shared_preload_libraries.",
								&csms_usage_slots,
								65536, 64, 1 << 24,
								PGC_POSTMASTER,
								0,
								NULL, NULL, NULL);
	csms_usage_init();
	csms_maintenance_init();
	csms_redact_init();
	MarkGUCPrefixReserved("csms");
}
