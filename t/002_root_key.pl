
# The root key: the generated default key file, its fingerprint, moving it
# out of the data directory (csms.root_key_file, csms.root_key_command and
# their precedence), and every way the key can be wrong, missing or
# unreadable: each is one clear error, the functions that do not need the key
# keep working, and the server stays up.  A restart with the right key reads
# everything again.

use strict;
use warnings;

# scripts/tap.sh sets PG_REGRESS=/bin/false, but Cluster->init runs
# "$PG_REGRESS --config-auth <datadir>", which is a no-op outside Windows.
BEGIN
{
	$ENV{PG_REGRESS} = '/bin/true'
	  if !defined $ENV{PG_REGRESS} || $ENV{PG_REGRESS} eq '/bin/false';
}

use Digest::SHA qw(hmac_sha256_hex);
use File::Copy qw(copy);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('root_key');
$node->init;
$node->start;

my $datadir = $node->data_dir;
my $default_keyfile = "$datadir/csms_root.key";
my $tmp = PostgreSQL::Test::Utils::tempdir;

sub write_file
{
	my ($path, $content, $mode) = @_;
	open my $fh, '>:raw', $path or die "could not write $path: $!";
	print $fh $content;
	close $fh;
	chmod($mode, $path) or die "could not chmod $path: $!";
	return;
}

sub fingerprint_of
{
	my ($hexkey) = @_;
	my $mac = hmac_sha256_hex('csms/root-key-check/v1', pack('H*', $hexkey));
	return join '-', unpack('(A4)4', substr($mac, 0, 16));
}

# Run SQL in one session with ON_ERROR_STOP off and verbose errors (SQLSTATE
# in the message line); returns (stdout, stderr).
sub run_sql
{
	my ($sql, %opts) = @_;
	my ($rc, $out, $err) = $node->psql(
		$opts{db} // 'postgres', $sql,
		on_error_stop => 0,
		extra_params => [ '-v', 'VERBOSITY=verbose', @{ $opts{extra} // [] } ]
	);
	return ($out, $err);
}

# One statement that must fail with $sqlstate and a message matching $msg.
sub fails_with
{
	my ($sql, $sqlstate, $msg, $name, %opts) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my ($out, $err) = run_sql($sql, %opts);
	like($err, qr/ERROR:  \Q$sqlstate\E: $msg/, $name);
	return $err;
}

# The server is still up and nothing crashed: a new session works and the
# log shows no backend that died.
sub server_alive
{
	my ($name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	is($node->safe_psql('postgres', 'SELECT 1'), '1', "$name: new session works");
	my $log = slurp_file($node->logfile);
	unlike(
		$log,
		qr/terminated by signal|was terminated by exception|server process .* exited with|TRAP:|PANIC:|terminating any other active server processes/,
		"$name: no crash in the server log");
	return;
}

# Set the key settings in postgresql.conf, reload, and wait until new
# sessions see them (pg_ctl reload only signals the postmaster).
sub set_key_conf
{
	my ($file, $command) = @_;
	$node->append_conf('postgresql.conf',
		"csms.root_key_file = '$file'\ncsms.root_key_command = '$command'");
	$node->reload;
	$node->poll_query_until('postgres',
		"SELECT current_setting('csms.root_key_file', true) = '$file'"
		  . " AND coalesce(current_setting('csms.root_key_command', true), '') = '$command'")
	  or die 'the reloaded settings did not take effect';
	return;
}

# --- the default setup ---------------------------------------------------

my ($rc, $out, $err) = $node->psql('postgres', 'CREATE EXTENSION secrets');
is($rc, 0, 'CREATE EXTENSION secrets');
like(
	$err,
	qr/WARNING:  generated a new root key in file "\Q$default_keyfile\E"\n/,
	'CREATE EXTENSION warns that it generated the root key file, naming it');
like(
	$err,
	qr/DETAIL:  The root key protects every secret of this database: without it the secrets are lost, and anyone holding it and a copy of the data can read them\./,
	'the warning has a DETAIL about the key');
like(
	$err,
	qr/HINT:  Back up this file apart from the database and its backups, then move it out of the data directory and point csms\.root_key_file \(or csms\.root_key_command\) at it\./,
	'the warning has a HINT about backing up and moving the key');

ok(-f $default_keyfile, 'csms_root.key exists in the data directory');
is(sprintf('%04o', (stat $default_keyfile)[2] & 07777),
	'0600', 'csms_root.key has mode 0600');
my $keyhex = slurp_file($default_keyfile);
like($keyhex, qr/\A[0-9a-f]{64}\n\z/,
	'csms_root.key holds 64 lower-case hex characters and a newline');
chomp $keyhex;

my $fingerprint = $node->safe_psql('postgres', 'SELECT csms_root_key_fingerprint()');
like($fingerprint, qr/\A[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}\z/,
	'fingerprint has the form xxxx-xxxx-xxxx-xxxx');
is($fingerprint, fingerprint_of($keyhex),
	'fingerprint is the first 8 bytes of HMAC-SHA-256(root key, "csms/root-key-check/v1")');
is( $node->safe_psql(
		'postgres',
		"SELECT encode(root_check, 'hex') FROM csms.account"),
	hmac_sha256_hex('csms/root-key-check/v1', pack('H*', $keyhex)),
	'the stored check value is HMAC-SHA-256 of the label under the key');

# a second database reuses the key file, silently
$node->safe_psql('postgres', 'CREATE DATABASE second');
($rc, $out, $err) = $node->psql('second', 'CREATE EXTENSION secrets');
is($rc, 0, 'CREATE EXTENSION in a second database');
is($err, '', 'an existing key file is reused without a warning');
is($node->safe_psql('second', 'SELECT csms_root_key_fingerprint()'),
	$fingerprint, 'the second database has the same fingerprint');
is(slurp_file($default_keyfile), "$keyhex\n", 'the key file was not rewritten');

# secrets to read throughout
my %orig = (
	db_v1 => 'first-password-Zq81',
	db_v2 => 'second-password-Xk42',
	bin => '00ff00c0ffee00',);
$node->safe_psql(
	'postgres', qq{
SELECT csms_create_secret('db', secret_string => '$orig{db_v1}');
SELECT csms_create_secret_version('db', '$orig{db_v2}');
SELECT csms_create_secret('bin', secret_binary => '\\x$orig{bin}'::bytea);
SELECT csms_create_key('app-key');
SELECT csms_create_secret('keyed', secret_string => 'under app-key', kms_key_id => 'app-key');
});

my $read_all_sql = q{
SELECT csms_get_secret_value('db', 'v1') || '|' || csms_get_secret_value('db')
       || '|' || encode(csms_get_secret_binary('bin'), 'hex')
       || '|' || csms_get_secret_value('keyed');
};
my $expected_all = "$orig{db_v1}|$orig{db_v2}|$orig{bin}|under app-key";

sub reads_all
{
	my ($name, %opts) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my ($o, $e) = run_sql(($opts{prefix} // '') . $read_all_sql, %opts);
	is($o, $expected_all, "$name: every value reads back");
	is($e, '', "$name: no error");
	return;
}

reads_all('default key file');

# --- moving the key out of the data directory -----------------------------

my $outside = "$tmp/root.key";
copy($default_keyfile, $outside) or die "copy failed: $!";
chmod(0600, $outside) or die;
unlink($default_keyfile) or die "could not remove $default_keyfile: $!";
ok(!-e $default_keyfile, 'csms_root.key removed from the data directory');

set_key_conf($outside, '');
reads_all('csms.root_key_file after reload');

$node->restart;
reads_all('csms.root_key_file after restart');
is($node->safe_psql('postgres', 'SELECT csms_root_key_fingerprint()'),
	$fingerprint, 'fingerprint unchanged after moving the key');

# a read-only key file (0400) is fine
chmod(0400, $outside) or die;
reads_all('key file with mode 0400', prefix => "SET csms.root_key_file = '$outside';");
chmod(0600, $outside) or die;

# another valid key
my $wronghex = join '', map { sprintf '%02x', int rand 256 } 1 .. 32;
my $wrongfile = "$tmp/wrong.key";
write_file($wrongfile, "$wronghex\n", 0600);
isnt(fingerprint_of($wronghex), $fingerprint, 'the other key has another fingerprint');

# csms.root_key_command works, and takes precedence over csms.root_key_file
set_key_conf($wrongfile, "cat $outside");
reads_all('csms.root_key_command (with a wrong csms.root_key_file)');

my $cmd_err = fails_with(
	"SET csms.root_key_command = 'cat $wrongfile'; SELECT csms_get_secret_value('db');",
	'XX001', 'root key does not match this database',
	'a command that prints another key: no match');
like($cmd_err, qr/DETAIL:  The root key was read from csms\.root_key_command;/,
	'the error says the key came from csms.root_key_command');

# without the command, the (wrong) file is used: the command had precedence
my $file_err = fails_with(
	"SET csms.root_key_command = ''; SELECT csms_get_secret_value('db');",
	'XX001', 'root key does not match this database',
	'without the command, csms.root_key_file (wrong) is used');
like($file_err, qr/DETAIL:  The root key was read from file "\Q$wrongfile\E" \(csms\.root_key_file\);/,
	'the error names the key file');

# back to the right file, no command
set_key_conf($outside, '');
reads_all('back to the right csms.root_key_file');

# an open session drops its cached key when a reload changes the setting
my $bg = $node->background_psql('postgres', on_error_stop => 0);
is($bg->query("SELECT csms_get_secret_value('db')"),
	$orig{db_v2}, 'open session reads with the right key');

# Run $sql in the open session until its result matches $want (the session
# sees a reload at its next command, some time after the signal).
sub bg_until
{
	my ($sql, $want) = @_;
	for (1 .. 100)
	{
		my ($o) = $bg->query($sql);
		my $e = $bg->{stderr};
		$bg->{stderr} = '';
		return 1 if "$o\n$e" =~ $want;
		select(undef, undef, undef, 0.1);
	}
	return 0;
}
set_key_conf($wrongfile, '');
ok(bg_until("SELECT csms_get_secret_value('db')", qr/root key does not match this database/),
	'open session: after a reload to another key file, the cached key is no longer used');
set_key_conf($outside, '');
ok(bg_until("SELECT csms_get_secret_value('db')", qr/^\Q$orig{db_v2}\E\n\z/),
	'open session: after a reload back to the right key file, reads work again');
$bg->quit;

# --- a wrong key ---------------------------------------------------------

set_key_conf($wrongfile, '');

($out, $err) = run_sql(q{
SELECT csms_get_secret_value('db');
SELECT csms_root_key_fingerprint();
SELECT 'same session still works';
});
like($err, qr/ERROR:  XX001: root key does not match this database\n/,
	'wrong key: csms_get_secret_value fails with XX001 and a clear message');
like($err, qr/HINT:  Set csms\.root_key_command or csms\.root_key_file to the root key this database was created with; csms_root_key_fingerprint\(\) shows the fingerprint it expects\./,
	'wrong key: the hint points at the settings and the fingerprint');
unlike($err, qr/failed authentication/, 'wrong key: not an authentication failure per secret');
is($out, "$fingerprint\nsame session still works",
	'wrong key: fingerprint works and the session stays usable');

# every function that needs the key fails the same way, and changes nothing
my $secrets_before = $node->safe_psql('postgres', 'SELECT count(*) FROM csms.secrets');
my $versions_before = $node->safe_psql('postgres', 'SELECT count(*) FROM csms.versions');
my $keyver_before = $node->safe_psql('postgres', 'SELECT count(*) FROM csms.key_versions');
for my $call (
	"csms_get_secret_value('db', 'v1')",
	"csms_get_secret_binary('bin')",
	"csms_show_secret_version('db')",
	"csms_batch_get_secret_value('{db}')",
	"csms_create_secret('new', secret_string => 'x')",
	"csms_create_secret_version('db', 'x')",
	"csms_update_secret('keyed', kms_key_id => 'csms/default')",
	"csms_create_key('k2')",
	"csms_rotate_key('app-key')")
{
	fails_with("SELECT $call;", 'XX001', 'root key does not match this database',
		"wrong key: $call fails with XX001");
}
is($node->safe_psql('postgres', 'SELECT count(*) FROM csms.secrets'),
	$secrets_before, 'wrong key: no secret was created');
is($node->safe_psql('postgres', 'SELECT count(*) FROM csms.versions'),
	$versions_before, 'wrong key: no version was created');
is($node->safe_psql('postgres', 'SELECT count(*) FROM csms.key_versions'),
	$keyver_before, 'wrong key: no key material was created');

# what does not need the key keeps working
($out, $err) = run_sql(q{
SELECT name, state FROM csms_show_secret('db');
SELECT string_agg(name, ',' ORDER BY name) FROM csms_list_secrets();
SELECT string_agg(id, ',' ORDER BY id) FROM csms_list_secret_versions('db');
SELECT string_agg(alias, ',' ORDER BY alias) FROM csms_list_keys();
SELECT version_id FROM csms_show_secret_stage('db', 'SYSCURRENT');
SELECT csms_root_key_fingerprint();
});
is($err, '', 'wrong key: metadata functions raise no error');
is( $out,
	"db|ENABLED\nbin,db,keyed\nv1,v2\napp-key,csms/default\nv2\n$fingerprint",
	'wrong key: csms_show_secret, csms_list_secrets, csms_list_secret_versions, csms_list_keys, csms_show_secret_stage and the fingerprint work'
);
server_alive('wrong key');

# --- the key cache follows the settings within a session ------------------

($out, $err) = run_sql(qq{
SELECT csms_get_secret_value('db');
SET csms.root_key_file = '$outside';
SELECT csms_get_secret_value('db');
SET csms.root_key_file = '$wrongfile';
SELECT csms_get_secret_value('db');
BEGIN;
SET LOCAL csms.root_key_file = '$outside';
SELECT csms_get_secret_value('db', 'v1');
ROLLBACK;
SELECT csms_get_secret_value('db');
RESET csms.root_key_file;
SELECT 'end';
});
is($out, "$orig{db_v2}\n$orig{db_v1}\nend",
	'changing the setting in a session drops the cached key (right, wrong, SET LOCAL, rollback)');
my @mismatch = ($err =~ /ERROR:  XX001: root key does not match this database/g);
is(scalar @mismatch, 3, 'each read with the wrong key failed, none with the right one');

# --- a missing key --------------------------------------------------------

my $missing_err = fails_with(
	"SET csms.root_key_file = ''; SET csms.root_key_command = ''; SELECT csms_get_secret_value('db');",
	'XX001', 'root key is missing', 'no setting and no key file: root key is missing');
like($missing_err,
	qr/DETAIL:  Neither csms\.root_key_command nor csms\.root_key_file is set, and the file "\Q$default_keyfile\E" does not exist\./,
	'missing key: the detail names the default key file');
fails_with("SET csms.root_key_file = '$tmp/does-not-exist.key'; SELECT csms_get_secret_value('db');",
	'XX001', qr/could not read the root key from file "\Q$tmp\E\/does-not-exist\.key"/,
	'csms.root_key_file naming no file: could not read the root key');

# CREATE EXTENSION with a configured but missing key does not generate one
$node->safe_psql('postgres', 'CREATE DATABASE third');
fails_with("SET csms.root_key_file = '$tmp/does-not-exist.key'; CREATE EXTENSION secrets;",
	'XX001', 'could not read the root key from file',
	'CREATE EXTENSION with a missing csms.root_key_file fails', db => 'third');
ok(!-e "$tmp/does-not-exist.key", 'no key file was generated for a configured path');
is($node->safe_psql('third', "SELECT count(*) FROM pg_extension WHERE extname = 'secrets'"),
	'0', 'the extension was not created');
# with the right key file configured, CREATE EXTENSION uses it silently
($out, $err) = run_sql("SET csms.root_key_file = '$outside'; CREATE EXTENSION secrets; SELECT csms_root_key_fingerprint();",
	db => 'third');
is($err, '', 'CREATE EXTENSION with csms.root_key_file set: no warning, no error');
is($out, $fingerprint, 'CREATE EXTENSION used the configured key');
ok(!-e $default_keyfile, 'no key file was generated in the data directory');

# --- unreadable keys --------------------------------------------------------

my %bad = (
	'not hex' => "this is not a root key\n",
	'63 hex characters' => substr($keyhex, 0, 63) . "\n",
	'65 hex characters' => $keyhex . "0\n",
	'an empty file' => '',
	'hex with a space inside' => substr($keyhex, 0, 32) . ' ' . substr($keyhex, 32) . "\n",
	# the key, then more than a key's worth of white space, then junk: the
	# file does not hold (only) a root key either
	'junk after 300 bytes of white space' => "$keyhex\n" . (' ' x 300) . "junk\n",
	'a second key after 300 bytes of white space' => "$keyhex\n" . (' ' x 300) . "$wronghex\n",);
my $i = 0;
for my $what (sort keys %bad)
{
	my $path = "$tmp/bad" . $i++ . '.key';
	write_file($path, $bad{$what}, 0600);
	my $e = fails_with("SET csms.root_key_file = '$path'; SELECT csms_get_secret_value('db');",
		'XX001', qr/could not read the root key from file "\Q$path\E"/,
		"key file with $what: XX001 could not read the root key");
	unlike($e, qr/\Q$keyhex\E|\Q@{[substr($keyhex, 0, 32)]}\E/,
		"key file with $what: the error does not show the file's content");
}

# surrounding white space is allowed
write_file("$tmp/spaced.key", "  \n$keyhex\r\n\n", 0600);
reads_all('key file with surrounding white space',
	prefix => "SET csms.root_key_file = '$tmp/spaced.key';");

# group or world access
for my $mode (0644, 0640, 0604)
{
	my $path = sprintf('%s/mode%04o.key', $tmp, $mode);
	write_file($path, "$keyhex\n", $mode);
	fails_with("SET csms.root_key_file = '$path'; SELECT csms_get_secret_value('db');",
		'42501', qr/root key file "\Q$path\E" has group or world access/,
		sprintf('key file with mode %04o: 42501', $mode));
}

# commands
# (the detail of a failed command must give its real exit code: "exit 3" is
# 3, not the raw wait status 768; a missing command is "command not found",
# not 32512)
my %bad_cmd = (
	"cat $outside; exit 3" => qr/DETAIL:  [^\n]*\b(?:status|code) 3\b/,
	'exit 1' => qr/DETAIL:  [^\n]*\b(?:status|code) 1\b/,
	'echo garbage' => qr/DETAIL:  The command did not print 64 hexadecimal characters\./,
	"head -c 63 $outside" => qr/DETAIL:  The command did not print 64 hexadecimal characters\./,
	'yes | head -c 100000' => qr/DETAIL:  The command printed more than a root key\./,
	"$tmp/no-such-command" => qr/DETAIL:  [^\n]*command not found/,);
for my $cmd (sort keys %bad_cmd)
{
	my $e = fails_with("SET csms.root_key_command = '$cmd'; SELECT csms_get_secret_value('db');",
		'XX001', 'could not read the root key from csms\.root_key_command',
		"csms.root_key_command '$cmd': XX001");
	like($e, $bad_cmd{$cmd}, "csms.root_key_command '$cmd': the detail says why");
}
# a command cut short by a statement timeout is a cancelled statement
# (57014), not a bad root key (XX001, "data corrupted")
fails_with(
	"SET statement_timeout = '500ms'; SET csms.root_key_command = 'sleep 5; cat $outside'; SELECT csms_get_secret_value('db');",
	'57014', 'canceling statement due to statement timeout',
	'a root_key_command killed by statement_timeout: 57014, not XX001');

# a command that prints the key with surrounding white space works
reads_all('csms.root_key_command printing the key with white space',
	prefix => "SET csms.root_key_command = 'printf \"\\\\n  %s  \\\\n\" \$(cat $outside)';");

server_alive('unreadable keys');

# --- only superusers may set or see the key settings ----------------------

$node->safe_psql(
	'postgres', q{
CREATE ROLE alice LOGIN;
GRANT EXECUTE ON FUNCTION csms_get_secret_value(text, text) TO alice;
});
my $pwned = "$tmp/pwned";
($rc, $out, $err) = $node->psql(
	'postgres', qq{
SET csms.root_key_command = 'touch $pwned';
SELECT csms_get_secret_value('db');
SET csms.root_key_file = '$wrongfile';
SHOW csms.root_key_file;
SHOW csms.root_key_command;
},
	on_error_stop => 0,
	extra_params => [ '-U', 'alice', '-v', 'VERBOSITY=verbose' ]);
ok(!-e $pwned, 'a root_key_command set by a non-superuser before the library loaded never ran');
like($err, qr/WARNING:  42501: permission denied to set parameter "csms\.root_key_command"/,
	'non-superuser: the placeholder setting was refused when the library loaded');
# the session's key source is the server's (the wrong file at this point)
like($err, qr/ERROR:  XX001: root key does not match this database/,
	'non-superuser: the key came from the server configuration');
like($err, qr/ERROR:  42501: permission denied to set parameter "csms\.root_key_file"/,
	'non-superuser cannot SET csms.root_key_file');
like($err, qr/ERROR:  42501: must be superuser or have privileges of pg_read_all_settings to examine "csms\.root_key_file"/,
	'non-superuser cannot SHOW csms.root_key_file');
like($err, qr/ERROR:  42501: must be superuser or have privileges of pg_read_all_settings to examine "csms\.root_key_command"/,
	'non-superuser cannot SHOW csms.root_key_command');

# --- restart with the right key -------------------------------------------

$node->append_conf('postgresql.conf', "csms.root_key_file = '$outside'");
$node->restart;
reads_all('after restart with the right key');
is( $node->safe_psql('postgres',
		"SELECT secret_string FROM csms_show_secret_version('db', 'v1')"),
	$orig{db_v1},
	'after restart: show_secret_version returns the original value');
is($node->safe_psql('postgres', 'SELECT csms_root_key_fingerprint()'),
	$fingerprint, 'after restart: fingerprint unchanged');
is($node->safe_psql('second', 'SELECT csms_root_key_fingerprint()'),
	$fingerprint, 'after restart: second database fingerprint unchanged');
# and new writes work
is( $node->safe_psql('postgres',
		"SELECT (csms_create_secret_version('db', 'third')).id; SELECT csms_get_secret_value('db')"),
	"v3\nthird",
	'after restart: a new version can be written and read');
server_alive('end');

$node->stop;
done_testing();
