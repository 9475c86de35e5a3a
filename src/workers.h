/*-------------------------------------------------------------------------
 *
 * workers.h
 *	  Short-lived background workers, one per database, that a launcher
 *	  (usage.c's, maintenance.c's) starts and waits for.
 *
 * src/workers.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef CSMS_WORKERS_H
#define CSMS_WORKERS_H

#include "postgres.h"

/*
 * Start the library's function `function` as a worker of type `type`
 * connected to database `dbid` (its argument), and wait until it ends;
 * false, at once, when no slot of max_worker_processes is free.  The
 * postmaster's death ends the caller.
 */
extern bool csms_run_database_worker(const char *function, const char *type, Oid dbid);

#endif							/* CSMS_WORKERS_H */
