
# Backup blobs are standard JWE: the `jose` npm package opens the blobs the
# extension makes, and the extension restores blobs that jose makes, with
# nothing but what an operator holds (the root key file and the rows of
# csms.keys / csms.key_versions).  test/interop/jose_interop.mjs does the
# jose side: it recovers the region's backup key offline (AES-256-GCM under
# the root key, AAD "csms/cmk/v1|<key id>|<version>"), opens a blob with
# jose.compactDecrypt, and seals new blobs with jose.CompactEncrypt.
#
# Needs SECRETS_SRC (a directory holding test/interop: scripts/tap.sh
# copies t/ and test/interop/ to one the test user can read) and node;
# skipped without SECRETS_SRC.  jose comes from
# test/interop/node_modules when someone ran npm ci there, else from
# "npm ci" in a scratch copy, with its npm cache in the scratch directory.

use strict;
use warnings;

# scripts/tap.sh sets PG_REGRESS=/bin/false, but Cluster->init runs
# "$PG_REGRESS --config-auth <datadir>", which is a no-op outside Windows.
BEGIN
{
	$ENV{PG_REGRESS} = '/bin/true'
	  if !defined $ENV{PG_REGRESS} || $ENV{PG_REGRESS} eq '/bin/false';
}

use Encode qw(encode_utf8);
use File::Copy qw(copy);
use IPC::Run qw(run);
use JSON::PP;
use MIME::Base64 qw(decode_base64);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $src = $ENV{SECRETS_SRC};
if (!defined $src || $src eq '')
{
	plan skip_all =>
	  'SECRETS_SRC is not set (the checkout holding test/interop)';
}
my $interop_src = "$src/test/interop";
die "SECRETS_SRC=$src has no test/interop/jose_interop.mjs"
  unless -f "$interop_src/jose_interop.mjs";

my $scratch = PostgreSQL::Test::Utils::tempdir;

# jose: the checkout's node_modules, else npm ci in a scratch copy
my $interop;
if (-f "$interop_src/node_modules/jose/package.json")
{
	$interop = $interop_src;
}
else
{
	$interop = "$scratch/interop";
	mkdir $interop or die "mkdir $interop: $!";
	for my $f (qw(package.json package-lock.json jose_interop.mjs))
	{
		copy("$interop_src/$f", "$interop/$f")
		  or die "copy $interop_src/$f: $!";
	}
	local $ENV{npm_config_cache} = "$scratch/npm-cache";
	local $ENV{npm_config_update_notifier} = 'false';
	local $ENV{npm_config_fund} = 'false';
	local $ENV{npm_config_audit} = 'false';
	my ($out, $err) = ('', '');
	my $ok = run [ 'npm', 'ci', '--silent', '--prefix', $interop ],
	  '<', \undef, '>', \$out, '2>', \$err;
	die "npm ci in $interop failed:\n$out$err" unless $ok;
}
ok(-f "$interop/node_modules/jose/package.json", 'jose is installed');

my $script = "$interop/jose_interop.mjs";
my $nfile = 0;

# Run the script; returns the decoded JSON it prints, or undef and its
# stderr (through $$err) when it fails.
sub jose
{
	my ($args, $err) = @_;
	my ($out, $stderr) = ('', '');
	my $ok = run [ 'node', $script, @$args ], '<', \undef, '>', \$out,
	  '2>', \$stderr;
	$$err = $stderr if $err;
	if (!$ok)
	{
		diag("node jose_interop.mjs @$args[0] failed: $stderr");
		return undef;
	}
	return JSON::PP->new->utf8->decode($out);
}

sub write_file
{
	my ($content) = @_;
	my $path = "$scratch/file" . $nfile++;
	open my $fh, '>:raw', $path or die "open $path: $!";
	print $fh $content;
	close $fh;
	return $path;
}

sub hex_of { return unpack('H*', $_[0]); }

my $node = PostgreSQL::Test::Cluster->new('interop');
$node->init(extra => [ '--encoding=UTF8', '--locale=C' ]);
$node->start;

my ($rc, $out, $err) = $node->psql('postgres', 'CREATE EXTENSION secrets');
is($rc, 0, 'CREATE EXTENSION secrets');

sub query { return $node->safe_psql('postgres', $_[0]); }

# The error of a statement, with its SQLSTATE ("ERROR:  22023: ...").
sub sql_error
{
	my ($sql) = @_;
	my ($rc, $out, $err) =
	  $node->psql('postgres', "\\set VERBOSITY verbose\n$sql");
	return $rc == 0 ? "(no error; output: $out)" : $err;
}

# A secret with every kind of value: a string with non-ASCII characters,
# quotes and a backslash; a binary value with zero bytes; a custom stage; an
# expire time; tags; a master key of its own.  (This file is UTF-8 and is
# read without "use utf8": strings below are UTF-8 bytes, as psql sees them.)
my $v1 = qq{Grüße, "double" 'single' — 日本語 \\ back\\slash 🔑};
my $v2_hex = '0000ff00010200c328000000';
my $v3 = 'third: ça va';
my $description = qq{Interop «test» "quoted" 'single' ✓};
my %tags = (env => 'prod', 'équipe' => 'sécurité', 'a.b:c' => 'x/y');
my $tags_json = JSON::PP->new->utf8->canonical->encode(
	{ map { Encode::decode_utf8($_) => Encode::decode_utf8($tags{$_}) }
		  keys %tags });

query(qq{
SELECT csms_create_key('app-key');
SELECT csms_create_secret('interop', secret_string => \$v\$$v1\$v\$,
    kms_key_id => 'app-key', description => \$d\$$description\$d\$,
    tags => \$t\$$tags_json\$t\$::jsonb);
SELECT csms_create_secret_version('interop', secret_binary => '\\x$v2_hex'::bytea,
    version_stages => '{blue}', expire_time => '2031-05-06 07:08:09.123456+00');
SELECT csms_create_secret_version('interop', \$v\$$v3\$v\$);
});

# What the operator holds: the account row, the backup key rows, the root key
my ($domain_id, $home_region, $project_id) =
  split /\|/, query('SELECT domain_id, home_region, home_project_id FROM csms.account');
my $blob = query("SELECT csms_backup_secret('interop')");
like($blob, qr/^\)CloudSecretManagementBackupV1\.com[A-Za-z0-9_.-]+$/,
	'csms_backup_secret returns a prefixed JWE compact serialization');
my ($kid, $kversion, $material) = split /\|/, query(
	"SELECT k.id, k.current_version, encode(v.material, 'hex')"
	  . ' FROM csms.keys k JOIN csms.key_versions v'
	  . ' ON v.key_id = k.id AND v.version = k.current_version'
	  . " WHERE k.purpose = 'backup' AND k.region = '$home_region'");
like($kid, qr/^[0-9a-f-]{36}$/, 'the region has a backup key');
my @key_args = (
	'--root-key-file' => $node->data_dir . '/csms_root.key',
	'--key-id' => $kid,
	'--key-version' => $kversion,
	'--material' => $material);

# (b) jose opens the extension's blob ---------------------------------------
my $opened = jose([ 'open', @key_args, '--blob-file' => write_file($blob) ]);
ok(defined $opened, 'jose.compactDecrypt opens the blob with the backup key recovered offline');
$opened //= { protectedHeader => {}, payload => { secret => {}, versions => [] }, values_hex => {} };
my $p = $opened->{payload};
my $s = $p->{secret};

is_deeply(
	$opened->{protectedHeader},
	{ alg => 'A256KW', enc => 'A256GCM', kid => $kid },
	'protected header: A256KW, A256GCM, kid = the backup key id');
is($p->{format}, 1, 'payload format 1');
is_deeply(
	[ $p->{domain_id}, $p->{region}, $p->{project_id} ],
	[ $domain_id, $home_region, $project_id ],
	'payload domain_id, region and project_id are the account\'s');

my $row = query(
	"SELECT s.id, s.name, encode(convert_to(s.description, 'UTF8'), 'hex'),"
	  . " k.id, s.last_version, s.secret_type, s.enterprise_project_id, s.state"
	  . " FROM csms.secrets s JOIN csms.keys k ON k.id = s.kms_key_id"
	  . " WHERE s.name = 'interop' AND k.alias = 'app-key'");
is( join('|',
		$s->{id} // '', $s->{name} // '',
		hex_of(encode_utf8($s->{description} // '')),
		$s->{kms_key_id} // '', $s->{last_version} // '',
		$s->{secret_type} // '', $s->{enterprise_project_id} // '',
		$s->{state} // ''),
	$row,
	'payload secret: id, name, description, kms_key_id (app-key), last_version, type, enterprise project, state'
);
is( query(
		"SELECT create_time = '$s->{create_time}'::timestamptz"
		  . " AND update_time = '$s->{update_time}'::timestamptz"
		  . " FROM csms.secrets WHERE name = 'interop'"),
	't',
	'payload secret create_time and update_time are the stored times');
is_deeply(
	{ map { encode_utf8($_) => encode_utf8($p->{tags}{$_}) } keys %{ $p->{tags} || {} } },
	\%tags, 'payload tags are the stored tags');

is_deeply([ map { $_->{id} } @{ $p->{versions} } ],
	[qw(v1 v2 v3)], 'payload holds versions v1, v2, v3 in order');
my %pv = map { $_->{id} => $_ } @{ $p->{versions} };
is_deeply(
	{ map { $_ => join(',', @{ $pv{$_}{stages} || [] }) } keys %pv },
	{ v1 => 'SYSPREVIOUS', v2 => 'blue', v3 => 'SYSCURRENT' },
	'payload stages per version');
is($pv{v1}{secret_string} // '', Encode::decode_utf8($v1),
	'v1: secret_string with non-ASCII characters, quotes and backslashes');
ok(!exists $pv{v1}{secret_binary}, 'v1 has no secret_binary');
is(hex_of(decode_base64($pv{v2}{secret_binary} // '')),
	$v2_hex, 'v2: secret_binary (standard base64) holds the zero bytes');
like($pv{v2}{secret_binary} // '', qr{^[A-Za-z0-9+/]+=*$},
	'v2: secret_binary is standard base64');
ok(!exists $pv{v2}{secret_string}, 'v2 has no secret_string');
is($pv{v3}{secret_string} // '', Encode::decode_utf8($v3), 'v3: secret_string');
is_deeply(
	$opened->{values_hex},
	{
		v1 => hex_of($v1),
		v2 => $v2_hex,
		v3 => hex_of($v3)
	},
	'value bytes as jose decoded them');
is( query(
		"SELECT encode(convert_to(csms_get_secret_value('interop', 'v1'), 'UTF8'), 'hex'),"
		  . " encode(csms_get_secret_binary('interop', 'v2'), 'hex'),"
		  . " encode(convert_to(csms_get_secret_value('interop', 'v3'), 'UTF8'), 'hex')"),
	join('|', map { $opened->{values_hex}{$_} // '' } qw(v1 v2 v3)),
	'the values in the blob equal the values the extension returns');
my $time_checks = join(
	' AND ',
	map {
		my $e = $pv{$_}{expire_time};
		"(SELECT create_time = '$pv{$_}{create_time}'::timestamptz AND "
		  . (
			defined $e
			? "expire_time = '$e'::timestamptz"
			: 'expire_time IS NULL')
		  . " FROM csms_list_secret_versions('interop') WHERE id = '$_')"
	} qw(v1 v2 v3));
is(query("SELECT $time_checks"), 't',
	'payload version create_time and expire_time are the stored times');
ok(defined $pv{v2}{expire_time}, 'v2 carries its expire_time');

# (c) jose seals a new blob, the extension restores it ------------------------
my $app_key_id = query(
	"SELECT id FROM csms.keys WHERE alias = 'app-key' AND region = '$home_region'");
my @new_args = (
	@key_args,
	'--domain-id' => $domain_id,
	'--region' => $home_region,
	'--project-id' => $project_id,
	'--kms-key-id' => $app_key_id);

my $sealed = jose([ 'seal-new', @new_args, '--name' => 'from-jose' ]);
ok(defined $sealed, 'jose.CompactEncrypt seals a new blob for the backup key');
$sealed //= { blob => '', payload => { secret => {}, versions => [] }, values_hex => {} };
my $np = $sealed->{payload};
my %npv = map { $_->{id} => $_ } @{ $np->{versions} };
is(query("SELECT count(*) FROM csms.secrets WHERE id = '$np->{secret}{id}'"),
	'0', 'the sealed secret does not exist yet');

($rc, $out, $err) = $node->psql('postgres',
	"SELECT id, name, state, kms_key_id FROM csms_restore('$sealed->{blob}')");
is($rc, 0, 'csms_restore accepts the blob sealed by jose') or diag($err);
is($out, "$np->{secret}{id}|from-jose|ENABLED|$app_key_id",
	'csms_restore returns the secret with the id and name jose sealed');

is( query(
		"SELECT encode(csms_get_secret_binary('from-jose', 'v1'), 'hex'),"
		  . " encode(convert_to(csms_get_secret_value('from-jose', 'v2'), 'UTF8'), 'hex'),"
		  . " encode(convert_to(csms_get_secret_value('from-jose'), 'UTF8'), 'hex')"),
	join('|',
		$sealed->{values_hex}{v1} // 'none',
		$sealed->{values_hex}{v2} // 'none',
		$sealed->{values_hex}{v2} // 'none'),
	'csms_get_secret_binary / csms_get_secret_value return exactly the jose-side values (latest = v2)');
like($sealed->{values_hex}{v1} // '', qr/^0000.*00$/,
	'the jose-side binary value has zero bytes');
is(hex_of(decode_base64($npv{v1}{secret_binary} // '')),
	$sealed->{values_hex}{v1} // 'none',
	'the jose-side binary value is the base64 in the payload');
is(
	query(
		"SELECT encode(convert_to(csms_get_secret_value('from-jose', 'v2'), 'UTF8'), 'hex')"
		  . " = encode(convert_to(\$v\$"
		  . encode_utf8($npv{v2}{secret_string} // '')
		  . "\$v\$, 'UTF8'), 'hex')"),
	't',
	'the string value is the jose-side string (non-ASCII, quotes, backslash)');
like(
	sql_error("SELECT csms_get_secret_value('from-jose', 'v1')"),
	qr/holds a secret_binary/,
	'v1 is restored as a binary value');

my @vrows = split /\n/, query(
	"SELECT id, array_to_string(version_stages, ','), create_time = x.c, expire_time IS NOT DISTINCT FROM x.e"
	  . " FROM csms_list_secret_versions('from-jose')"
	  . " JOIN (VALUES ('v1', '$npv{v1}{create_time}'::timestamptz, "
	  . (defined $npv{v1}{expire_time} ? "'$npv{v1}{expire_time}'" : 'NULL')
	  . "::timestamptz), ('v2', '$npv{v2}{create_time}'::timestamptz, "
	  . (defined $npv{v2}{expire_time} ? "'$npv{v2}{expire_time}'" : 'NULL')
	  . "::timestamptz)) x(i, c, e) ON x.i = id ORDER BY id");
is_deeply(
	\@vrows,
	[
		'v1|' . join(',', sort @{ $npv{v1}{stages} || [] }) . '|t|t',
		'v2|' . join(',', sort @{ $npv{v2}{stages} || [] }) . '|t|t'
	],
	'versions v1 and v2 with the stages, create_time and expire_time jose sealed');
is( query(
		"SELECT version_id FROM csms_show_secret_stage('from-jose', 'jose-stage')"),
	'v1', 'the custom stage names v1');

my $srow = query(
	"SELECT encode(convert_to(description, 'UTF8'), 'hex'), create_time = '$np->{secret}{create_time}'::timestamptz,"
	  . " update_time = '$np->{secret}{update_time}'::timestamptz, secret_type, enterprise_project_id, auto_rotation"
	  . " FROM csms_show_secret('from-jose')");
is( $srow,
	hex_of(encode_utf8($np->{secret}{description} // '')) . '|t|t|COMMON|0|f',
	'description, create_time, update_time and the other metadata as jose sealed');
is_deeply(
	{
		map { split /\t/, $_, 2 } split /\n/,
		query(
			"SELECT key || E'\\t' || value FROM csms.tags t JOIN csms.secrets s ON s.id = t.secret_id"
			  . " WHERE s.name = 'from-jose'")
	},
	{ map { encode_utf8($_) => encode_utf8($np->{tags}{$_}) } keys %{ $np->{tags} || {} } },
	'tags as jose sealed');

# the restored secret round-trips: its backup opens with jose again
my $again = jose([
		'open', @key_args,
		'--blob-file' => write_file(query("SELECT csms_backup_secret('from-jose')"))
]);
is_deeply($again && $again->{values_hex}, $sealed->{values_hex},
	'the backup of the restored secret opens with jose and holds the same values');

# jose re-seals an edited payload of the extension: a copy under a new name
{
	my %copy = %$p;
	$copy{secret} = { %{ $p->{secret} }, name => 'interop-copy',
		id => query('SELECT gen_random_uuid()') };
	my $resealed = jose([
			'seal', @key_args,
			'--payload-file' =>
			  write_file(JSON::PP->new->utf8->canonical->encode(\%copy))
	]);
	ok(defined $resealed, 'jose re-seals an edited payload of the extension');
	($rc, $out, $err) = $node->psql('postgres',
		"SELECT name FROM csms_restore('" . ($resealed ? $resealed->{blob} : '') . "')");
	is($out, 'interop-copy', 'the re-sealed copy restores under its new name')
	  or diag($err);
	is( query(
			"SELECT encode(convert_to(csms_get_secret_value('interop-copy', 'v1'), 'UTF8'), 'hex'),"
			  . " encode(csms_get_secret_binary('interop-copy', 'v2'), 'hex'),"
			  . " encode(convert_to(csms_get_secret_value('interop-copy'), 'UTF8'), 'hex'),"
			  . " (SELECT string_agg(id || ':' || array_to_string(version_stages, ','), ' ' ORDER BY id)"
			  . "    FROM csms_list_secret_versions('interop-copy'))"),
		join('|', hex_of($v1), $v2_hex, hex_of($v3), 'v1:SYSPREVIOUS v2:blue v3:SYSCURRENT'),
		'the copy holds the original values and stages');
}

like(
	sql_error("SELECT csms_restore('$sealed->{blob}')"),
	qr/ERROR:  42710: secret "from-jose" already exists in region "local"/,
	'restoring the jose blob again: the name is taken');

# Blobs the extension must refuse --------------------------------------------
sub refused
{
	my ($variant, $name, $re, $what, @more) = @_;
	my $b = jose([ 'seal-new', @new_args, @more, '--name' => $name, '--variant' => $variant ]);
	ok(defined $b, "jose seals blob $name");
	my $e = sql_error("SELECT csms_restore('" . ($b ? $b->{blob} : '') . "')");
	like($e, $re, $what);
	is(query("SELECT count(*) FROM csms.secrets WHERE name = '$name'"),
		'0', "$name: nothing restored");
}

refused('random-key', 'neg-random-key',
	qr/ERROR:  22023: backup blob failed authentication/,
	'kid of the backup key, but another key: authentication failure');
refused('foreign', 'neg-foreign',
	qr/ERROR:  22023: backup blob was not made by this account/,
	'a random kid and key: not made by this account');
refused('a128gcm', 'neg-a128gcm',
	qr/ERROR:  22023: invalid backup blob\nDETAIL:  .*"enc"/,
	'enc A128GCM is refused as an invalid backup blob');
refused('dir', 'neg-dir',
	qr/ERROR:  22023: invalid backup blob\nDETAIL:  .*"alg"/,
	'alg dir is refused as an invalid backup blob');

# right key, but the payload says another account or another region
refused('ok', 'neg-account',
	qr/ERROR:  22023: backup blob was not made by this account/,
	'payload domain_id of another account: not made by this account',
	'--domain-id' => 'f' x 32);
refused('ok', 'neg-region',
	qr/ERROR:  22023: backup blob was made in region "eu-west-x", not in region "local"/,
	'payload of another region (sealed with this region\'s key): refused naming both regions',
	'--region' => 'eu-west-x');

# right key, but a payload that is not the JSON the extension writes: each a
# clear 22023, nothing restored
{
	my $json = JSON::PP->new->utf8->canonical;
	my $with = sub {
		my (%over) = @_;
		my %copy = %$p;
		$copy{secret} = { %{ $p->{secret} }, name => 'neg-payload',
			id => query('SELECT gen_random_uuid()') };
		for my $k (keys %over) { $copy{$k} = $over{$k}; }
		return $json->encode(\%copy);
	};
	my @v = @{ $p->{versions} };
	my %bad = (
		'not JSON at all' => 'this is not json',
		'a JSON array' => '[1, 2, 3]',
		'an empty object' => '{}',
		'JSON with trailing garbage' => $with->() . 'x',
		'a duplicate member' => '{"format": 1, "format": 1}',
		'format 2' => $with->(format => 2),
		'no versions' => $with->(versions => []),
		'versions not an array' => $with->(versions => 'v1'),
		'a version id that is not vN' => $with->(versions => [ { %{ $v[0] }, id => 'x1' } ]),
		'a version with both values' => $with->(versions => [ { %{ $v[0] }, secret_string => 'a', secret_binary => 'AA==' } ]),
		'a version with no value' => $with->(versions => [ { map { $_ => $v[0]{$_} } grep { !/^secret_/ } keys %{ $v[0] } } ]),
		'secret_binary that is not base64' => $with->(versions => [ { (map { $_ => $v[0]{$_} } grep { !/^secret_/ } keys %{ $v[0] }), secret_binary => '!!!' } ]),
		'a stage on two versions' => $with->(versions => [ { %{ $v[0] }, stages => ['SYSCURRENT'] }, { %{ $v[1] }, stages => ['SYSCURRENT'] } ]),
		'a time that is not a time' => $with->(versions => [ { %{ $v[0] }, create_time => 'yesterday-ish' } ]),
		'a secret name that is not valid' => do { my %c = %$p; $c{secret} = { %{ $p->{secret} }, name => 'bad name' }; $json->encode(\%c) },
		'a string value holding \\u0000' => $with->(versions => [ { (map { $_ => $v[0]{$_} } grep { !/^secret_/ } keys %{ $v[0] }), secret_string => "a\x{0}b" } ]),
	);
	for my $what (sort keys %bad)
	{
		my $b = jose([ 'seal', @key_args, '--payload-file' => write_file($bad{$what}) ]);
		ok(defined $b, "jose seals a payload with $what");
		my $e = sql_error("SELECT csms_restore('" . ($b ? $b->{blob} : '') . "')");
		like($e, qr/ERROR:  22023: (invalid backup blob|invalid secret name|invalid version id)/, "payload with $what: 22023")
		  or diag($e);
		is(query("SELECT count(*) FROM csms.secrets WHERE name = 'neg-payload'"),
			'0', "payload with $what: nothing restored");
	}
	# too many versions is a limit
	my @many = map { { %{ $v[0] }, id => "v$_", stages => [] } } 1 .. 21;
	my %c = %$p;
	$c{secret} = { %{ $p->{secret} }, name => 'neg-payload', last_version => 21,
		id => query('SELECT gen_random_uuid()') };
	$c{versions} = \@many;
	my $b = jose([ 'seal', @key_args, '--payload-file' => write_file($json->encode(\%c)) ]);
	like(sql_error("SELECT csms_restore('" . ($b ? $b->{blob} : '') . "')"),
		qr/ERROR:  54000: backup blob holds more than 20 versions/,
		'a payload with 21 versions: 54000');
}

# a master key (CMK) is no backup key, even with its true material: a blob
# sealed with app-key (kid = its id) is not one of this account's blobs
{
	my $cmk_material = query(
		"SELECT encode(material, 'hex') FROM csms.key_versions"
		  . " WHERE key_id = '$app_key_id' AND version = 1");
	my $b = jose([
			'seal-new', @new_args,
			'--key-id' => $app_key_id,
			'--key-version' => 1,
			'--material' => $cmk_material,
			'--name' => 'neg-cmk'
	]);
	ok(defined $b, 'jose seals a blob with the master key app-key');
	like(
		sql_error("SELECT csms_restore('" . ($b ? $b->{blob} : '') . "')"),
		qr/ERROR:  22023: backup blob was not made by this account/,
		'a blob sealed with a master key instead of the backup key: not made by this account');
	is(query("SELECT count(*) FROM csms.secrets WHERE name = 'neg-cmk'"),
		'0', 'neg-cmk: nothing restored');
}

is(query('SELECT 1'), '1', 'the server is still up');

$node->stop;
done_testing();
