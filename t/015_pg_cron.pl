
# The due work without shared_preload_libraries = 'secrets', from pg_cron
# (Debian's postgresql-15-cron, 1.4: a schedule has a minute's grain), as
# README says: a job that CALLs csms_run_maintenance() purges a due secret,
# with its SECRET_DELETED record, and announces an expired version.

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

my $libdir = `pg_config --pkglibdir`;
chomp $libdir;
plan skip_all => 'pg_cron is not installed (postgresql-15-cron)'
  unless -f "$libdir/pg_cron.so";

my $node = PostgreSQL::Test::Cluster->new('cron');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 16
});
$node->start;

$node->safe_psql(
	'postgres', q{
SET client_min_messages = error;
CREATE EXTENSION secrets;
CREATE EXTENSION pg_cron;
SELECT csms_create_event('lc', '{SECRET_VERSION_EXPIRED,SECRET_DELETED}',
	notification => '{"target_type": "NOTIFY", "target_name": "lc"}');
SELECT csms_create_secret('doomed', 'x', event_subscriptions => '{lc}');
SELECT csms_schedule_secret_deletion('doomed', 7);
SELECT csms_create_secret('kept', 'y', event_subscriptions => '{lc}');
SELECT csms_create_secret_version('kept', 'z', expire_time => now() + interval '1 day');
});
is($node->safe_psql('postgres', 'SHOW shared_preload_libraries'),
	'pg_cron', 'secrets is not preloaded: no maintenance worker');

# the clock of the due work, moved past the deletion and the expiry
$node->safe_psql('postgres', "ALTER DATABASE postgres SET csms.now_offset = '8d'");
$node->safe_psql('postgres',
	"SELECT cron.schedule('csms-maintenance', '* * * * *', 'CALL csms_run_maintenance()')");

ok( $node->poll_query_until(
		'postgres', "SELECT count(*) = 0 FROM csms.secrets WHERE name = 'doomed'"),
	'the pg_cron job purged the due secret');
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 1 FROM csms.notification_records WHERE event_type = 'SECRET_VERSION_EXPIRED'"),
	'and announced the expired version');
is( $node->safe_psql(
		'postgres',
		"SELECT event_type || ':' || secret_name FROM csms.notification_records ORDER BY id"),
	"SECRET_DELETED:doomed\nSECRET_VERSION_EXPIRED:kept",
	'one record of each');
is( $node->safe_psql(
		'postgres',
		"SELECT status FROM cron.job_run_details ORDER BY start_time DESC LIMIT 1"),
	'succeeded', 'pg_cron reports the run as succeeded');
is($node->safe_psql('postgres', "SELECT csms_get_secret_value('kept')"),
	'z', 'the expired version still reads');

done_testing();
