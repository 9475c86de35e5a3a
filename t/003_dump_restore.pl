
# pg_dump and pg_restore: a database with every kind of secret (string,
# binary with zero bytes, non-ASCII UTF-8, several versions with custom
# stages, a custom key, a rotated key, a disabled secret, tags) is dumped
# with pg_dump -Fc and restored into a new database of the same cluster: the
# metadata, every value, the fingerprint and the domain are the same there.
# A plain-SQL dump holds no plaintext.  Restored into a cluster with another
# root key, reads fail with one clear error, and work once that cluster is
# given the original key.

use strict;
use warnings;

# scripts/tap.sh sets PG_REGRESS=/bin/false, but Cluster->init runs
# "$PG_REGRESS --config-auth <datadir>", which is a no-op outside Windows.
BEGIN
{
	$ENV{PG_REGRESS} = '/bin/true'
	  if !defined $ENV{PG_REGRESS} || $ENV{PG_REGRESS} eq '/bin/false';
}

use File::Copy qw(copy);
use IPC::Run;
use MIME::Base64 qw(encode_base64);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my @alnum = ('A' .. 'Z', 'a' .. 'z', '0' .. '9');
sub rnd { return join '', map { $alnum[ int rand @alnum ] } 1 .. $_[0]; }

my $tmp = PostgreSQL::Test::Utils::tempdir;

# run a client program against $node; returns (exit code, stdout, stderr)
sub run_client
{
	my ($node, @cmd) = @_;
	my ($stdout, $stderr) = ('', '');
	note 'running: ' . join ' ', @cmd;
	IPC::Run::run([ $cmd[0], '-h', $node->host, '-p', $node->port, @cmd[ 1 .. $#cmd ] ],
		'>', \$stdout, '2>', \$stderr);
	return ($? >> 8, $stdout, $stderr);
}

sub createdb
{
	my ($node, $db) = @_;
	$node->safe_psql('postgres',
		"CREATE DATABASE $db ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
	return;
}

# --- the source database ----------------------------------------------------

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->start;
createdb($node, 'src');
$node->psql('src', 'CREATE EXTENSION secrets');
ok(-f $node->data_dir . '/csms_root.key', 'root key file generated');

# plaintext values, each with a random part so that finding one in a dump
# cannot be a coincidence.  Kept as UTF-8 bytes.
my %val = (
	plain_v1 => 'plain-v1-' . rnd(24),
	plain_v2 => 'plain-v2-' . rnd(24),
	multi_v1 => 'multi-v1-' . rnd(24),
	multi_v2 => 'multi-v2-' . rnd(24),
	multi_v3 => 'multi-v3-' . rnd(24),
	multi_v4 => 'multi-v4-' . rnd(24),
	utf8 => "p\xc3\xa4ssw\xc3\xb6rd-\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c-"
	  . "\xe5\xaf\x86\xe7\xa0\x81-\xf0\x9f\x94\x91-" . rnd(24),
	custom => 'custom-key-' . rnd(24),
	rot_v1 => 'rotated-v1-' . rnd(24),
	rot_v2 => 'rotated-v2-' . rnd(24),
	disabled => 'disabled-' . rnd(24),
	tagged => 'tagged-' . rnd(24),);
my $bin_hex = '00' . unpack('H*', rnd(20)) . '0000ff00' . unpack('H*', rnd(20)) . '00';
my $bin2_hex = '0000' . unpack('H*', rnd(20)) . '00';

$node->safe_psql(
	'src', qq{
SET client_encoding = 'UTF8';
SELECT csms_create_secret('plain', secret_string => '$val{plain_v1}', description => 'a plain secret');
SELECT csms_create_secret_version('plain', '$val{plain_v2}');
SELECT csms_create_secret('binary', secret_binary => '\\x$bin_hex'::bytea);
SELECT csms_create_secret_version('binary', secret_binary => '\\x$bin2_hex'::bytea);
SELECT csms_create_secret('unicode', secret_string => '$val{utf8}');
SELECT csms_create_secret('multi', secret_string => '$val{multi_v1}');
SELECT csms_create_secret_version('multi', '$val{multi_v2}', version_stages => '{STAGE_A,STAGE_B}');
SELECT csms_create_secret_version('multi', '$val{multi_v3}', expire_time => '2099-01-01 00:00:00+00');
SELECT csms_create_secret_version('multi', '$val{multi_v4}', version_stages => '{CANARY}');
SELECT csms_update_secret_stage('multi', 'STAGE_B', 'v1');
SELECT csms_create_key('app/custom', description => 'a custom key');
SELECT csms_create_secret('custom', secret_string => '$val{custom}', kms_key_id => 'app/custom');
SELECT csms_create_key('rotating');
SELECT csms_create_secret('rotated', secret_string => '$val{rot_v1}', kms_key_id => 'rotating');
SELECT csms_rotate_key('rotating');
SELECT csms_create_secret_version('rotated', '$val{rot_v2}');
SELECT csms_create_secret('disabled', secret_string => '$val{disabled}');
SELECT csms_disable_secret('disabled');
SELECT csms_create_secret('tagged', secret_string => '$val{tagged}',
                          tags => '{"env":"prod","team":"payments"}');
});

# what each version should read as: [name, version, column, expected]
my @expect = (
	[ 'plain', 'v1', 'string', $val{plain_v1} ],
	[ 'plain', 'v2', 'string', $val{plain_v2} ],
	[ 'binary', 'v1', 'binary', $bin_hex ],
	[ 'binary', 'v2', 'binary', $bin2_hex ],
	[ 'unicode', 'v1', 'string', $val{utf8} ],
	[ 'multi', 'v1', 'string', $val{multi_v1} ],
	[ 'multi', 'v2', 'string', $val{multi_v2} ],
	[ 'multi', 'v3', 'string', $val{multi_v3} ],
	[ 'multi', 'v4', 'string', $val{multi_v4} ],
	[ 'custom', 'v1', 'string', $val{custom} ],
	[ 'rotated', 'v1', 'string', $val{rot_v1} ],
	[ 'rotated', 'v2', 'string', $val{rot_v2} ],
	[ 'tagged', 'v1', 'string', $val{tagged} ],);
my @secret_names = qw(binary custom disabled multi plain rotated tagged unicode);

sub read_version_sql
{
	my ($name, $v, $col) = @_;
	return $col eq 'binary'
	  ? "SELECT encode(secret_binary, 'hex') FROM csms_show_secret_version('$name', '$v')"
	  : "SELECT secret_string FROM csms_show_secret_version('$name', '$v')";
}

# the state as seen through the API, and the raw tables, for comparison:
# { what => output }, read in one session
sub snapshot
{
	my ($n, $db) = @_;
	my @q = ([ list_secrets => 'SELECT * FROM csms_list_secrets()' ]);
	for my $name (@secret_names)
	{
		push @q,
		  [ "versions $name" => "SELECT * FROM csms_list_secret_versions('$name')" ],
		  [ "show $name" => "SELECT * FROM csms_show_secret('$name')" ];
	}
	push @q, [ list_keys => 'SELECT * FROM csms_list_keys()' ],
	  [ stages =>
		  "SELECT * FROM csms_show_secret_stage('multi', 'STAGE_B') UNION ALL SELECT * FROM csms_show_secret_stage('multi', 'CANARY')"
	  ];
	for my $t (qw(account regions keys key_versions secrets versions tags))
	{
		push @q, [ "table csms.$t" => "SELECT t::text FROM csms.$t t ORDER BY 1" ];
	}
	my $out = $n->safe_psql($db, join "\n",
		map { "SELECT '### $_->[0]';\n$_->[1];" } @q);
	my %s;
	my $key;
	for my $line (split /\n/, $out, -1)
	{
		if ($line =~ /^### (.*)$/) { $key = $1; $s{$key} = undef; next; }
		die "unexpected output before the first section: $line" unless defined $key;
		$s{$key} = defined $s{$key} ? "$s{$key}\n$line" : $line;
	}
	die 'snapshot lost sections' unless keys %s == @q;
	return \%s;
}

# read every version, in one session: "name version value" lines
sub read_all
{
	my ($n, $db, $prefix) = @_;
	return $n->safe_psql($db, ($prefix // '') . join "\n",
		map { read_version_sql(@$_[ 0 .. 2 ]) . ';' } @expect);
}
my $expected_values = join "\n", map { $_->[3] } @expect;

# sanity of the source: every value reads as written, the stages are as set
is(read_all($node, 'src'), $expected_values,
	'source: every version of every secret reads back as written');
is( $node->safe_psql('src',
		"SELECT string_agg(id || ':' || array_to_string(version_stages, ','), ' ' ORDER BY id) FROM csms_list_secret_versions('multi')"
	),
	'v1:STAGE_B,SYSPREVIOUS v2:STAGE_A v3:SYSCURRENT v4:CANARY',
	'source: custom stages as set');
is($node->safe_psql('src', "SELECT state FROM csms_show_secret('disabled')"),
	'DISABLED', 'source: the disabled secret is disabled');

my $fingerprint = $node->safe_psql('src', 'SELECT csms_root_key_fingerprint()');
my $domain = $node->safe_psql('src', "SELECT domain_id FROM csms_show_secret('plain')");
like($domain, qr/^[0-9a-f]{32}$/, 'source has a domain id');

# --- dump ---------------------------------------------------------------------

my $before = snapshot($node, 'src');
my $dumpfile = "$tmp/src.dump";
my ($rc, $out, $err) = run_client($node, 'pg_dump', '-Fc', '-d', 'src', '-f', $dumpfile);
is($rc, 0, 'pg_dump -Fc succeeds');
is($err, '', 'pg_dump -Fc prints nothing on stderr');

# --- the plain dump holds ciphertext only ------------------------------------

my $plainfile = "$tmp/src.sql";
($rc, $out, $err) = run_client($node, 'pg_dump', '-Fp', '-d', 'src', '-f', $plainfile);
is($rc, 0, 'pg_dump -Fp succeeds');
my $plain = slurp_file($plainfile);
like($plain, qr/^COPY csms\.versions /m, 'the plain dump carries csms.versions');
like($plain, qr/^COPY csms\.account /m, 'the plain dump carries csms.account');
# sanity: what is stored does appear in the dump (so the search below can find things)
my $a_ciphertext = $node->safe_psql('src',
	"SELECT encode(ciphertext, 'hex') FROM csms.versions ORDER BY secret_id, version LIMIT 1");
ok(index($plain, $a_ciphertext) >= 0, 'a stored ciphertext appears in the plain dump');
like($plain, qr/"env": "prod"|env\tprod/, 'tags (metadata, not secret) appear in the plain dump');
for my $label (sort keys %val)
{
	my $v = $val{$label};
	my @hits;
	push @hits, 'raw' if index($plain, $v) >= 0;
	push @hits, 'hex' if index(lc $plain, unpack('H*', $v)) >= 0;
	push @hits, 'base64' if index($plain, encode_base64($v, '')) >= 0;
	# the random tail alone (what stays recognisable if anything was mangled)
	push @hits, 'tail' if index($plain, substr($v, -24)) >= 0;
	is_deeply(\@hits, [], "plain dump does not contain value $label");
}
for my $hex ($bin_hex, $bin2_hex)
{
	my $inner = substr($hex, 2, 40);    # the random part
	ok(index(lc $plain, $inner) < 0 && index($plain, pack('H*', $inner)) < 0,
		'plain dump does not contain the binary value (hex or raw)');
}

# --- restore into a new database of the same cluster -------------------------

createdb($node, 'dst');
($rc, $out, $err) = run_client($node, 'pg_restore', '-d', 'dst', $dumpfile);
is($rc, 0, 'pg_restore into a new database succeeds');
is($err, '', 'pg_restore prints no error or warning');

my $after = snapshot($node, 'dst');
for my $k (sort keys %$before)
{
	is($after->{$k}, $before->{$k}, "restored: $k is identical");
}
is($node->safe_psql('dst', 'SELECT csms_root_key_fingerprint()'),
	$fingerprint, 'restored: fingerprint equals the original');
is($node->safe_psql('dst', "SELECT domain_id FROM csms_show_secret('plain')"),
	$domain, 'restored: domain_id equals the original');
is($node->safe_psql('dst', 'SELECT count(*) FROM csms.account'),
	'1', 'restored: exactly one account row');

is(read_all($node, 'dst'), $expected_values,
	'restored: every version of every secret reads back the same value');
is($node->safe_psql('dst', "SELECT csms_get_secret_value('plain')"),
	$val{plain_v2}, 'restored: latest of plain');
is($node->safe_psql('dst', "SELECT csms_get_secret_value('multi', 'v1')"),
	$val{multi_v1}, 'restored: csms_get_secret_value by version id');
is($node->safe_psql('dst', "SELECT encode(csms_get_secret_binary('binary'), 'hex')"),
	$bin2_hex, 'restored: csms_get_secret_binary with zero bytes');
is( $node->safe_psql('dst',
		"SELECT octet_length(csms_get_secret_value('unicode')), csms_get_secret_value('unicode') = convert_from('\\x"
		  . unpack('H*', $val{utf8}) . "', 'UTF8')"),
	length($val{utf8}) . '|t',
	'restored: the UTF-8 value is byte-for-byte the same');

# the disabled secret: still disabled, serves no value, and after enabling it
# serves the original
my (undef, undef, $src_dis_err) = $node->psql('src',
	"SELECT csms_get_secret_value('disabled')", extra_params => [ '-v', 'VERBOSITY=verbose' ]);
($rc, $out, $err) = $node->psql('dst',
	"SELECT csms_get_secret_value('disabled')", extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  55000:/, 'restored: the disabled secret serves no value (55000)');
is($err, $src_dis_err, 'restored: same error as in the source');
$node->safe_psql('dst', "SELECT csms_enable_secret('disabled')");
is($node->safe_psql('dst', "SELECT csms_get_secret_value('disabled')"),
	$val{disabled}, 'restored: the disabled secret, once enabled, reads back');

# the restored database is fully usable: new versions, new secrets, rotation
is( $node->safe_psql('dst',
		"SELECT (csms_create_secret_version('rotated', 'after-restore')).id;"
		  . " SELECT (csms_rotate_key('rotating')).key_version;"
		  . " SELECT (csms_create_secret_version('rotated', 'after-rotate')).id;"
		  . " SELECT csms_get_secret_value('rotated', 'v1');"
		  . " SELECT (csms_create_secret('new-in-dst', secret_string => 'n')).name"),
	"v3\n3\nv4\n$val{rot_v1}\nnew-in-dst",
	'restored: new versions, key rotation and new secrets work');

# the source is untouched by all this
is($node->safe_psql('src', "SELECT csms_get_secret_value('rotated')"),
	$val{rot_v2}, 'source still reads after the restore');

# the plain-SQL dump restores with psql, to the same state
createdb($node, 'dst_plain');
($rc, $out, $err) = run_client($node, 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
	'-d', 'dst_plain', '-f', $plainfile);
is($rc, 0, 'psql restores the plain dump');
is($err, '', 'psql restore of the plain dump prints no error or warning');
my $after_plain = snapshot($node, 'dst_plain');
is_deeply($after_plain, $before, 'plain dump restored: API output and tables identical');
is(read_all($node, 'dst_plain'), $expected_values,
	'plain dump restored: every version reads back');

# a directory-format dump restores the same state.  It is restored with one
# job: pg_restore -j loads the data of an extension's configuration tables in
# no particular order, which the foreign keys among them (created by CREATE
# EXTENSION, before any data) do not allow -- a PostgreSQL limitation for
# every extension with related configuration tables, stated in README.md.
my $dirdump = "$tmp/src.dir";
($rc, $out, $err) = run_client($node, 'pg_dump', '-Fd', '-d', 'src', '-f', $dirdump);
is($rc, 0, 'pg_dump -Fd succeeds');
createdb($node, 'dst_dir');
($rc, $out, $err) = run_client($node, 'pg_restore', '-d', 'dst_dir', $dirdump);
is($rc, 0, 'pg_restore of the directory dump succeeds');
is($err, '', 'pg_restore of the directory dump prints no error')
  or diag $err;
my $after_dir = eval { snapshot($node, 'dst_dir') };
is_deeply($after_dir, $before, 'directory dump restored: API output and tables identical')
  or diag 'snapshot of the directory restore: ' . ($@ ? substr($@, 0, 200) : 'differs');

# restoring into a database whose extension already holds data is refused
createdb($node, 'busy');
$node->safe_psql('busy',
	"CREATE EXTENSION secrets; SELECT csms_create_secret('x', secret_string => 'y')");
($rc, $out, $err) = run_client($node, 'pg_restore', '-d', 'busy', $dumpfile);
isnt($rc, 0, 'pg_restore into a database whose extension holds data fails');
like($err, qr/the account of extension "secrets" already holds data/,
	'pg_restore into a busy database: the account trigger says why');
is($node->safe_psql('busy', "SELECT csms_get_secret_value('x')"),
	'y', 'the busy database keeps its own account and secrets');

# --- restore into a cluster with another root key -----------------------------

my $other = PostgreSQL::Test::Cluster->new('other');
$other->init;
$other->start;
($rc, $out, $err) = $other->psql('postgres', 'CREATE EXTENSION secrets');
like($err, qr/generated a new root key/, 'the other cluster has its own root key');
my $other_fp = $other->safe_psql('postgres', 'SELECT csms_root_key_fingerprint()');
isnt($other_fp, $fingerprint, 'the other cluster has another fingerprint');

createdb($other, 'restored');
($rc, $out, $err) = run_client($other, 'pg_restore', '-d', 'restored', $dumpfile);
is($rc, 0, 'pg_restore into the other cluster succeeds');
is($err, '', 'pg_restore into the other cluster prints nothing');
is($other->safe_psql('restored', 'SELECT csms_root_key_fingerprint()'),
	$fingerprint, 'other cluster: the restored database expects the original key');
is($other->safe_psql('restored', 'SELECT * FROM csms_list_secrets()'),
	$before->{list_secrets}, 'other cluster: metadata reads without the key');

for my $e ([ 'plain', 'v1', 'string' ], [ 'binary', 'v2', 'binary' ], [ 'unicode', 'v1', 'string' ])
{
	my ($name, $v, $col) = @$e;
	($rc, $out, $err) = $other->psql('restored', read_version_sql($name, $v, $col),
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	isnt($rc, 0, "other cluster: reading $name $v fails");
	is($out, '', "other cluster: reading $name $v returns nothing");
	like($err, qr/\A[^\n]*ERROR:  XX001: root key does not match this database\n/,
		"other cluster: reading $name $v is XX001 root key does not match this database");
}
($rc, $out, $err) = $other->psql('restored', "SELECT csms_get_secret_value('plain')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  XX001: root key does not match this database/,
	'other cluster: csms_get_secret_value is XX001');
is($other->safe_psql('restored', 'SELECT 1'), '1', 'other cluster: server still up');
unlike(slurp_file($other->logfile), qr/terminated by signal|TRAP:|PANIC:/,
	'other cluster: nothing crashed');

# given the original key, the other cluster reads everything
my $keycopy = "$tmp/original.key";
copy($node->data_dir . '/csms_root.key', $keycopy) or die "copy: $!";
chmod(0600, $keycopy) or die;
is(read_all($other, 'restored', "SET csms.root_key_file = '$keycopy';\n"),
	$expected_values,
	'other cluster with the original key: every version reads back');

$other->stop;
$node->stop;
done_testing();
