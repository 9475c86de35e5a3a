/*-------------------------------------------------------------------------
 *
 * settings.h
 *	  The settings (GUCs) of the extension, as variables every layer may
 *	  read.  module.c defines them with PostgreSQL (names, defaults,
 *	  contexts, hooks); README.md, "Configuration", says what each does.
 *
 * src/settings.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_SETTINGS_H
#define CSMS_SETTINGS_H

#include "postgres.h"

extern char *csms_root_key_command;	/* csms.root_key_command */
extern char *csms_root_key_file;	/* csms.root_key_file */
extern char *csms_region_guc;	/* csms.region */
extern bool csms_track_last_used;	/* csms.track_last_used */
extern int	csms_last_used_grain;	/* csms.last_used_grain, s */
extern int	csms_usage_slots;	/* csms.usage_slots (with preload) */
extern int	csms_usage_flush_interval;	/* csms.usage_flush_interval, ms */
extern int	csms_maintenance_interval;	/* csms.maintenance_interval, s (with preload) */
extern int	csms_now_offset;	/* csms.now_offset, s: a test aid for due work */

#endif							/* CSMS_SETTINGS_H */
