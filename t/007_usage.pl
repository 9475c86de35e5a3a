
# last_used_time with shared_preload_libraries = 'secrets': reads write
# nothing (the secret's row keeps its version and its stored time), the
# functions that return last_used_time show the read at once, and the
# background worker writes it, in place on the secret's row, within
# csms.usage_flush_interval; a standby replays that write.  Covered:
# reads in read-only and in rolled-back transactions, csms.track_last_used
# off, a row locked or being updated by another session (skipped, written
# once released), a stored time newer than the read (kept),
# DDL holding the table (the worker does not queue behind it), two databases (one whose default transactions are read-only), a database
# whose extension was dropped and a dropped database (their reads are
# discarded without errors), a clean restart (unwritten reads saved and
# written after the start), a crash (unwritten reads are lost), a standby
# (records nothing, runs no worker), a full table (reads fall back to
# writing in place themselves), and a cluster without preload (the reader
# writes in place, taking no transaction id).

use strict;
use warnings;

# scripts/tap.sh sets PG_REGRESS=/bin/false, but Cluster->init runs
# "$PG_REGRESS --config-auth <datadir>", which is a no-op outside Windows.
BEGIN
{
	$ENV{PG_REGRESS} = '/bin/true'
	  if !defined $ENV{PG_REGRESS} || $ENV{PG_REGRESS} eq '/bin/false';
}

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('usage');
$node->init(allows_streaming => 1);
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'secrets'
csms.usage_flush_interval = '1h'
});
$node->start;

# the read time: the reading transaction's start, as now() shows it
sub read_secret
{
	my ($n, $db, $name, %opt) = @_;
	my $begin = $opt{begin} // 'BEGIN';
	my $end = $opt{end} // 'COMMIT';
	my $out = $n->safe_psql($db, qq{
$begin;
SELECT csms_get_secret_value('$name') IS NOT NULL, now();
$end;
});
	like($out, qr/^t\|/, "$name read in database $db");
	return (split /\|/, $out)[1];
}

sub stored
{
	my ($n, $db, $name) = @_;
	return $n->safe_psql($db,
		"SELECT CASE WHEN last_used_time = '-infinity' THEN 'null' ELSE last_used_time::text END"
		  . " FROM csms.secrets WHERE name = '$name'");
}

# wait until the row of secret $name holds time $t (the worker wrote it)
sub written_soon
{
	my ($n, $db, $name, $t) = @_;
	return $n->poll_query_until($db,
		"SELECT coalesce((SELECT last_used_time = '$t' FROM csms.secrets"
		  . " WHERE name = '$name'), false)");
}

sub shown
{
	my ($n, $db, $name) = @_;
	return $n->safe_psql($db,
		"SELECT coalesce(last_used_time::text, 'null') FROM csms_show_secret('$name')");
}

sub set_interval
{
	my ($n, $value) = @_;
	$n->safe_psql('postgres',
		"ALTER SYSTEM SET csms.usage_flush_interval = '$value'; SELECT pg_reload_conf();");
}

# how many secrets have a stored last_used_time
sub stored_count
{
	my ($n, $db) = @_;
	return $n->safe_psql($db,
		"SELECT count(*) FROM csms.secrets WHERE last_used_time > '-infinity'");
}

$node->safe_psql('postgres', 'CREATE EXTENSION secrets');

$node->safe_psql(
	'postgres', q{
SELECT count(csms_create_secret(n, secret_string => 'value-of-' || n))
  FROM unnest('{a,ro,rb,off,locked,changing,newer,ddl,restart,crash,standby}'::text[]) n;
-- secrets read a day ago (more than a grain): their rows are what a session
-- locks or changes below
UPDATE csms.secrets SET last_used_time = now() - interval '1 day'
 WHERE name IN ('locked', 'changing', 'restart', 'newer');
});
my $row_before = $node->safe_psql('postgres',
	"SELECT xmin, ctid FROM csms.secrets WHERE name = 'a'");

# --- reads write nothing, and are shown at once -------------------------------

my $out = $node->safe_psql(
	'postgres', q{
BEGIN;
SELECT csms_get_secret_value('a'), now();
SELECT pg_current_xact_id_if_assigned() IS NULL;
COMMIT;
});
my ($value, $t_a) = split /\|/, (split /\n/, $out)[0];
is($value, 'value-of-a', 'a read returns the value');
is((split /\n/, $out)[1], 't', 'the reading transaction took no transaction id');
is($node->safe_psql('postgres', "SELECT xmin, ctid FROM csms.secrets WHERE name = 'a'"),
	$row_before, 'the row of the secret read is the same row version (xmin, ctid)');
is(stored($node, 'postgres', 'a'), 'null', 'the stored time is not written by the read');
is(shown($node, 'postgres', 'a'), $t_a, 'csms_show_secret shows the read at once');
is( $node->safe_psql('postgres',
		"SELECT last_used_time FROM csms_list_secrets() WHERE name = 'a'"),
	$t_a, 'csms_list_secrets shows the read at once');

# a second read within the grain (an hour) changes nothing
read_secret($node, 'postgres', 'a');
is(shown($node, 'postgres', 'a'), $t_a, 'a second read within the grain keeps the first time');

my $t_ro = read_secret($node, 'postgres', 'ro', begin => 'BEGIN READ ONLY');
is(shown($node, 'postgres', 'ro'), $t_ro, 'a read in a READ ONLY transaction is recorded');
my $t_rb = read_secret($node, 'postgres', 'rb', end => 'ROLLBACK');
is(shown($node, 'postgres', 'rb'), $t_rb,
	'a read in a transaction that rolls back is recorded (the value was handed out)');
read_secret($node, 'postgres', 'off', begin => 'BEGIN; SET LOCAL csms.track_last_used = off');
is(shown($node, 'postgres', 'off'), 'null', 'csms.track_last_used = off records nothing');

# a secret's row locked by another session: the read works, the worker skips
# the row
my $locker = $node->background_psql('postgres', on_error_stop => 1);
$locker->query_safe('BEGIN');
$locker->query_safe("SELECT 1 FROM csms.secrets WHERE name = 'locked' FOR UPDATE");
my $t_locked = read_secret($node, 'postgres', 'locked');
# and one another session is changing (an UPDATE not committed yet)
my $changer = $node->background_psql('postgres', on_error_stop => 1);
$changer->query_safe('BEGIN');
$changer->query_safe("UPDATE csms.secrets SET description = 'changing' WHERE name = 'changing'");
my $t_changing = read_secret($node, 'postgres', 'changing');
# one whose stored time becomes newer than its read before the worker writes
# (a clock set back, say)
read_secret($node, 'postgres', 'newer');
$node->safe_psql('postgres',
	"UPDATE csms.secrets SET last_used_time = '2999-01-01 00:00:00+00' WHERE name = 'newer'");

# a second database, whose transactions are read-only by default
$node->safe_psql('postgres', 'CREATE DATABASE db2');
$node->safe_psql('db2', 'CREATE EXTENSION secrets');
$node->safe_psql('db2', "SELECT csms_create_secret('a', 'value-in-db2')");
$node->safe_psql('db2', "SELECT csms_create_secret('b', 'value-in-db2')");
$node->safe_psql('postgres', 'ALTER DATABASE db2 SET default_transaction_read_only = on');
my $t_a2 = read_secret($node, 'db2', 'a');
is(shown($node, 'db2', 'a'), $t_a2, 'db2: the read is shown at once');
isnt($t_a2, $t_a, 'the two databases have their own reads');

# a database whose extension goes away, and one that goes away
for my $db (qw(db3 db4))
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION secrets');
	$node->safe_psql($db, "SELECT csms_create_secret('gone', 'x')");
	read_secret($node, $db, 'gone');
}
$node->safe_psql('db3', 'DROP EXTENSION secrets CASCADE');
$node->safe_psql('postgres', 'DROP DATABASE db4');

is(stored_count($node, 'postgres'), '4',
	'no stored time written before the worker writes (but the four set above)');
is(stored($node, 'postgres', 'a'), 'null', 'nothing written before the flush interval');

# --- the worker writes ----------------------------------------------------------

set_interval($node, '200ms');
ok(written_soon($node, 'postgres', 'a', $t_a),
	'the worker writes the read within the interval');
is(stored($node, 'postgres', 'ro'), $t_ro, 'the read-only read is written');
is(stored($node, 'postgres', 'rb'), $t_rb, 'the rolled-back read is written');
is(stored($node, 'postgres', 'off'), 'null', 'nothing is written when tracking was off');
is($node->safe_psql('postgres', "SELECT xmin, ctid FROM csms.secrets WHERE name = 'a'"),
	$row_before, 'the worker writes in place: the row keeps its version (xmin, ctid)');
ok(written_soon($node, 'db2', 'a', $t_a2),
	'db2: the worker writes its read too (although db2 defaults to read-only)');
is(stored($node, 'postgres', 'a'), $t_a, 'each database got its own time');

# the locked row was skipped: the worker wrote 'a' in the same pass
isnt(stored($node, 'postgres', 'locked'), $t_locked, 'a row locked by another session is skipped');
is(shown($node, 'postgres', 'locked'), $t_locked, 'its read is still shown');
$locker->query_safe('ROLLBACK');
$locker->quit;
ok(written_soon($node, 'postgres', 'locked', $t_locked),
	'once the lock is gone, the skipped read is written');
isnt(stored($node, 'postgres', 'changing'), $t_changing,
	'a row another session is updating is skipped');
$changer->query_safe('ROLLBACK');
$changer->quit;
ok(written_soon($node, 'postgres', 'changing', $t_changing),
	'once that transaction is over, its read is written');
is(stored($node, 'postgres', 'newer'), '2999-01-01 00:00:00+00',
	'an older read never overwrites a newer stored time');

# DDL holding the table: the worker neither queues behind it nor fails; it
# tries again next round.  The round that writes the read of db2 has first
# been through database postgres, whose table is locked.
my $ddl = $node->background_psql('postgres', on_error_stop => 1);
$ddl->query_safe('BEGIN');
$ddl->query_safe('LOCK TABLE csms.secrets IN EXCLUSIVE MODE');
my $t_ddl = read_secret($node, 'postgres', 'ddl');
my $t_b2 = read_secret($node, 'db2', 'b');
ok(written_soon($node, 'db2', 'b', $t_b2),
	'a round ran while DDL held the table in another database');
is( $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_locks WHERE relation = 'csms.secrets'::regclass AND NOT granted"),
	'0', 'the worker does not queue behind DDL');
$ddl->query_safe('COMMIT');
$ddl->quit;
ok(written_soon($node, 'postgres', 'ddl', $t_ddl),
	'once the DDL is done, the read is written');

ok($node->wait_for_log(qr/discarded 1 unwritten reads of secrets in database "db3"/),
	'the read in the database whose extension was dropped is discarded, and said so');

# --- a clean restart keeps unwritten reads; a crash loses them ---------------------

# the row is locked, so the read is surely unwritten when the server stops;
# the long interval shows that the next start writes it at once
$node->safe_psql('postgres', "ALTER SYSTEM SET csms.usage_flush_interval = '1h'");
$locker = $node->background_psql('postgres', on_error_stop => 1);
$locker->query_safe('BEGIN');
$locker->query_safe("SELECT 1 FROM csms.secrets WHERE name = 'restart' FOR UPDATE");
my $t_restart = read_secret($node, 'postgres', 'restart');
$node->stop;
eval { $locker->quit; };
my $file = $node->data_dir . '/pg_stat/csms_usage.stat';
ok(-s $file, 'a clean shutdown saves unwritten reads in pg_stat/csms_usage.stat');
$node->start;
ok(!-e $file, 'the file is consumed at the start');
is(shown($node, 'postgres', 'restart'), $t_restart, 'after a restart, the read is still shown');
ok(written_soon($node, 'postgres', 'restart', $t_restart),
	'after a restart, the saved read is written (at once, not after the 1h interval)');

# that round is over (it wrote 'restart'), and the next is an hour away
read_secret($node, 'postgres', 'crash');
$node->stop('immediate');
$node->start;
is(shown($node, 'postgres', 'crash'), 'null', 'a crash loses the reads not written yet');

# --- a standby records nothing and runs no worker -------------------------------

$node->backup('bk');
my $standby = PostgreSQL::Test::Cluster->new('usage_standby');
$standby->init_from_backup($node, 'bk', has_streaming => 1);
# the backup copies the generated root key file with group access, which
# the extension refuses
chmod 0600, $standby->data_dir . '/csms_root.key';
$standby->start;
$node->wait_for_catchup($standby);
read_secret($standby, 'postgres', 'standby');
is(shown($standby, 'postgres', 'standby'), 'null', 'standby: a read records nothing');
is(shown($standby, 'postgres', 'a'), $t_a,
	'standby: the primary\'s overwrite in place came with the WAL');
is( $standby->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'csms usage%'"),
	'0', 'standby: no worker runs');
is( $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'csms usage launcher'"),
	'1', 'primary: the launcher runs');
$standby->stop;

unlike(slurp_file($node->logfile), qr/ERROR:|TRAP:|terminated by signal|PANIC:/,
	'no error in the log of the primary');
$node->stop;

# --- a full table: reads write themselves, as without preload ----------------------

# 64 slots, and no worker slot left for flushers (max_worker_processes is
# taken by the logical replication launcher and ours), so the table stays full
my $full = PostgreSQL::Test::Cluster->new('usage_full');
$full->init;
$full->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'secrets'
csms.usage_slots = 64
csms.usage_flush_interval = '1h'
max_worker_processes = 2
});
$full->start;
$full->safe_psql('postgres', 'CREATE EXTENSION secrets');
# csms.usage_slots: a restart setting with a range
my (undef, undef, $slots_err) = $full->psql('postgres',
	"\\set VERBOSITY sqlstate\nALTER SYSTEM SET csms.usage_slots = 10");
like($slots_err, qr/ERROR:  22023/, 'csms.usage_slots below 64 is refused with 22023');
(undef, undef, $slots_err) = $full->psql('postgres',
	"\\set VERBOSITY sqlstate\nSET csms.usage_slots = 100000");
like($slots_err, qr/ERROR:  55P02/, 'csms.usage_slots cannot change without a restart (55P02)');
$full->safe_psql('postgres',
	"SELECT count(csms_create_secret('f' || g, 'x')) FROM generate_series(1, 201) g");
$out = $full->safe_psql(
	'postgres', q{
BEGIN;
SELECT count(csms_get_secret_value('f' || g)) FROM generate_series(1, 200) g;
COMMIT;
});
is($out, '200', 'full table: 200 distinct reads');
my $sync = stored_count($full, 'postgres');
ok($sync > 0 && $sync < 200,
	"full table: the reads that found no slot wrote last_used_time themselves ($sync of 200)");
is( $full->safe_psql('postgres',
		"SELECT count(*) FROM csms_list_secrets(page_size => 1000) WHERE last_used_time IS NOT NULL"),
	'200', 'full table: every read is shown, from shared memory or from the row');
ok($full->wait_for_log(qr/could not start a background worker to write last_used_time of secrets/),
	'full table: the launcher says it could not start a flusher');
$out = $full->safe_psql(
	'postgres', q{
BEGIN READ ONLY;
SELECT csms_get_secret_value('f201');
SELECT pg_current_xact_id_if_assigned() IS NULL;
COMMIT;
});
is($out, "x\nt", 'full table: a read in a read-only transaction takes no transaction id');
isnt(stored($full, 'postgres', 'f201'), 'null', 'full table: ... and is recorded in place');
$full->stop;

# --- without preload: the reader writes in place --------------------------------

my $plain = PostgreSQL::Test::Cluster->new('usage_plain');
$plain->init;
$plain->start;
$plain->safe_psql('postgres', 'CREATE EXTENSION secrets');
$plain->safe_psql('postgres', "SELECT csms_create_secret('p', 'x')");
my $row_p = $plain->safe_psql('postgres', "SELECT xmin, ctid FROM csms.secrets WHERE name = 'p'");
$out = $plain->safe_psql(
	'postgres', q{
BEGIN;
SELECT csms_get_secret_value('p'), now() IS NOT NULL;
SELECT pg_current_xact_id_if_assigned() IS NULL;
SELECT last_used_time = now() FROM csms.secrets WHERE name = 'p';
ROLLBACK;
});
is($out, "x|t\nt\nt",
	'without preload: the read writes last_used_time at once, taking no transaction id');
is($plain->safe_psql('postgres', "SELECT xmin, ctid FROM csms.secrets WHERE name = 'p'"),
	$row_p, 'without preload: in place (the row keeps its version), kept after a rollback');
isnt(stored($plain, 'postgres', 'p'), 'null', 'without preload: the time is stored');
is( $plain->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'csms usage%'"),
	'0', 'without preload: no worker');
unlike(slurp_file($plain->logfile), qr/WARNING:  (invalid|unrecognized) configuration/,
	'without preload: no warning about the settings');
$plain->stop;

done_testing();
