
# The lifecycle with shared_preload_libraries = 'secrets' (issue 16):
# notifications reach a LISTENing session when the change commits and never
# for one that rolled back; the maintenance worker purges due secrets and
# announces expired versions in every database that has the extension
# (and quietly skips those that do not), on its own, every
# csms.maintenance_interval; an expiry is announced once, also across a
# restart, and again when it is moved and passes again; purging 100,000
# due secrets keeps readers and writers of other secrets going, keeps the
# worker's memory flat, and survives a kill -9 in the middle: after the
# restart every secret is purged exactly once (one SECRET_DELETED each).
# The clock of the due work is moved with csms.now_offset.

use strict;
use warnings;

BEGIN
{
	$ENV{PG_REGRESS} = '/bin/true'
	  if !defined $ENV{PG_REGRESS} || $ENV{PG_REGRESS} eq '/bin/false';
}

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('lifecycle');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'secrets'
csms.maintenance_interval = '1s'
max_worker_processes = 16
restart_after_crash = on
});
$node->start;

$node->safe_psql('postgres', 'SET client_min_messages = error; CREATE EXTENSION secrets');
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other', 'SET client_min_messages = error; CREATE EXTENSION secrets');
$node->safe_psql('postgres', 'CREATE DATABASE plain');	# without the extension

sub set_offset
{
	my ($offset) = @_;
	$node->safe_psql('postgres',
		"ALTER SYSTEM SET csms.now_offset = '$offset'; SELECT pg_reload_conf();");
}

for my $db ('postgres', 'other')
{
	$node->safe_psql(
		$db, q{
SELECT csms_create_event('lc', '{SECRET_VERSION_CREATED,SECRET_VERSION_EXPIRED,SECRET_DELETED}',
	notification => '{"target_type": "NOTIFY", "target_name": "lc_channel"}');
SELECT csms_create_secret('watched', 'watched value 1', event_subscriptions => '{lc}');
});
}

# --- notifications reach a listener at commit, never for a rollback ----------

my $listener = $node->background_psql('postgres');
$listener->query_safe('LISTEN lc_channel');
$node->safe_psql('postgres',
	"SELECT csms_create_secret_version('watched', 'watched value 2')");
$node->psql('postgres', q{
BEGIN;
SELECT csms_create_secret_version('watched', 'watched value 3');
ROLLBACK;
});
my $heard = $listener->query_safe('SELECT 1');
my @notes = $heard =~ /Asynchronous notification "lc_channel" with payload "(.*?)" received/g;
is(scalar @notes, 1, 'the listener got one notification: the committed version, not the rolled-back one');
like($notes[0] // '', qr/"versionId": "v2"/, 'the notification is about v2');
like($notes[0] // '', qr/"eventType": "SECRET_VERSION_CREATED"/, 'of type SECRET_VERSION_CREATED');
unlike($heard, qr/watched value/, 'no payload holds a value');

# an open transaction's notification waits for its commit
my $writer = $node->background_psql('postgres');
$writer->query_safe('BEGIN');
$writer->query_safe("SELECT csms_create_secret_version('watched', 'watched value 4')");
$heard = $listener->query_safe('SELECT 1');
unlike($heard, qr/Asynchronous notification/, 'nothing is heard before the commit');
$writer->query_safe('COMMIT');
$heard = $listener->query_safe('SELECT 1');
# (v3 again: the rolled-back transaction's v3 never existed)
like($heard, qr/Asynchronous notification "lc_channel" with payload ".*"versionId": "v3"/,
	'the notification arrives with the commit');

# --- the worker, in every database with the extension --------------------------

for my $db ('postgres', 'other')
{
	$node->safe_psql(
		$db, q{
SELECT csms_create_secret('doomed', 'doomed value', event_subscriptions => '{lc}');
SELECT csms_schedule_secret_deletion('doomed', 7);
SELECT csms_create_secret_version('watched', 'expiring value', expire_time => now() + interval '1 day');
});
}
my $log_offset = -s $node->logfile;
set_offset('8d');
for my $db ('postgres', 'other')
{
	ok( $node->poll_query_until(
			$db, "SELECT count(*) = 0 FROM csms.secrets WHERE name = 'doomed'"),
		"$db: the worker purged the due secret");
	ok( $node->poll_query_until(
			$db,
			"SELECT count(*) = 1 FROM csms.notification_records WHERE event_type = 'SECRET_VERSION_EXPIRED'"
		),
		"$db: the worker announced the expired version");
}
$heard = $listener->query_safe('SELECT 1');
like($heard, qr/"eventType": "SECRET_DELETED".*"secretName": "doomed"|"secretName": "doomed".*"eventType": "SECRET_DELETED"/,
	'the listener heard the purge');
like($heard, qr/"eventType": "SECRET_VERSION_EXPIRED"/, 'and the expiry');
$node->wait_for_log(qr/due work of secrets in database "other": secrets purged: 1/, $log_offset);
ok(1, 'the worker logged what it did');
my $log = slurp_file($node->logfile, $log_offset);
unlike($log, qr/database "plain"/, 'a database without the extension is skipped quietly');
unlike($log, qr/ERROR/, 'no errors');
$listener->quit;
$writer->quit;

# --- an expiry is announced once, also across a restart ------------------------

$node->restart;
$log_offset = -s $node->logfile;
# a round has run in both databases when a secret scheduled now is purged
for my $db ('postgres', 'other')
{
	$node->safe_psql($db,
		"SELECT csms_create_secret('probe', 'x'); SELECT csms_schedule_secret_deletion('probe', 7);");
	ok($node->poll_query_until($db, "SELECT count(*) = 0 FROM csms.secrets WHERE name = 'probe'"),
		"$db: rounds run after the restart");
}
$node->wait_for_log(qr/due work of secrets in database "other": secrets purged: 1/, $log_offset);
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM csms.notification_records WHERE event_type = 'SECRET_VERSION_EXPIRED'"),
	'1', 'the expiry was not announced again after the restart');
# moved into the future, then passed again: announced again
$node->safe_psql('postgres',
	"SELECT csms_update_secret_version('watched', 'v4', expire_time => now() + interval '9 days')");
set_offset('10d');
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 2 FROM csms.notification_records WHERE event_type = 'SECRET_VERSION_EXPIRED'"),
	'a moved expiry is announced again when it passes');

# --- 100,000 due secrets: readers go on, memory stays flat, a crash loses nothing

set_offset('0');
$node->safe_psql(
	'postgres', q{
SELECT csms_create_secret('reader', 'still readable');
SELECT count(csms_create_secret('bulk' || i, 'bulk value', event_subscriptions => '{lc}'))
  FROM generate_series(1, 100000) i;
SELECT count(csms_schedule_secret_deletion('bulk' || i, 7)) FROM generate_series(1, 100000) i;
});
is($node->safe_psql('postgres',
		"SELECT count(*) FROM csms.secrets WHERE state = 'PENDING_DELETE'"),
	'100000', '100,000 secrets are due');

# readers and writers of another secret, with a timeout that a wait would hit
my $other = $node->background_psql('postgres', on_error_stop => 0);
$other->query_safe("SET statement_timeout = '2s'");
my $lock = $node->background_psql('postgres');

my $deleted = "SELECT (SELECT count(*) FROM csms.notification_records WHERE event_type = 'SECRET_DELETED' AND secret_name LIKE 'bulk%')";
my $worker = "SELECT pid FROM pg_stat_activity WHERE backend_type = 'csms maintenance' AND datname = 'postgres'";
set_offset('8d');
ok($node->poll_query_until('postgres', "$deleted > 0"), 'the purge has begun')
  or diag(substr(slurp_file($node->logfile), -4000));
my $worker_pid = $node->safe_psql('postgres', $worker);
ok($worker_pid > 0, "the worker runs (pid $worker_pid)");

# Twice the worker is held in the middle of a batch: its secrets deleted, its
# notifications waiting for a lock on the records table.  There its memory
# is reported (the same point of a batch both times), other secrets are
# read and changed, and the second time it is killed.
my @totals;
for my $mark (5000, 30000)
{
	$node->poll_query_until('postgres', "$deleted >= $mark");
	$lock->query_safe('BEGIN');
	$lock->query_safe('LOCK TABLE csms.notification_records IN SHARE MODE');
	ok( $node->poll_query_until(
			'postgres',
			"SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $worker_pid"),
		"after $mark purges: the worker waits in the middle of a batch");
	my $off = -s $node->logfile;
	$node->safe_psql('postgres', "SELECT pg_log_backend_memory_contexts($worker_pid)");
	$node->wait_for_log(qr/\[$worker_pid\] LOG:  Grand total: \d+ bytes/, $off);
	my ($total) = slurp_file($node->logfile, $off) =~ /\[$worker_pid\] LOG:  Grand total: (\d+) bytes/;
	push @totals, $total;
	is($other->query("SELECT csms_get_secret_value('reader')"),
		'still readable', "after $mark purges: another secret reads at once");
	is($other->query("SELECT (csms_create_secret_version('reader', 'still readable')).id IS NOT NULL"),
		't', "after $mark purges: another secret takes a new version at once");
	last if $mark == 30000;
	$lock->query_safe('COMMIT');
}
cmp_ok($totals[1], '<=', $totals[0] + 1024 * 1024,
	"the worker's memory does not grow with the purged count ($totals[0] then $totals[1] bytes)");

# kill -9 in the middle of the batch
my $crash_offset = -s $node->logfile;
kill 'KILL', $worker_pid;
$node->wait_for_log(qr/all server processes terminated; reinitializing/, $crash_offset);
eval { $other->quit; };
eval { $lock->quit; };
ok($node->poll_query_until('postgres', 'SELECT 1', '1'), 'the server is back after the crash');
# one snapshot: the restarted worker goes on meanwhile
my ($after_crash, $total) = split /\|/, $node->safe_psql('postgres',
	"SELECT count(*), count(*) + ($deleted) FROM csms.secrets WHERE name LIKE 'bulk%'");
cmp_ok($after_crash, '>', 0, "the crash came in the middle ($after_crash secrets were left)");
is($total, 100000,
	'nothing purged was lost and nothing left was half-purged: every purged secret has its record');
ok( $node->poll_query_until(
		'postgres', "SELECT count(*) = 0 FROM csms.secrets WHERE name LIKE 'bulk%'"),
	'the restarted worker finished the purge');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*), count(DISTINCT secret_id) FROM csms.notification_records WHERE event_type = 'SECRET_DELETED' AND secret_name LIKE 'bulk%'"
	),
	'100000|100000',
	'every secret was purged exactly once');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM csms.versions v WHERE NOT EXISTS (SELECT FROM csms.secrets s WHERE s.id = v.secret_id)"
	),
	'0',
	'no version outlived its secret');
is($node->safe_psql('postgres', "SELECT csms_get_secret_value('reader')"),
	'still readable', 'the other secret reads after all');

done_testing();
