
# Offline recovery, as README.md ("Storage and encryption format") describes
# it: with the root key file and the rows of csms.account, csms.key_versions,
# csms.versions and csms.secrets only, test/interop/offline_open.mjs (node's
# own AES-256-GCM, no npm package) opens every version of secrets in the home
# region and in a replica's region, and the SYSCURRENT copy on the secret's
# row.  This pins the storage format: AADs, layout, kind byte.
#
# Needs SECRETS_SRC (a directory holding test/interop, see scripts/tap.sh)
# and node; skipped without them.

use strict;
use warnings;

BEGIN
{
	$ENV{PG_REGRESS} = '/bin/true'
	  if !defined $ENV{PG_REGRESS} || $ENV{PG_REGRESS} eq '/bin/false';
}

use IPC::Run qw(run);
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $src = $ENV{SECRETS_SRC};
plan skip_all => 'SECRETS_SRC is not set (the checkout holding test/interop)'
  if !defined $src || $src eq '';
my $script = "$src/test/interop/offline_open.mjs";
die "SECRETS_SRC=$src has no $script" unless -f $script;
plan skip_all => 'node is not installed'
  unless run [ 'node', '--version' ], '>', \my $ignored;

my $node = PostgreSQL::Test::Cluster->new('offline');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->start;
sub query { return $node->safe_psql('postgres', $_[0]); }

query('CREATE EXTENSION secrets');
query(q{
SELECT csms_create_region('eu-west-y');
SELECT csms_create_key('app-key');
SELECT csms_create_secret('off', secret_string => 'first value: ça va');
SELECT csms_create_secret_version('off', secret_binary => '\x00ff0001c328'::bytea);
SELECT csms_create_secret_version('off', secret_string => 'third', version_stages => '{QA}');
SELECT csms_create_secret('own-key', secret_string => 'under app-key', kms_key_id => 'app-key');
SELECT csms_create_replica('off', 'eu-west-y');
});

my $root = slurp_file($node->data_dir . '/csms_root.key');
chomp $root;
my $domain = query('SELECT domain_id FROM csms.account');

# Open one version with offline_open.mjs from a row of the query columns
# below (region, secret id, version, key id, key version, sealed material,
# wrapped data key, ciphertext), the region replaced when $region is given.
# Returns "kind|value hex", or undef with the script's stderr in $$err.
sub offline_open
{
	my ($line, $region, $err) = @_;
	my (undef, undef, $id, $version, $key_id, $key_version, $material,
		$wrapped, $ct) = split /\|/, $line;
	$region //= (split /\|/, $line)[0];
	my ($out, $stderr) = ('', '');
	my $in = JSON::PP->new->canonical->encode({ root_key_hex => $root,
		domain_id => $domain, region => $region, secret_id => $id,
		version => $version, key_id => $key_id, key_version => $key_version,
		material_hex => $material, wrapped_dek_hex => $wrapped,
		ciphertext_hex => $ct });
	if (!run [ 'node', $script ], '<', \$in, '>', \$out, '2>', \$stderr)
	{
		$$err = $stderr if $err;
		return undef;
	}
	my $res = JSON::PP->new->decode($out);
	return "$res->{kind}|$res->{value_hex}";
}

# The value the API gives for secret $name, version $version_id, in $region,
# in the form offline_open returns.
sub api_value
{
	my ($region, $name, $version_id) = @_;
	return $node->safe_psql('postgres', qq{
SET csms.region = '$region';
SELECT CASE WHEN secret_string IS NOT NULL THEN 's' ELSE 'b' END || '|' ||
       encode(coalesce(convert_to(secret_string, 'UTF8'), secret_binary), 'hex')
  FROM csms_show_secret_version('$name', '$version_id')});
}

# Every version of every secret, from csms.versions.
my $rows = query(q{
SELECT s.region, s.name, s.id, v.version, v.key_id, v.key_version,
       encode(kv.material, 'hex'), encode(v.wrapped_dek, 'hex'),
       encode(v.ciphertext, 'hex')
  FROM csms.secrets s JOIN csms.versions v ON v.secret_id = s.id
  JOIN csms.key_versions kv ON kv.key_id = v.key_id AND kv.version = v.key_version
 ORDER BY s.region, s.name, v.version});
my $n = 0;
for my $line (split /\n/, $rows)
{
	my ($region, $name, undef, $version) = split /\|/, $line;
	my $err;
	is(offline_open($line, undef, \$err) // "FAILED: $err",
		api_value($region, $name, "v$version"),
		"offline open of $region/$name v$version");
	$n++;
}
is($n, 7, 'three versions of "off" in each of two regions, one of "own-key"')
  or diag($rows);

# The copy of SYSCURRENT on the secret's row opens the same way.
for my $line (split /\n/, query(q{
SELECT s.region, s.name, s.id, s.current_version, s.current_key_id,
       s.current_key_version, encode(kv.material, 'hex'),
       encode(s.current_wrapped_dek, 'hex'), encode(s.current_ciphertext, 'hex')
  FROM csms.secrets s JOIN csms.key_versions kv
    ON kv.key_id = s.current_key_id AND kv.version = s.current_key_version
 ORDER BY s.region, s.name}))
{
	my ($region, $name) = split /\|/, $line;
	my $err;
	is(offline_open($line, undef, \$err) // "FAILED: $err",
		api_value($region, $name, 'latest'),
		"offline open of the SYSCURRENT copy of $region/$name");
}

# A wrong AAD part fails: the region is bound into the value's AAD.
{
	my ($line) = grep { /^eu-west-y\|off\|[^|]*\|1\|/ } split /\n/, $rows;
	my $err = '';
	ok(!defined offline_open($line, query('SELECT home_region FROM csms.account'), \$err),
		'the replica\'s value does not open under the home region\'s AAD');
	like($err, qr/value: authentication failed/, '... the value fails, not the keys');
}

$node->stop;
done_testing();
