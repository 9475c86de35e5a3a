
# Backup blobs restore only into the account and the region that made them.
#
# Two installations (two clusters: different root keys, different accounts):
# a blob of cluster A restored on cluster B is refused with 22023 "backup blob
# was not made by this account", and the error says nothing about the blob
# (no region, no key id, no secret name, no account); B stays up.  Within A,
# a second region: a blob made there is refused in the home region with a
# message naming both regions, and restores there once the secret is gone.
# Last, delete-and-restore in the home region gives back every version with
# the same ids, values, stages and times, and the description and tags.

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

my %node;
for my $n (qw(a b))
{
	$node{$n} = PostgreSQL::Test::Cluster->new("foreign_$n");
	$node{$n}->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
	$node{$n}->start;
	my ($rc, $out, $err) =
	  $node{$n}->psql('postgres', 'CREATE EXTENSION secrets');
	is($rc, 0, "cluster $n: CREATE EXTENSION secrets");
}

sub query
{
	my ($n, $sql) = @_;
	return $node{$n}->safe_psql('postgres', $sql);
}

# The error of a statement, with its SQLSTATE ("ERROR:  22023: ...").
sub sql_error
{
	my ($n, $sql) = @_;
	my ($rc, $out, $err) =
	  $node{$n}->psql('postgres', "\\set VERBOSITY verbose\n$sql");
	return $rc == 0 ? "(no error; output: $out)" : $err;
}

my %account;
for my $n (qw(a b))
{
	$account{$n} = query($n,
		'SELECT domain_id || \'|\' || csms_root_key_fingerprint() FROM csms.account');
}
my ($domain_a, $fp_a) = split /\|/, $account{a};
my ($domain_b, $fp_b) = split /\|/, $account{b};
isnt($domain_a, $domain_b, 'the clusters are two accounts');
isnt($fp_a, $fp_b, 'the clusters have different root keys');

# A secret in A: several versions, a binary value with zero bytes, a custom
# stage, an expire time, a description, tags, a master key of its own.
# (This file is UTF-8 and is read without "use utf8".)
query(
	'a', q{
SELECT csms_create_key('payroll-key');
SELECT csms_create_secret('payroll', secret_string => $v$Grüße "quoted" 'single' \ 日本語$v$,
    kms_key_id => 'payroll-key', description => $d$Payroll «database» password$d$,
    tags => '{"env": "prod", "owner": "team@example", "größe": "x/y"}');
SELECT csms_create_secret_version('payroll', secret_binary => '\x00ff000102000000'::bytea,
    version_stages => '{blue}', expire_time => '2031-05-06 07:08:09.123456+00');
SELECT csms_create_secret_version('payroll', 'third');
SELECT csms_create_secret_version('payroll', 'fourth');
});
my $blob_a = query('a', "SELECT csms_backup_secret('payroll')");
like($blob_a, qr/^\)CloudSecretManagementBackupV1\.com/, 'cluster A: a backup blob');
my ($kid_a, $secret_id_a) = split /\|/, query('a',
	"SELECT (SELECT id FROM csms.keys WHERE purpose = 'backup' AND region = 'local'),"
	  . " (SELECT id FROM csms.secrets WHERE name = 'payroll')");
like($kid_a, qr/^[0-9a-f-]{36}$/, 'cluster A has a backup key');

# Cluster B: foreign blob ------------------------------------------------------

sub check_foreign
{
	my ($when) = @_;
	my $e = sql_error('b', "SELECT csms_restore('$blob_a')");
	like(
		$e,
		qr/ERROR:  22023: backup blob was not made by this account/,
		"$when: A's blob on B is refused with 22023, not made by this account");
	for my $secret (
		[ 'region name' => 'local' ],
		[ 'backup key id' => $kid_a ],
		[ 'secret name' => 'payroll' ],
		[ 'secret id' => $secret_id_a ],
		[ 'account id' => $domain_a ],
		[ 'key alias' => 'payroll-key' ])
	{
		unlike($e, qr/\Q$secret->[1]\E/i,
			"$when: the error does not reveal the $secret->[0]");
	}
	is(query('b', 'SELECT 1'), '1', "$when: cluster B is still up");
	is(query('b', "SELECT count(*) FROM csms.secrets WHERE name = 'payroll'"),
		'0', "$when: nothing was restored on B");
}

check_foreign('B without a backup key');
is(query('b', "SELECT count(*) FROM csms.keys WHERE purpose = 'backup'"),
	'0', 'the refused restore made no backup key on B');

# B with a backup key of its own (and a secret of the same name): still foreign
query(
	'b', q{
SELECT csms_create_secret('b-secret', secret_string => 'of cluster B');
SELECT csms_backup_secret('b-secret');
});
check_foreign('B with its own backup key');
my $blob_b = query('b', "SELECT csms_backup_secret('b-secret')");
like(
	sql_error('a', "SELECT csms_restore('$blob_b')"),
	qr/ERROR:  22023: backup blob was not made by this account/,
	"and B's blob on A is refused the same way");
query('b', "SELECT csms_delete_secret('b-secret')");
is(query('b', "SELECT name FROM csms_restore('$blob_b')"),
	'b-secret', "B's own blob restores on B");
is(query('b', "SELECT csms_get_secret_value('b-secret')"),
	'of cluster B', "B's restored value reads back");

# A second region of A -----------------------------------------------------------
query('a',
	"INSERT INTO csms.regions VALUES ('eu-west-x', md5('x'), now())");
my $eu = "SET csms.region = 'eu-west-x';\n";
query(
	'a', $eu . q{
SELECT csms_create_secret('eu-secret', secret_string => 'eu v1');
SELECT csms_create_secret_version('eu-secret', secret_binary => '\x00010000'::bytea);
SELECT csms_create_secret_version('eu-secret', 'eu v3', version_stages => '{green}');
});
my $blob_eu = query('a', $eu . "SELECT csms_backup_secret('eu-secret')");
like($blob_eu, qr/^\)CloudSecretManagementBackupV1\.com/, 'a backup blob made in region eu-west-x');
is( query(
		'a',
		"SELECT count(*) FROM csms.keys WHERE purpose = 'backup'"
		  . " AND region IN ('local', 'eu-west-x')"),
	'2',
	'each region has its own backup key');

like(
	sql_error('a', "SELECT csms_restore('$blob_eu')"),
	qr/ERROR:  22023: backup blob was made in region "eu-west-x", not in region "local"/,
	'the eu-west-x blob in the home region: 22023 naming both regions');
like(
	sql_error('a', $eu . "SELECT csms_restore('$blob_a')"),
	qr/ERROR:  22023: backup blob was made in region "local", not in region "eu-west-x"/,
	'a home-region blob in eu-west-x: 22023 naming both regions');
is(query('a', "SELECT count(*) FROM csms.secrets WHERE name = 'eu-secret'"),
	'1', 'the refused restores changed nothing');
like(
	sql_error('a', $eu . "SELECT csms_restore('$blob_eu')"),
	qr/ERROR:  42710: secret "eu-secret" already exists in region "eu-west-x"/,
	'restoring over an existing secret is refused');

my $eu_snapshot = $eu . q{
SELECT v.id, v.version_stages, v.create_time, x.secret_string, encode(x.secret_binary, 'hex')
  FROM csms_list_secret_versions('eu-secret') v,
       LATERAL csms_show_secret_version('eu-secret', v.id) x ORDER BY v.id;
};
my $eu_before = query('a', $eu_snapshot);
query('a', $eu . "SELECT csms_delete_secret('eu-secret')");
is(query('a', "SELECT count(*) FROM csms.secrets WHERE name = 'eu-secret'"),
	'0', 'eu-secret deleted');
is(query('a', $eu . "SELECT name, region FROM csms_restore('$blob_eu')"),
	'eu-secret|eu-west-x', 'the eu-west-x blob restores in eu-west-x');
is(query('a', $eu_snapshot), $eu_before,
	'eu-secret restored: versions, stages, times and values as before');
like($eu_before, qr/^v1\|\{SYSPREVIOUS\}\|.*\|eu v1\|\nv2\|\{SYSCURRENT\}\|.*\|\|00010000\nv3\|\{green\}/s,
	'(the eu-west-x snapshot holds what was stored)')
  or diag($eu_before);
like(
	sql_error('a', "SELECT csms_get_secret_value('eu-secret')"),
	qr/does not exist in region "local"/,
	'the restored secret is in eu-west-x only');

# Delete and restore in the home region ----------------------------------------
my $snapshot = q{
SELECT id, name, state, kms_key_id, description, create_time, update_time,
       secret_type, auto_rotation, rotation_period, rotation_config,
       event_subscriptions, enterprise_project_id, region
  FROM csms_show_secret('payroll');
SELECT v.id, v.create_time, v.expire_time, v.kms_key_id,
       array_to_string(v.version_stages, ','),
       encode(convert_to(x.secret_string, 'UTF8'), 'hex'), encode(x.secret_binary, 'hex')
  FROM csms_list_secret_versions('payroll') v,
       LATERAL csms_show_secret_version('payroll', v.id) x ORDER BY v.id;
SELECT s.name, st.version_id FROM (VALUES ('SYSCURRENT'), ('SYSPREVIOUS'), ('blue')) s(name),
       LATERAL csms_show_secret_stage('payroll', s.name) st ORDER BY 1;
SELECT t.key, t.value FROM csms.tags t JOIN csms.secrets s ON s.id = t.secret_id
 WHERE s.name = 'payroll' AND s.region = 'local' ORDER BY t.key;
};
my $before = query('a', $snapshot);
my @lines = split /\n/, $before;
is(scalar(@lines), 1 + 4 + 3 + 3, 'snapshot: the secret, 4 versions, 3 stages, 3 tags')
  or diag($before);
like($before, qr/\nv2\|[^\n]*\|2031-05-06 07:08:09\.123456\+00\|[^\n]*\|blue\|\|00ff000102000000\n/,
	'snapshot: v2 holds the binary value, its stage and its expire time');

query('a', "SELECT csms_delete_secret('payroll')");
is(query('a', "SELECT count(*) FROM csms.secrets WHERE name = 'payroll'"),
	'0', 'payroll deleted');
like(
	sql_error('a', "SELECT csms_get_secret_value('payroll')"),
	qr/ERROR:  42704: secret "payroll" does not exist/,
	'payroll cannot be read after delete');

is(query('a', "SELECT id, name FROM csms_restore('$blob_a')"),
	"$secret_id_a|payroll", 'the blob restores the deleted secret with its id');
is(query('a', $snapshot), $before,
	'restored: same metadata, description, create_time, versions (ids, times, stages, values), stages and tags'
);
is( query(
		'a',
		"SELECT csms_get_secret_value('payroll'),"
		  . " csms_get_secret_value('payroll', 'v3'),"
		  . " encode(csms_get_secret_binary('payroll', 'v2'), 'hex'),"
		  . " csms_get_secret_value('payroll', 'v1')"),
	qq{fourth|third|00ff000102000000|Grüße "quoted" 'single' \\ 日本語},
	'every version reads back by id and as latest');

for my $n (qw(a b))
{
	$node{$n}->stop;
}
done_testing();
