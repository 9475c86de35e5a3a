
# Data at rest: no secret value reaches any file of the data directory in
# plaintext, nor as UTF-16LE, hex or base64.  Every way a value enters the
# extension is exercised (secret_string, a later version, secret_binary, a
# value re-wrapped under another key, a value that was read back, a value big
# enough for TOAST, a deleted secret, an aborted transaction), then the
# cluster is checkpointed, its WAL switched, and stopped, and every byte of
# every file under the data directory (heap, indexes, WAL, everything) is
# scanned.  Control markers stored in a plain table prove the scanner finds
# what is there, in each of the encodings it looks for.

use strict;
use warnings;

# scripts/tap.sh sets PG_REGRESS=/bin/false, but Cluster->init runs
# "$PG_REGRESS --config-auth <datadir>", which is a no-op outside Windows.
BEGIN
{
	$ENV{PG_REGRESS} = '/bin/true'
	  if !defined $ENV{PG_REGRESS} || $ENV{PG_REGRESS} eq '/bin/false';
}

use File::Find;
use MIME::Base64 qw(encode_base64);
use Encode qw(encode);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my @alnum = ('A' .. 'Z', 'a' .. 'z', '0' .. '9');

sub random_alnum
{
	my ($n) = @_;
	return join '', map { $alnum[ int rand @alnum ] } 1 .. $n;
}

# A marker is 40 random alphanumerics.
sub marker { return random_alnum(40); }

# Every form of $m the scanner looks for: label => byte string.  base64 is
# taken at the three alignments a stream can put the marker at, keeping only
# the characters that depend on the marker alone.
sub forms
{
	my ($m) = @_;
	my %f = (
		raw => $m,
		utf16le => encode('UTF-16LE', $m),
		hex_lower => lc(unpack('H*', $m)),
		hex_upper => uc(unpack('H*', $m)),);
	for my $skip (0 .. 2)
	{
		my $part = substr($m, $skip);
		$part = substr($part, 0, 3 * int(length($part) / 3));
		my $b64 = encode_base64($part, '');
		$f{"base64_$skip"} = $b64;
		(my $url = $b64) =~ tr{+/}{-_};
		$f{"base64url_$skip"} = $url if $url ne $b64;
	}
	return \%f;
}

# Scan every regular file under $dir; returns { marker label =>
# [ "relative/path (form)", ... ] } and the number of files and bytes read.
sub scan_dir
{
	my ($dir, $markers) = @_;
	my %forms = map { $_ => forms($markers->{$_}) } keys %$markers;
	my %found;
	my ($nfiles, $nbytes) = (0, 0);

	find(
		{
			no_chdir => 1,
			wanted => sub {
				my $path = $File::Find::name;
				return if -l $path || !-f $path;
				open my $fh, '<:raw', $path or die "could not open $path: $!";
				local $/;
				my $data = <$fh>;
				close $fh;
				$data = '' unless defined $data;
				$nfiles++;
				$nbytes += length $data;
				(my $rel = $path) =~ s{^\Q$dir\E/?}{};
				for my $label (keys %forms)
				{
					for my $form (sort keys %{ $forms{$label} })
					{
						push @{ $found{$label} }, "$rel ($form)"
						  if index($data, $forms{$label}{$form}) >= 0;
					}
				}
			},
		},
		$dir);
	return (\%found, $nfiles, $nbytes);
}

my $node = PostgreSQL::Test::Cluster->new('at_rest');
$node->init;
$node->start;

my ($rc, $out, $err) = $node->psql('postgres', 'CREATE EXTENSION secrets');
is($rc, 0, 'CREATE EXTENSION secrets');
like($err, qr/WARNING:  generated a new root key/,
	'CREATE EXTENSION generated the root key file');

# One marker per path into the extension, so a leak says which path leaked.
my %secret = map { $_ => marker() } qw(
  string version2 binary rewrapped read_back toast_random toast_repetitive
  rotated_key deleted aborted);

# A TOAST-sized value (~30000 bytes, the limit is 32768) with the marker in
# the middle: once with random filler, once with filler that compresses well
# (so that any plaintext copy would be compressed around the marker rather
# than hidden by it).
my $toast_random =
  random_alnum(15000) . $secret{toast_random} . random_alnum(15000);
my $toast_repetitive =
  ('abcd' x 3750) . $secret{toast_repetitive} . ('abcd' x 3750);
my $binary_hex = '00ff00' . unpack('H*', $secret{binary}) . '0000';

$node->safe_psql(
	'postgres', qq{
SELECT csms_create_secret('s_string', secret_string => '$secret{string}');
SELECT csms_create_secret('s_versions', secret_string => 'first version');
SELECT csms_create_secret_version('s_versions', '$secret{version2}');
SELECT csms_create_secret('s_binary', secret_binary => '\\x$binary_hex'::bytea);
SELECT csms_create_key('other-key');
SELECT csms_create_secret('s_rewrapped', secret_string => '$secret{rewrapped}');
SELECT csms_update_secret('s_rewrapped', kms_key_id => 'other-key');
SELECT csms_create_secret('s_read', secret_string => '$secret{read_back}');
SELECT csms_create_secret('s_toast_random', secret_string => '$toast_random');
SELECT csms_create_secret('s_toast_repetitive', secret_string => '$toast_repetitive');
SELECT csms_create_key('rotated-key');
SELECT csms_rotate_key('rotated-key');
SELECT csms_create_secret('s_rotated', secret_string => '$secret{rotated_key}',
                          kms_key_id => 'rotated-key');
SELECT csms_create_secret('s_deleted', secret_string => '$secret{deleted}');
SELECT csms_delete_secret('s_deleted');
});

# an aborted transaction leaves its tuples behind (dead, but on disk)
($rc, $out, $err) = $node->psql(
	'postgres', qq{
BEGIN;
SELECT csms_create_secret('s_aborted', secret_string => '$secret{aborted}');
ROLLBACK;
});
is($rc, 0, 'aborted transaction ran');

# read everything back: reads happened, and they return the stored values
is($node->safe_psql('postgres', "SELECT csms_get_secret_value('s_string')"),
	$secret{string}, 'secret_string reads back');
is( $node->safe_psql('postgres', "SELECT csms_get_secret_value('s_versions')"),
	$secret{version2},
	'second version reads back');
is( $node->safe_psql(
		'postgres', "SELECT csms_get_secret_value('s_versions', 'v1')"),
	'first version',
	'first version reads back');
is( $node->safe_psql(
		'postgres',
		"SELECT encode(csms_get_secret_binary('s_binary'), 'hex')"),
	$binary_hex,
	'secret_binary reads back');
is( $node->safe_psql('postgres', "SELECT csms_get_secret_value('s_rewrapped')"),
	$secret{rewrapped},
	're-wrapped value reads back');
is( $node->safe_psql(
		'postgres',
		"SELECT csms_get_secret_value('s_read') = '$secret{read_back}',"
		  . " (csms_show_secret_version('s_read')).secret_string = '$secret{read_back}',"
		  . " (SELECT secret_string FROM csms_batch_get_secret_value('{s_read,s_string}')"
		  . "   WHERE secret_name = 's_read') = '$secret{read_back}'"),
	't|t|t',
	'value read back through get, show and batch get');
is( $node->safe_psql(
		'postgres', "SELECT csms_get_secret_value('s_toast_random')"),
	$toast_random,
	'TOAST-sized random value reads back');
is( $node->safe_psql(
		'postgres', "SELECT csms_get_secret_value('s_toast_repetitive')"),
	$toast_repetitive,
	'TOAST-sized compressible value reads back');
is($node->safe_psql('postgres', "SELECT csms_get_secret_value('s_rotated')"),
	$secret{rotated_key}, 'value under a rotated key reads back');
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM csms.secrets WHERE name IN ('s_deleted', 's_aborted')"
	),
	'0',
	'deleted and aborted secrets are gone');

# the big ciphertexts really are out of line (TOAST), so that path is covered
cmp_ok(
	$node->safe_psql(
		'postgres',
		"SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE oid = 'csms.versions'::regclass"
	),
	'>', 0,
	'csms.versions has data in its TOAST table');

# Controls: markers stored in a plain table, one per encoding the scanner
# looks for.  The scanner must find each of them.
my %control = map { $_ => marker() } qw(raw utf16le hex base64);
my $control_utf16_hex = unpack('H*', encode('UTF-16LE', $control{utf16le}));
my $control_hex = unpack('H*', $control{hex});
my $control_b64 = encode_base64("xy" . $control{base64}, '');
$node->safe_psql(
	'postgres', qq{
CREATE TABLE plain_control (label text, t text, b bytea);
INSERT INTO plain_control VALUES
  ('raw', '$control{raw}', NULL),
  ('utf16le', NULL, '\\x$control_utf16_hex'::bytea),
  ('hex', '$control_hex', NULL),
  ('base64', '$control_b64', NULL);
});

# make sure everything is on disk: data files and WAL, old WAL switched out
$node->safe_psql('postgres', 'CHECKPOINT');
$node->safe_psql('postgres', 'SELECT pg_switch_wal()');
$node->safe_psql('postgres', 'CHECKPOINT');
$node->stop;

my $datadir = $node->data_dir;
my $keyhex = slurp_file("$datadir/csms_root.key");
chomp $keyhex;
my ($found, $nfiles, $nbytes) = scan_dir(
	$datadir,
	{
		(map { ("secret $_" => $secret{$_}) } keys %secret),
		(map { ("control $_" => $control{$_}) } keys %control),
		'root key as hex' => $keyhex,
		'root key as bytes' => pack('H*', $keyhex),
	});
note "scanned $nfiles files, $nbytes bytes under $datadir";
cmp_ok($nfiles, '>', 100, 'the scan read the files of the data directory');

# the scanner finds what is there, in each encoding
ok((grep { /\(raw\)$/ } @{ $found->{'control raw'} // [] }),
	'scanner finds a plain-table marker as plaintext')
  or diag explain $found->{'control raw'};
ok((grep { m{^base/} } @{ $found->{'control raw'} // [] }),
	'scanner finds the plain-table marker in the heap (base/)');
ok((grep { m{^pg_wal/} } @{ $found->{'control raw'} // [] }),
	'scanner finds the plain-table marker in the WAL (pg_wal/)');
ok((grep { /\(utf16le\)$/ } @{ $found->{'control utf16le'} // [] }),
	'scanner finds a UTF-16LE marker')
  or diag explain $found->{'control utf16le'};
ok((grep { /\(hex_lower\)$/ } @{ $found->{'control hex'} // [] }),
	'scanner finds a hex-encoded marker')
  or diag explain $found->{'control hex'};
ok((grep { /\(base64_\d\)$/ } @{ $found->{'control base64'} // [] }),
	'scanner finds a base64-encoded marker at an unaligned offset')
  or diag explain $found->{'control base64'};

# no secret value, in any form, anywhere
for my $label (sort keys %secret)
{
	is_deeply($found->{"secret $label"} // [],
		[], "secret marker ($label) is in no file of the data directory");
}

# the root key is in its file and nowhere else: not in a table, not in the WAL
is_deeply(
	[ sort grep { !m{^csms_root\.key } } @{ $found->{'root key as hex'} // [] },
		@{ $found->{'root key as bytes'} // [] } ],
	[],
	'the root key (hex or raw bytes) is in no file but csms_root.key');
ok((grep { $_ eq 'csms_root.key (raw)' } @{ $found->{'root key as hex'} // [] }),
	'scanner finds the root key in csms_root.key');

# the default setup keeps the root key in the data directory, mode 0600
my $keyfile = "$datadir/csms_root.key";
ok(-f $keyfile, 'csms_root.key is in the data directory');
is(sprintf('%04o', (stat $keyfile)[2] & 07777),
	'0600', 'csms_root.key has mode 0600');
like(slurp_file($keyfile), qr/\A[0-9a-f]{64}\n\z/,
	'csms_root.key holds 64 hex characters and a newline');

done_testing();
