
# Crash recovery: the server is killed (immediate shutdown) while
# transactions that create a version, a secret and a key version are still
# open, after their WAL and dirty pages reached disk.  After the restart the
# secrets have exactly their committed versions, the half-done work left no
# trace, every value reads back, and new versions get the next id.  A
# prepared transaction survives the crash and commits afterwards.

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

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', 'max_prepared_transactions = 5');
$node->start;
$node->psql('postgres', 'CREATE EXTENSION secrets');

$node->safe_psql(
	'postgres', q{
SELECT csms_create_secret('db', secret_string => 'committed-v1');
SELECT csms_create_secret_version('db', 'committed-v2');
SELECT csms_create_secret('bin', secret_binary => '\x00010200'::bytea);
SELECT csms_create_secret('other', secret_string => 'other-v1');
SELECT csms_create_secret('prep', secret_string => 'prep-v1');
SELECT csms_create_key('k');
SELECT csms_create_secret('under-k', secret_string => 'k-v1', kms_key_id => 'k');
});

my $versions_sql = q{
SELECT string_agg(id || ':' || array_to_string(version_stages, ','), ' ' ORDER BY id)
  FROM csms_list_secret_versions('db');
};
is($node->safe_psql('postgres', $versions_sql),
	'v1:SYSPREVIOUS v2:SYSCURRENT', 'before the crash: db has v1 and v2');

# a prepared transaction that adds a version to 'prep'
$node->safe_psql(
	'postgres', q{
BEGIN;
SELECT csms_create_secret_version('prep', 'prep-v2');
PREPARE TRANSACTION 'prep_v2';
});

# the open transaction: a version, a new secret, a new key version, a new key
my $bg = $node->background_psql('postgres', on_error_stop => 1);
$bg->query_safe('BEGIN');
is($bg->query_safe("SELECT (csms_create_secret_version('db', 'uncommitted-v3')).id"),
	'v3', 'open transaction: created v3 of db');
$bg->query_safe("SELECT csms_create_secret('half-done', secret_string => 'uncommitted-secret')");
$bg->query_safe("SELECT csms_rotate_key('k')");
$bg->query_safe("SELECT csms_create_key('half-done-key')");
$bg->query_safe("SELECT csms_create_secret_version('under-k', 'uncommitted-k-v2')");
$bg->query_safe("SELECT csms_update_secret_stage('bin', 'HALF', 'v1')");
is($bg->query_safe("SELECT csms_get_secret_value('db')"),
	'uncommitted-v3', 'open transaction sees its own version');

# meanwhile, another session commits (which flushes the WAL holding the open
# transaction's records too) and checkpoints (which writes its dirty pages)
is($node->safe_psql('postgres',
		"SELECT (csms_create_secret_version('other', 'other-v2')).id; CHECKPOINT;"),
	'v2', 'another session commits a version of another secret');
is($node->safe_psql('postgres', $versions_sql),
	'v1:SYSPREVIOUS v2:SYSCURRENT', 'other sessions do not see the open version');

# crash
$node->stop('immediate');
eval { $bg->quit; };
$node->start;

# --- after the restart --------------------------------------------------------

# the open transaction's versions did reach the disk (they are there, as line
# pointers of csms.versions, but belong to an aborted transaction)
is( $node->safe_psql(
		'postgres', q{
CREATE EXTENSION pageinspect;
SELECT (SELECT count(*)
          FROM generate_series(0, pg_relation_size('csms.versions') / 8192 - 1) b,
               heap_page_items(get_raw_page('csms.versions', b::int)))
       - (SELECT count(*) FROM csms.versions) >= 3;
}),
	't',
	'after the crash: the open transaction\'s versions are on disk, and invisible');
is($node->safe_psql('postgres', $versions_sql),
	'v1:SYSPREVIOUS v2:SYSCURRENT', 'after the crash: db has exactly v1 and v2');
is( $node->safe_psql(
		'postgres',
		q{SELECT csms_get_secret_value('db'), csms_get_secret_value('db', 'v1'),
		         csms_get_secret_value('db', 'v2')}),
	'committed-v2|committed-v1|committed-v2',
	'after the crash: the committed values read back');

my ($rc, $out, $err) = $node->psql('postgres', "SELECT csms_get_secret_value('db', 'v3')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  42704:/, 'after the crash: v3 of db does not exist (42704)');
($rc, $out, $err) = $node->psql('postgres', "SELECT * FROM csms_show_secret('half-done')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  42704: secret "half-done" does not exist/,
	'after the crash: the secret created in the open transaction does not exist');
is( $node->safe_psql(
		'postgres', q{
SELECT count(*) FROM csms.versions v JOIN csms.secrets s ON s.id = v.secret_id WHERE s.name = 'db';
SELECT last_version FROM csms.secrets WHERE name = 'db';
SELECT count(*) FROM csms.keys WHERE alias = 'half-done-key';
SELECT current_version FROM csms.keys WHERE alias = 'k';
SELECT count(*) FROM csms.key_versions kv JOIN csms.keys k ON k.id = kv.key_id WHERE k.alias = 'k';
SELECT count(*) FROM csms.secrets WHERE 'HALF' = ANY (stage_names);
}),
	"2\n2\n0\n1\n1\n0",
	'after the crash: no row of the open transaction is visible in any table');
is($node->safe_psql('postgres', "SELECT (csms_list_keys()).alias ORDER BY 1"),
	"csms/default\nk", 'after the crash: the keys are as committed');
is( $node->safe_psql(
		'postgres', q{
SELECT encode(csms_get_secret_binary('bin'), 'hex');
SELECT csms_get_secret_value('other');
SELECT csms_get_secret_value('other', 'v1');
SELECT csms_get_secret_value('under-k');
SELECT csms_get_secret_value('prep');
}),
	"00010200\nother-v2\nother-v1\nk-v1\nprep-v1",
	'after the crash: every committed value reads back');

# the prepared transaction survived, and commits
is($node->safe_psql('postgres', 'SELECT gid FROM pg_prepared_xacts'),
	'prep_v2', 'the prepared transaction survived the crash');
$node->safe_psql('postgres', "COMMIT PREPARED 'prep_v2'");
is( $node->safe_psql(
		'postgres',
		q{SELECT csms_get_secret_value('prep'), csms_get_secret_value('prep', 'v1')}),
	'prep-v2|prep-v1',
	'the prepared version is there once committed');

# new work continues from the committed state
is($node->safe_psql('postgres', "SELECT (csms_create_secret_version('db', 'after-crash-v3')).id"),
	'v3', 'a new version of db gets the next id, v3');
is($node->safe_psql('postgres', $versions_sql),
	'v1: v2:SYSPREVIOUS v3:SYSCURRENT', 'db versions after the new version');
is( $node->safe_psql('postgres',
		q{SELECT csms_get_secret_value('db'), csms_get_secret_value('db', 'v2')}),
	'after-crash-v3|committed-v2',
	'the new version reads back, and the old ones still do');
is( $node->safe_psql(
		'postgres', q{
SELECT (csms_create_secret('half-done', secret_string => 'now committed')).name;
SELECT csms_get_secret_value('half-done');
SELECT (csms_rotate_key('k')).key_version;
SELECT (csms_create_secret_version('under-k', 'k-v2')).id;
SELECT csms_get_secret_value('under-k');
SELECT csms_get_secret_value('under-k', 'v1');
}),
	"half-done\nnow committed\n2\nv2\nk-v2\nk-v1",
	'the name, the key version and the version ids of the aborted work are free again');

# a second crash, right after commits, loses nothing
$node->safe_psql('postgres', "SELECT csms_create_secret_version('db', 'v4-before-second-crash')");
$node->stop('immediate');
$node->start;
is( $node->safe_psql('postgres',
		q{SELECT csms_get_secret_value('db'), (SELECT count(*) FROM csms_list_secret_versions('db'))}),
	'v4-before-second-crash|4',
	'a committed version survives an immediate shutdown');

unlike(slurp_file($node->logfile), qr/TRAP:|terminated by signal 11|PANIC:/,
	'no assertion failure or segfault in the log');

$node->stop;
done_testing();
