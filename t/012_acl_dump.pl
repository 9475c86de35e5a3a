
# Owners and grants through pg_dump and pg_restore into another cluster
# (issue 14): they are written by role name (regrole columns), so the roles
# of the other cluster, made in another order and with other OIDs, own and
# hold the same secrets and keys there; the restored rows record their
# roles' dependencies (DROP ROLE refuses there too).  A role missing in the
# target cluster is an error at restore, and nobody holds the rows that did
# not load: never a grant to whoever has the OID.

use strict;
use warnings;

BEGIN
{
	$ENV{PG_REGRESS} = '/bin/true'
	  if !defined $ENV{PG_REGRESS} || $ENV{PG_REGRESS} eq '/bin/false';
}

use File::Copy qw(copy);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $tmp = PostgreSQL::Test::Utils::tempdir;

sub run_client
{
	my ($node, @cmd) = @_;
	my ($stdout, $stderr) = ('', '');
	IPC::Run::run([ $cmd[0], '-h', $node->host, '-p', $node->port, @cmd[ 1 .. $#cmd ] ],
		'>', \$stdout, '2>', \$stderr);
	return ($? >> 8, $stdout, $stderr);
}

# psql as a role (SET ROLE): (exit code, stdout, stderr)
sub as_role
{
	my ($node, $db, $role, $sql) = @_;
	my ($out, $err);
	my $rc = $node->psql($db, "SET ROLE $role; $sql", stdout => \$out, stderr => \$err);
	return ($rc, $out, $err);
}

my $execute_all = q{
DO $$
DECLARE f regprocedure;
BEGIN
	FOR f IN SELECT p.oid FROM pg_proc p WHERE p.proname LIKE 'csms\_%'
			   AND p.pronamespace = 'public'::regnamespace
	LOOP
		EXECUTE format('GRANT EXECUTE ON ROUTINE %s TO app_a, app_b, readers', f);
	END LOOP;
END $$;
};

# --- the source: two applications, a group of readers ------------------------

my $src = PostgreSQL::Test::Cluster->new('acl_src');
$src->init;
$src->start;
$src->safe_psql('postgres', q{
CREATE ROLE app_a; CREATE ROLE app_b; CREATE ROLE readers; CREATE ROLE reader1 IN ROLE readers;
CREATE EXTENSION secrets;
});
$src->safe_psql('postgres', $execute_all);
$src->safe_psql('postgres', q{
SET ROLE app_a;
SELECT csms_create_secret('a-db', 'a password');
SELECT csms_grant('a-db', 'readers', '{read}');
RESET ROLE;
SET ROLE app_b;
SELECT csms_create_key('b/key');
SELECT csms_create_secret('b-db', 'b password', kms_key_id => 'b/key');
SELECT csms_grant_key('b/key', 'app_a', '{use}');
RESET ROLE;
SELECT csms_grant('b-*', 'readers', '{describe}');
});
my $owners = q{SELECT string_agg(name || '=' || owner, ',' ORDER BY name) FROM csms_list_secrets()};
my $grants = q{SELECT string_agg(object_type || ':' || object || ':' || coalesce(region, '*') || ':'
	|| grantee || ':' || array_to_string(privileges, '+'), ',' ORDER BY object_type, object, grantee)
	FROM csms_list_grants()};
my $keys = q{SELECT string_agg(alias || '=' || owner, ',' ORDER BY alias) FROM csms_list_keys()};
my $src_owners = $src->safe_psql('postgres', $owners);
my $src_grants = $src->safe_psql('postgres', $grants);
my $src_keys = $src->safe_psql('postgres', $keys);
is($src_owners, 'a-db=app_a,b-db=app_b', 'source: each application owns its secret');
is($src_grants,
	'key:b/key:local:app_a:use,secret:a-db:local:readers:read,secret:b-*:*:readers:describe',
	'source: the grants');
my $src_oids = $src->safe_psql('postgres',
	q{SELECT string_agg(rolname || '=' || oid, ',' ORDER BY rolname) FROM pg_roles
	   WHERE rolname IN ('app_a', 'app_b', 'readers')});

my $dump = "$tmp/src.dump";
my ($rc, $out, $err) = run_client($src, 'pg_dump', '-Fc', '-f', $dump, 'postgres');
is($rc, 0, 'pg_dump succeeds') or diag $err;
my $keyfile = "$tmp/src.key";
copy($src->data_dir . '/csms_root.key', $keyfile) or die "copy: $!";
chmod(0600, $keyfile) or die;

# --- a target with the same roles, made in another order ----------------------

my $dst = PostgreSQL::Test::Cluster->new('acl_dst');
$dst->init;
$dst->append_conf('postgresql.conf', "csms.root_key_file = '$keyfile'");
$dst->start;
$dst->safe_psql('postgres', q{
CREATE ROLE filler1; CREATE ROLE filler2; CREATE ROLE readers; CREATE ROLE app_b;
CREATE ROLE filler3; CREATE ROLE app_a; CREATE ROLE reader1 IN ROLE readers;
CREATE DATABASE restored;
});
my $dst_oids = $dst->safe_psql('postgres',
	q{SELECT string_agg(rolname || '=' || oid, ',' ORDER BY rolname) FROM pg_roles
	   WHERE rolname IN ('app_a', 'app_b', 'readers')});
isnt($dst_oids, $src_oids, 'target: the roles have other OIDs');

($rc, $out, $err) = run_client($dst, 'pg_restore', '-d', 'restored', $dump);
is($rc, 0, 'pg_restore into the target succeeds') or diag $err;
is($dst->safe_psql('restored', $owners), $src_owners, 'target: the same owners, by name');
is($dst->safe_psql('restored', $grants), $src_grants, 'target: the same grants, by name');
is($dst->safe_psql('restored', $keys), $src_keys, 'target: the same key owners');

($rc, $out, $err) = as_role($dst, 'restored', 'app_a', "SELECT csms_get_secret_value('a-db')");
is($out, 'a password', 'target: app_a reads its own secret');
($rc, $out, $err) = as_role($dst, 'restored', 'app_a', "SELECT csms_get_secret_value('b-db')");
like($err, qr/permission denied for secret "b-db"/, 'target: app_a does not read app_b\'s');
($rc, $out, $err) = as_role($dst, 'restored', 'reader1', "SELECT csms_get_secret_value('a-db')");
is($out, 'a password', 'target: a member of readers reads through the group grant');
($rc, $out, $err) = as_role($dst, 'restored', 'reader1', "SELECT name FROM csms_show_secret('b-db')");
is($out, 'b-db', 'target: the pattern grant holds for its group');
($rc, $out, $err) = as_role($dst, 'restored', 'reader1', "SELECT csms_get_secret_value('b-db')");
like($err, qr/permission denied for secret "b-db"/, 'target: describe is not read');
($rc, $out, $err) = as_role($dst, 'restored', 'filler3', "SELECT csms_get_secret_value('a-db')");
like($err, qr/permission denied/, 'target: the role with app_a\'s old OID holds nothing');

# the restored rows hold their roles: DROP ROLE refuses, as in the source
($rc, $out, $err) = $dst->psql('restored', 'DROP ROLE app_a');
like($err, qr/privileges for table csms\.secrets/, 'target: DROP ROLE of an owner is refused');
($rc, $out, $err) = $dst->psql('restored', 'DROP ROLE readers');
like($err, qr/privileges for table csms\.grants/, 'target: DROP ROLE of a grantee is refused');

# --- a target without two of the roles ----------------------------------------

my $bare = PostgreSQL::Test::Cluster->new('acl_bare');
$bare->init;
$bare->append_conf('postgresql.conf', "csms.root_key_file = '$keyfile'");
$bare->start;
# readers (a grantee) and app_a (an owner, and a grantee of b/key) are missing
$bare->safe_psql('postgres', q{CREATE ROLE app_b; CREATE DATABASE restored;});
($rc, $out, $err) = run_client($bare, 'pg_restore', '-d', 'restored', $dump);
isnt($rc, 0, 'pg_restore without the roles reports errors');
like($err, qr/COPY secrets.*\n.*role "app_a" does not exist/,
	'the secrets of a missing owner: an error naming the role');
like($err, qr/COPY grants.*\n.*role "(readers|app_a)" does not exist/,
	'the grants of a missing grantee: an error naming the role');
is($bare->safe_psql('restored', 'SELECT count(*) FROM csms.grants'), '0',
	'no grant was restored to anyone');
is($bare->safe_psql('restored', 'SELECT count(*) FROM csms.secrets'), '0',
	'no secret was restored without its owner');
unlike(slurp_file($bare->logfile), qr/terminated by signal|TRAP:|PANIC:/, 'nothing crashed');

$bare->stop;
$dst->stop;
$src->stop;
done_testing();
