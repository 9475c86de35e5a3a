/*-------------------------------------------------------------------------
 *
 * settings.c
 *	  The variables behind the settings (see settings.h), with the defaults
 *	  module.c gives PostgreSQL.
 *
 * src/settings.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "settings.h"

char	   *csms_root_key_command = NULL;
char	   *csms_root_key_file = NULL;
char	   *csms_region_guc = NULL;
bool		csms_track_last_used = true;
int			csms_last_used_grain = 3600;
int			csms_usage_slots = 65536;
int			csms_usage_flush_interval = 60000;
int			csms_maintenance_interval = 60;
int			csms_now_offset = 0;
