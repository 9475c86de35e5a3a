
# ALTER EXTENSION secrets UPDATE from the released 1.0 to 1.1.
#
# The cluster is first run by a copy of this PostgreSQL installation whose
# library and extension files are those of release 1.0 (built from its
# commit by scripts/tap.sh, which passes the directory as
# SECRETS_RELEASE_1_0), and filled by 1.0: master keys (one rotated, one
# disabled and enabled again), a region, secrets of both kinds with several
# versions, stages, expiry times, tags and descriptions, a disabled secret,
# a replica, reads, and a backup blob.  Then the same data directory is run
# by this installation (the library of this checkout), ALTER EXTENSION
# secrets UPDATE runs, and:
#   - every version of every secret reads back as 1.0 wrote it, in both
#     regions; metadata, stages and keys are as they were;
#   - the upgraded database keeps working: new versions (that reach the
#     replica), stage moves, key rotation, the 1.0 blob restores;
#   - the upgraded schema equals a fresh 1.1 install: pg_dump
#     --schema-only of both, with the extension's objects dumped as plain
#     objects (a copy of each database where they are no longer members),
#     is the same text.

use strict;
use warnings;

BEGIN
{
	$ENV{PG_REGRESS} = '/bin/true'
	  if !defined $ENV{PG_REGRESS} || $ENV{PG_REGRESS} eq '/bin/false';
}

use File::Copy;
use File::Path qw(make_path);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $release = $ENV{SECRETS_RELEASE_1_0};
if (!$release || !-f "$release/secrets.so")
{
	# scripts/tap.sh could not build release 1.0: its commit is not in this
	# clone's history (a shallow clone); it says so on its output
	plan skip_all => 'release 1.0 not built (no history of its commit in this clone)';
}

# A copy of this installation (binaries find their share and lib
# directories relative to themselves) with release 1.0's library and
# extension files.
my $bindir = `pg_config --bindir`;
chomp $bindir;
my $pkglibdir = `pg_config --pkglibdir`;
chomp $pkglibdir;
my $sharedir = `pg_config --sharedir`;
chomp $sharedir;
my $copy = PostgreSQL::Test::Utils::tempdir('pg10');
my $copy_bin = "$copy$bindir";
my $copy_lib = "$copy$pkglibdir";
my $copy_share = "$copy$sharedir";
make_path($copy_bin, $copy_lib, "$copy_share/extension");
system("cp -a $bindir/. $copy_bin/") == 0 or die 'could not copy the binaries';
system("cp -a $pkglibdir/*.so $copy_lib/") == 0 or die 'could not copy the libraries';
system("cp -a $sharedir/. $copy_share/") == 0 or die 'could not copy the share directory';
unlink glob("$copy_share/extension/secrets*");
copy("$release/secrets.so", "$copy_lib/secrets.so") or die "copy: $!";
copy("$release/secrets.control", "$copy_share/extension/secrets.control") or die "copy: $!";
copy("$release/sql/secrets--1.0.sql", "$copy_share/extension/secrets--1.0.sql") or die "copy: $!";

my $node = PostgreSQL::Test::Cluster->new('upgrade', install_path => "$copy" . ($bindir =~ s{/bin$}{}r));
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'secrets'\n");
$node->start;

# 1. filled by release 1.0
my $q = sub { my ($sql) = @_; return $node->safe_psql('postgres', $sql) };
$q->('CREATE EXTENSION secrets');
is($q->("SELECT extversion FROM pg_extension WHERE extname = 'secrets'"), '1.0', 'release 1.0 installed');
$q->("SELECT csms_create_key('app-key', 'the application key')");
$q->("SELECT csms_rotate_key('app-key')");
$q->("SELECT csms_create_key('spare')");
$q->("SELECT csms_disable_key('spare')");
$q->("SELECT csms_enable_key('spare')");
$q->("SELECT csms_create_region('eu')");

my %values;		# "name/version[/region]" => value as 1.0 stored it
for my $i (1 .. 6)
{
	my $name = "s$i";
	my $key = $i % 2 ? 'app-key' : 'csms/default';
	my $v1 = "first value of $name " . ('x' x ($i * 7));
	$q->("SELECT csms_create_secret('$name', '$v1', kms_key_id => '$key', description => 'secret $i',"
		  . " tags => '{\"team\": \"t$i\"}')");
	$values{"$name/v1"} = $v1;
	for my $v (2 .. $i)
	{
		my $value = "value $v of $name";
		$q->("SELECT csms_create_secret_version('$name', '$value'"
			  . ($v == 3 ? ", version_stages => '{NEXT}', expire_time => '2030-01-01 00:00+00'" : '') . ')');
		$values{"$name/v$v"} = $value;
	}
	$q->("SELECT csms_update_secret_stage('$name', 'LBL', 'v1')") if $i == 4;
}
$q->("SELECT csms_create_secret('bin', secret_binary => '\\x00ff10'::bytea)");
$q->("SELECT csms_create_secret('off', 'disabled value')");
$q->("SELECT csms_disable_secret('off')");
$q->("SELECT csms_create_replica('s5', 'eu')");
$q->("SELECT csms_get_secret_value('s' || g) FROM generate_series(1, 6) g");
my $blob = $q->("SELECT csms_backup_secret('s2')");
my $meta_sql = "SELECT name, state, description, kms_key_id, replica_type, region,"
  . " (SELECT string_agg(id || ':' || array_to_string(version_stages, ','), ' ' ORDER BY id)"
  . "  FROM csms_list_secret_versions(s.name)) FROM csms_list_secrets(100) s ORDER BY name";
my $meta_before = $q->($meta_sql);
my $keys_before = $q->("SELECT key_id, alias, state, key_version FROM csms_list_keys() ORDER BY alias");
# a read that 1.0's worker wrote into csms.usage
$q->("INSERT INTO csms.usage SELECT id, '2026-01-02 03:04:05+00' FROM csms.secrets WHERE name = 'bin'");
my $used_sql = "SELECT string_agg(name || '=' || coalesce(last_used_time::text, 'never'), ' ' ORDER BY name)"
  . " FROM csms_list_secrets(100)";
my $used_before = $q->($used_sql);
$node->stop;

# 2. this installation, this library: the update
$node->{_install_path} = undef;
$node->start;
like($q->('SELECT version()'), qr/PostgreSQL 15/, 'the same data directory, run by this installation');
# before the update the new library refuses the old schema, and says what to do
my (undef, undef, $before_err) = $node->psql('postgres', 'SELECT count(*) FROM csms_list_secrets()');
like($before_err, qr/extension "secrets" is at version 1\.0, but its library is for version 1\.1.*\n.*HINT:  Run ALTER EXTENSION secrets UPDATE/s,
	'before the update a call says the extension is at 1.0 and how to update it');
$q->('ALTER EXTENSION secrets UPDATE');
is($q->("SELECT extversion FROM pg_extension WHERE extname = 'secrets'"), '1.1', 'updated to 1.1');
like($used_before, qr/^bin=2026-01-02 03:04:05\+00 off=never s1=2.* s6=2/,
	'release 1.0 recorded the reads of s1..s6, and of bin in csms.usage');
is($q->($used_sql), $used_before, 'last_used_time is as it was');
# 1.0's usage worker had not written them when the server stopped: they were
# saved at the shutdown, and this library's worker kept them until the
# update, then writes them onto the secrets' rows
$q->("ALTER SYSTEM SET csms.usage_flush_interval = '200ms'; SELECT pg_reload_conf()");
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 7 FROM csms.secrets WHERE last_used_time > '-infinity'"),
	'reads saved by release 1.0 are written onto the rows after the update');

my $read_ok = 1;
for my $k (sort keys %values)
{
	my ($name, $version) = split m{/}, $k;
	my $got = $q->("SELECT csms_get_secret_value('$name', '$version')");
	if ($got ne $values{$k})
	{
		$read_ok = 0;
		diag("$k: got <$got>, expected <$values{$k}>");
	}
}
ok($read_ok, 'every version of every secret reads back as 1.0 wrote it (' . scalar(keys %values) . ' versions)');
is($q->("SET csms.region = 'eu'; SELECT string_agg(csms_get_secret_value('s5', 'v' || g), '|' ORDER BY g)"
		  . " FROM generate_series(1, 5) g"),
	join('|', map { $values{"s5/v$_"} } 1 .. 5), 'the replica in region eu reads as it was');
is($q->("SELECT csms_get_secret_binary('bin')"), '\x00ff10', 'the binary secret reads as it was');
is($q->($meta_sql), $meta_before, 'metadata, states, stages and replicas are as they were');
is($q->("SELECT key_id, alias, state, key_version FROM csms_list_keys() ORDER BY alias"), $keys_before,
	'the keys are as they were');
# access control (1.1): what 1.0 made belongs to the extension's owner, who
# may hand it on; roles other than it hold nothing until then
my $extowner = $q->("SELECT extowner::regrole FROM pg_extension WHERE extname = 'secrets'");
is($q->("SELECT string_agg(DISTINCT owner, ',') FROM (SELECT owner FROM csms_list_secrets()"
		. " UNION ALL SELECT owner FROM csms_list_keys()) o"),
	$extowner, 'every secret and key of 1.0 belongs to the extension owner');
is($q->("SET csms.region = 'eu'; SELECT string_agg(DISTINCT owner, ',') FROM csms_list_secrets()"),
	$extowner, 'also in another region');
is($q->("SELECT count(*) FROM csms.grants"), '0', 'and nobody holds a grant');
$q->("CREATE ROLE upgraded_app; SELECT csms_set_owner('s1', 'upgraded_app')");
is($q->("SELECT owner FROM csms_show_secret('s1')"), 'upgraded_app', 'a 1.0 secret handed to an application');
my ($rc, $out, $err) = $node->psql('postgres', "SELECT csms_get_secret_value('off')");
like($err, qr/secret "off" is disabled/, 'the disabled secret is still disabled');

# the upgraded database keeps working
$q->("SELECT csms_create_secret_version('s5', 'after the update')");
is($q->("SELECT csms_get_secret_value('s5')"), 'after the update', 'a new version after the update');
is($q->("SET csms.region = 'eu'; SELECT csms_get_secret_value('s5')"), 'after the update',
	'and it reached the replica');
$q->("SELECT csms_update_secret_stage('s3', 'SYSCURRENT', 'v1')");
is($q->("SELECT csms_get_secret_value('s3')"), $values{'s3/v1'}, 'a stage move after the update');
is($q->("SELECT key_version FROM csms_rotate_key('app-key')"), '3', 'a key rotation after the update');
$q->("SELECT csms_create_secret_version('s1', 'under the rotated key')");
is($q->("SELECT csms_get_secret_value('s1')"), 'under the rotated key', 'a value under the new key version');
$q->("SELECT csms_delete_secret('s2')");
is($q->("SELECT name FROM csms_restore('$blob')"), 's2', 'a blob that 1.0 made restores');
is($q->("SELECT csms_get_secret_value('s2', 'v2')"), $values{'s2/v2'}, 'and its versions read');

# 3. the upgraded schema equals a fresh 1.1 install
$q->('CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION secrets');

# a copy of a database whose extension objects are plain objects, dumped
sub schema_dump
{
	my ($db) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE ${db}_plain TEMPLATE $db");
	$node->safe_psql("${db}_plain",
		"DELETE FROM pg_depend WHERE deptype = 'e' AND refclassid = 'pg_extension'::regclass"
		  . " AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'secrets');"
		  . " DELETE FROM pg_extension WHERE extname = 'secrets'");
	my $dump = `pg_dump --schema-only -h @{[ $node->host ]} -p @{[ $node->port ]} -d ${db}_plain`;
	# pg_dump's \restrict key is random in every dump
	$dump =~ s/^\\(un)?restrict \S+$//mg;
	return $dump;
}
my $upgraded = schema_dump('postgres');
my $fresh = schema_dump('fresh');
ok(length($fresh) > 10000 && $fresh =~ /CREATE TABLE csms\.secrets/,
	'the dump holds the extension\'s objects (' . length($fresh) . ' bytes)');
if ($upgraded eq $fresh)
{
	pass('pg_dump --schema-only of the upgraded database equals that of a fresh 1.1 install');
}
else
{
	my $dir = PostgreSQL::Test::Utils::tempdir('dumps');
	PostgreSQL::Test::Utils::append_to_file("$dir/upgraded.sql", $upgraded);
	PostgreSQL::Test::Utils::append_to_file("$dir/fresh.sql", $fresh);
	diag(`diff -u $dir/fresh.sql $dir/upgraded.sql | head -60`);
	fail('pg_dump --schema-only of the upgraded database equals that of a fresh 1.1 install');
}

$node->stop;
done_testing();
