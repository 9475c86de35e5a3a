
# last_used_time is overwritten in place on the secrets' rows while other
# sessions read them, add versions to them (a new row version each) and
# change their metadata: pgbench with four clients over 100 secrets and a
# grain of one second, so that overwrites, updates and page pruning meet
# all the time; without preload (the readers write) and with it (the usage
# worker writes every 100 ms).  Afterwards amcheck finds every index entry
# matching its row and the heap sound, every secret was recorded, every
# value reads, and no session failed.

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

for my $preload (0, 1)
{
	my $what = $preload ? 'with preload' : 'without preload';
	my $node = PostgreSQL::Test::Cluster->new($preload ? 'inplace_preload' : 'inplace_plain');
	$node->init;
	$node->append_conf('postgresql.conf', "csms.last_used_grain = '1s'\n");
	$node->append_conf('postgresql.conf',
		"shared_preload_libraries = 'secrets'\ncsms.usage_flush_interval = '100ms'\n")
	  if $preload;
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION secrets');
	$node->safe_psql('postgres', 'CREATE EXTENSION amcheck');
	$node->safe_psql('postgres',
		"SELECT count(csms_create_secret('s' || g, 'first')) FROM generate_series(1, 100) g");

	$node->pgbench(
		'--no-vacuum --client=4 --jobs=2 --time=5',
		0,
		[qr{number of failed transactions: 0 \(0\.000%\)}],
		[qr{^$}],
		"$what: reads, new versions and metadata changes of the same secrets",
		{
			'013_read@8' => q{
\set id random(1, 100)
SELECT csms_get_secret_value('s' || :id);
},
			'013_version@1' => q{
\set id random(1, 100)
SELECT id FROM csms_create_secret_version('s' || :id, secret_string => 'v-' || :id);
},
			'013_update@1' => q{
\set id random(1, 100)
SELECT name FROM csms_update_secret('s' || :id, description => 'changed ' || :id);
},
		});

	# every btree index of the schema against its table, and the heap itself
	is( $node->safe_psql(
			'postgres', q{
SELECT count(*) FROM (
  SELECT bt_index_check(i.indexrelid, true)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
   WHERE c.relnamespace = 'csms'::regnamespace
     AND c.relam = (SELECT oid FROM pg_am WHERE amname = 'btree')) checked}),
		$node->safe_psql('postgres',
			"SELECT count(*) FROM pg_class WHERE relnamespace = 'csms'::regnamespace AND relkind = 'i'"),
		"$what: amcheck finds every index entry of schema csms matching its row");
	is($node->safe_psql('postgres', "SELECT count(*) FROM verify_heapam('csms.secrets')"),
		'0', "$what: verify_heapam finds nothing wrong in csms.secrets");
	ok( $node->poll_query_until(
			'postgres',
			"SELECT count(*) = 100 FROM csms_list_secrets(page_size => 1000)"
			  . " WHERE last_used_time > now() - interval '1 minute'"),
		"$what: every secret's read is recorded");
	is( $node->safe_psql(
			'postgres',
			"SELECT count(*) FROM generate_series(1, 100) g"
			  . " WHERE csms_get_secret_value('s' || g) IN ('first', 'v-' || g)"),
		'100', "$what: every value reads");
	my $log = slurp_file($node->logfile);
	$log =~ s/WARNING:  generated a new root key//g;	# CREATE EXTENSION's
	unlike($log, qr/ERROR:|TRAP:|terminated by signal|PANIC:|WARNING:/,
		"$what: no error or warning in the server log");
	$node->stop;
}

done_testing();
