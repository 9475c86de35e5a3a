
# Rotation with real logins (shared_preload_libraries = 'secrets', every
# statement logged).  The test roles authenticate with scram-sha-256 (their
# pg_hba.conf lines come first; the harness's superuser keeps trust), and
# every password is read out of its secret with csms_get_secret_value.
#  a. SingleUser: after csms_rotate_secret the new password logs in and the
#     old one does not (over the socket and over TCP); pg_authid holds a SCRAM-SHA-256 verifier of it
#     (recomputed here, and by test/test_scram --check when it is built).
#  b. log_statement = 'all', log_min_duration_statement = 0: no password
#     (initial or rotated) is in the server log, which the README promises
#     with the library preloaded; a control statement shows the log is read.
#  c. A rotation in a transaction that rolls back: the old password still
#     logs in, the value and the verifier are unchanged; while it is open
#     the new password does not log in yet.
#  d. MultiUser: after each of two rotations both the SYSCURRENT and the
#     SYSPREVIOUS credentials log in, and they name the two users.
#  e. Refusals (42501): a superuser role at creation (SingleUser and
#     MultiUser), an owner without CREATEROLE for another role at creation;
#     an owner that loses CREATEROLE later, or a role that becomes a
#     superuser later: the rotation fails with 42501, its task is FAILED,
#     the password and the versions are unchanged.
#  f. Automatic rotation by the maintenance worker (csms.maintenance_interval
#     1s), its clock moved with csms.now_offset: a PG-ROLE secret rotates
#     (AUTOMATIC SUCCESS, the new password logs in, rotation_time and
#     next_rotation_time move, SECRET_ROTATED heard by a LISTENing session);
#     a replica follows and is never rotated itself; a rotation function that
#     raises fails three times an hour apart (attempt_nums 1, 2, 3), then
#     auto_rotation is off and SECRET_ROTATED_FAILED is recorded and heard;
#     a success after one failure has attempt_nums 2 and the next failure
#     counts from 1 again.  Where the worker does not do a round within 30
#     seconds, that is a failed check and the round is run by hand (CALL
#     csms_run_maintenance()), so the rules are still checked.
#  g. A manual rotation whose function raises: the caller's transaction is
#     aborted, but its FAILED task is visible from another session at once,
#     and no version was added.

use strict;
use warnings;

BEGIN
{
	$ENV{PG_REGRESS} = '/bin/true'
	  if !defined $ENV{PG_REGRESS} || $ENV{PG_REGRESS} eq '/bin/false';
}

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Digest::SHA qw(hmac_sha256 sha256);
use MIME::Base64 qw(decode_base64);
use JSON::PP;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('rotation');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'secrets'
csms.maintenance_interval = '1s'
max_worker_processes = 16
log_statement = 'all'
log_min_duration_statement = 0
log_min_error_statement = error
password_encryption = 'scram-sha-256'
listen_addresses = '127.0.0.1'
});

# the test roles authenticate with SCRAM; everybody else as before (trust)
my @roles = qw(app_login app_blue app_green auto_login victim victim2 su_target);
my $hba = join('',
	map { "local all $_ scram-sha-256\nhost all $_ 127.0.0.1/32 scram-sha-256\nhost all $_ ::1/128 scram-sha-256\n" }
	  @roles);
my $hba_file = $node->data_dir . '/pg_hba.conf';
my $old_hba = slurp_file($hba_file);
open my $fh, '>', $hba_file or die "could not write $hba_file: $!";
print $fh $hba, $old_hba;
close $fh;
$node->start;

$node->safe_psql('postgres', 'SET client_min_messages = error; CREATE EXTENSION secrets');

my $n = 0;
sub marker { $n++; return 'InitPw' . $n . join('', map { ('a' .. 'z')[ int rand 26 ] } 1 .. 16); }

# every password that must never be in the log
my @secret_words;

# the roles, with initial passwords that only the secrets know (not logged)
my %initial = map { $_ => marker() } @roles;
push @secret_words, values %initial;
$node->safe_psql('postgres',
	"SET log_statement = 'none'; SET log_min_duration_statement = -1;\n"
	  . join('',
		map { "CREATE ROLE $_ LOGIN PASSWORD '$initial{$_}'" . ($_ eq 'su_target' ? ' SUPERUSER' : '') . ";\n" }
		  @roles));

# may $user log in with $password (over the socket, scram-sha-256)?
# (tcp: over 127.0.0.1 instead)
sub login
{
	my ($user, $password, $tcp) = @_;
	local $ENV{PGPASSWORD} = $password;
	my $connstr =
	  $tcp
	  ? 'host=127.0.0.1 port=' . $node->port . " dbname=postgres user=$user"
	  : $node->connstr('postgres') . " user=$user";
	my ($rc, $out, $err) = $node->psql(
		'postgres', 'SELECT current_user',
		connstr => $connstr,
		extra_params => ['-w']);
	return $rc == 0 && $out eq $user;
}

# the value of a secret (version: id or stage), parsed
sub value_of
{
	my ($name, $version) = @_;
	my $v =
	  defined $version && $version =~ /^SYS/
	  ? "(csms_show_secret_stage('$name', '$version')).version_id"
	  : defined $version ? "'$version'"
	  :                    "'latest'";
	my $json = $node->safe_psql('postgres', "SELECT csms_get_secret_value('$name', $v)");
	my $d = decode_json($json);
	push @secret_words, $d->{password} if defined $d->{password};
	return $d;
}

sub rolpassword
{
	my ($role) = @_;
	return $node->safe_psql('postgres', "SELECT rolpassword FROM pg_authid WHERE rolname = '$role'");
}

# SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey> of $password?
# (RFC 5802/7677; the passwords here are printable ASCII, so SASLprep is
# the identity)
sub scram_matches
{
	my ($password, $verifier) = @_;
	my ($iter, $salt, $stored, $server) =
	  $verifier =~ /^SCRAM-SHA-256\$(\d+):([^\$]+)\$([^:]+):(.+)$/
	  or return 0;
	my $u = hmac_sha256(decode_base64($salt) . pack('N', 1), $password);
	my $salted = $u;
	for (2 .. $iter)
	{
		$u = hmac_sha256($u, $password);
		$salted ^= $u;
	}
	return sha256(hmac_sha256('Client Key', $salted)) eq decode_base64($stored)
	  && hmac_sha256('Server Key', $salted) eq decode_base64($server);
}

# psql with verbose errors, so that stderr shows the SQLSTATE
sub try_sql
{
	my ($sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql");
	return ($rc, $out, $err);
}

sub tasks
{
	my ($name, $cols) = @_;
	$cols //= 'task_status, operate_type, trigger_type, attempt_nums, task_error_code, version_id';
	return $node->safe_psql('postgres',
		"SELECT $cols FROM csms_list_secret_tasks('$name') ORDER BY task_time, task_id");
}

sub versions
{
	my ($name) = @_;
	return $node->safe_psql('postgres',
		"SELECT string_agg(id || ':' || array_to_string(version_stages, ','), ' ' ORDER BY create_time, id)"
		  . " FROM csms_list_secret_versions('$name')");
}

# the Perl SCRAM check against PostgreSQL's own verifier
ok(scram_matches($initial{app_login}, rolpassword('app_login')),
	"the test's SCRAM check accepts PostgreSQL's verifier of the initial password");
ok(!scram_matches($initial{app_login} . 'x', rolpassword('app_login')),
	'and refuses another password');
ok(login('app_login', $initial{app_login}), 'app_login logs in with its initial password');
ok(!login('app_login', 'wrong'), 'and not with a wrong one: SCRAM is in force');

my $scram_tool = defined $ENV{SECRETS_SRC} ? "$ENV{SECRETS_SRC}/test/test_scram" : undef;
$scram_tool = undef unless defined $scram_tool && -x $scram_tool;

# --- a. SingleUser ---------------------------------------------------------------

my $log_start = 0;
my $control = 'LogControl' . join('', map { ('a' .. 'z')[ int rand 26 ] } 1 .. 16);
$node->safe_psql('postgres', "SELECT '$control'");
$node->safe_psql('postgres',
	qq{SELECT name FROM csms_create_secret('db', secret_string => '{"username": "app_login", "password": "$initial{app_login}", "host": "localhost", "port": 5432, "dbname": "postgres"}', secret_type => 'PG-ROLE')}
);
my $before = value_of('db');
is($before->{password}, $initial{app_login}, 'the secret holds the initial password');
my $rot = $node->safe_psql('postgres', "SELECT version_id, secret_name, rotation_task_id IS NOT NULL FROM csms_rotate_secret('db')");
is($rot, 'v2|db|t', 'csms_rotate_secret made v2 with a task');
my $after = value_of('db');
is($after->{username}, 'app_login', 'the new value names the same user');
is(length($after->{password}), 32, 'with a new 32-character password');
isnt($after->{password}, $before->{password}, 'that differs from the old one');
is_deeply([ @{$after}{qw(host port dbname)} ], [ 'localhost', 5432, 'postgres' ],
	'host, port and dbname are kept');
ok(login('app_login', $after->{password}), 'the new password logs in');
ok(!login('app_login', $before->{password}), 'the old password does not');
ok(login('app_login', $after->{password}, 'tcp'), 'over TCP too the new password logs in');
ok(!login('app_login', $before->{password}, 'tcp'), 'and the old one does not');
my $verifier = rolpassword('app_login');
like($verifier, qr/^SCRAM-SHA-256\$4096:[A-Za-z0-9+\/=]+\$[A-Za-z0-9+\/=]+:[A-Za-z0-9+\/=]+$/,
	'pg_authid.rolpassword is a SCRAM-SHA-256 verifier');
ok(scram_matches($after->{password}, $verifier), 'of the new password (recomputed here)');
ok(!scram_matches($before->{password}, $verifier), 'not of the old one');
SKIP:
{
	skip 'test/test_scram is not built in SECRETS_SRC (scripts/tap.sh builds and copies it)', 2
	  unless $scram_tool;
	is(system($scram_tool, '--check', $after->{password}, $verifier) >> 8, 0,
		'test/test_scram --check accepts the new password');
	is(system($scram_tool, '--check', $before->{password}, $verifier) >> 8, 1,
		'and refuses the old one');
}
is(versions('db'), 'v1:SYSPREVIOUS v2:SYSCURRENT', 'v2 is SYSCURRENT, v1 SYSPREVIOUS');
is(tasks('db'), 'SUCCESS|SINGLE_USER|MANUAL|1||v2', 'one MANUAL SUCCESS task of type SINGLE_USER');

# --- b. the log -------------------------------------------------------------------

{
	my $log = slurp_file($node->logfile, $log_start);
	like($log, qr/\Q$control\E/, 'the log holds the control statement (the log is read)');
	like($log, qr/statement: SELECT name FROM csms_create_secret\(/, 'and the create statement, masked');
	for my $w ($before->{password}, $after->{password})
	{
		(my $escaped = encode_json([$w])) =~ s/^\["|"\]$//g;
		ok(index($log, $w) < 0 && index($log, $escaped) < 0,
			($w eq $before->{password} ? 'the initial' : 'the rotated') . ' password is not in the log');
	}
}

# --- c. a rotation that rolls back ------------------------------------------------

{
	my $value = $node->safe_psql('postgres', "SELECT csms_get_secret_value('db')");
	my $tasks_before = tasks('db');
	my $s = $node->background_psql('postgres');
	$s->query_safe('BEGIN');
	$s->query_safe("SELECT csms_rotate_secret('db')");
	my $pending = decode_json($s->query_safe("SELECT csms_get_secret_value('db')"));
	push @secret_words, $pending->{password};
	isnt($pending->{password}, $after->{password}, 'the open transaction sees a new password');
	ok(!login('app_login', $pending->{password}), 'which does not log in before the commit');
	ok(login('app_login', $after->{password}), 'while the old one still does');
	$s->query_safe('ROLLBACK');
	$s->quit;
	ok(login('app_login', $after->{password}), 'after the rollback the old password logs in');
	ok(!login('app_login', $pending->{password}), 'and the rolled-back one does not');
	is($node->safe_psql('postgres', "SELECT csms_get_secret_value('db')"), $value,
		'the value is unchanged');
	is(rolpassword('app_login'), $verifier, 'and so is the verifier');
	is(versions('db'), 'v1:SYSPREVIOUS v2:SYSCURRENT', 'and the versions');
	is(tasks('db'), $tasks_before, 'and the tasks (the rolled-back success left none)');
}

# --- d. MultiUser ---------------------------------------------------------------------

$node->safe_psql('postgres',
	qq{SELECT name FROM csms_create_secret('multi', secret_string => '{"username": "app_blue", "password": "$initial{app_blue}"}', secret_type => 'PG-ROLE', rotation_config => '{"SecretSubType": "MultiUser", "Usernames": ["app_blue", "app_green"]}')}
);
for my $round (1, 2)
{
	$node->safe_psql('postgres', "SELECT csms_rotate_secret('multi')");
	my $cur = value_of('multi');
	my $prev = value_of('multi', 'SYSPREVIOUS');
	is($cur->{username}, $round == 1 ? 'app_green' : 'app_blue',
		"MultiUser rotation $round: SYSCURRENT is the other user");
	isnt($prev->{username}, $cur->{username}, "rotation $round: SYSPREVIOUS names the other user");
	ok(login($cur->{username}, $cur->{password}), "rotation $round: the SYSCURRENT credentials log in");
	ok(login($prev->{username}, $prev->{password}), "rotation $round: the SYSPREVIOUS credentials log in");
	if ($round == 1)
	{
		is($prev->{password}, $initial{app_blue}, 'rotation 1: app_blue kept its password');
		ok(!login('app_green', $initial{app_green}), "rotation 1: app_green's initial password is gone");
	}
	else
	{
		ok(!login('app_blue', $initial{app_blue}), "rotation 2: app_blue's initial password is gone");
	}
}
is(versions('multi'), 'v1: v2:SYSPREVIOUS v3:SYSCURRENT', 'MultiUser: v3 SYSCURRENT, v2 SYSPREVIOUS');
is(tasks('multi', 'task_status, operate_type, version_id'), "SUCCESS|MULTI_USER|v2\nSUCCESS|MULTI_USER|v3",
	'two MULTI_USER tasks');

# --- e. refusals ------------------------------------------------------------------------

{
	my ($rc, $out, $err) = try_sql(
		qq{SELECT csms_create_secret('su', secret_string => '{"username": "su_target", "password": "x"}', secret_type => 'PG-ROLE')}
	);
	like($err, qr/ERROR:  42501: the role of PG-ROLE secret "su" is a superuser/,
		'a PG-ROLE secret of a superuser role is refused at creation (42501)');
	($rc, $out, $err) = try_sql(
		qq{SELECT csms_create_secret('su2', secret_string => '{"username": "app_blue", "password": "x"}', secret_type => 'PG-ROLE', rotation_config => '{"SecretSubType": "MultiUser", "Usernames": ["app_blue", "su_target"]}')}
	);
	like($err, qr/ERROR:  42501: the role of PG-ROLE secret "su2" is a superuser/,
		'a MultiUser secret with a superuser among its Usernames too');

	$node->safe_psql(
		'postgres', q{
CREATE ROLE plain_owner;
CREATE ROLE cr_owner CREATEROLE;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO plain_owner, cr_owner;
});
	($rc, $out, $err) = try_sql(
		qq{SET ROLE plain_owner; SELECT csms_create_secret('v', secret_string => '{"username": "victim", "password": "$initial{victim}"}', secret_type => 'PG-ROLE')}
	);
	like($err, qr/ERROR:  42501: permission denied to change the password of the role of PG-ROLE secret "v"/,
		'an owner without CREATEROLE is refused for another role at creation (42501)');
	is($node->safe_psql('postgres', "SELECT count(*) FROM csms.secrets WHERE name = 'v'"), '0',
		'and no secret was made');

	$node->safe_psql('postgres',
		qq{SET ROLE cr_owner; SELECT name FROM csms_create_secret('v', secret_string => '{"username": "victim", "password": "$initial{victim}"}', secret_type => 'PG-ROLE')}
	);
	$node->safe_psql('postgres',
		qq{SELECT name FROM csms_create_secret('v2', secret_string => '{"username": "victim2", "password": "$initial{victim2}"}', secret_type => 'PG-ROLE')}
	);
	$node->safe_psql('postgres', 'ALTER ROLE cr_owner NOCREATEROLE; ALTER ROLE victim2 SUPERUSER');
	my $v_verifier = rolpassword('victim');
	for my $who ('cr_owner', 'postgres')
	{
		my $set = $who eq 'postgres' ? '' : "SET ROLE $who; ";
		($rc, $out, $err) = try_sql("${set}SELECT csms_rotate_secret('v')");
		like($err,
			qr/ERROR:  42501: permission denied to change the password of the role of PG-ROLE secret "v".*DETAIL:  Its owner, role "cr_owner"/s,
			"the owner lost CREATEROLE: the rotation (called by $who) is refused (42501)");
	}
	is(tasks('v', 'task_status, operate_type, trigger_type, task_error_code'),
		"FAILED|SINGLE_USER|MANUAL|42501\nFAILED|SINGLE_USER|MANUAL|42501",
		'both attempts are FAILED tasks with the SQLSTATE');
	is(rolpassword('victim'), $v_verifier, "victim's password is unchanged");
	ok(login('victim', $initial{victim}), 'and still logs in');
	is(versions('v'), 'v1:SYSCURRENT', 'no version was added');

	($rc, $out, $err) = try_sql("SELECT csms_rotate_secret('v2')");
	like($err, qr/ERROR:  42501: the role of PG-ROLE secret "v2" is a superuser/,
		'a role that became a superuser after creation: the rotation is refused (42501)');
	is(tasks('v2', 'task_status, task_error_code'), 'FAILED|42501', 'and its task is FAILED');
	is(versions('v2'), 'v1:SYSCURRENT', 'without a new version');
}

# --- g. a manual rotation whose function raises ----------------------------------------

$node->safe_psql(
	'postgres', q{
CREATE FUNCTION rot_ok(secret_name text, version_id text) RETURNS text
	LANGUAGE sql AS $$ SELECT 'rotated ' || secret_name || ' ' || version_id $$;
CREATE FUNCTION rot_bad(secret_name text, version_id text) RETURNS text
	LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no rotation for %', secret_name USING ERRCODE = 'P0001'; END $$;
CREATE TABLE flaky_ctl (fail boolean NOT NULL);
INSERT INTO flaky_ctl VALUES (true);
CREATE FUNCTION rot_flaky(secret_name text, version_id text) RETURNS text
	LANGUAGE plpgsql AS $$
BEGIN
	IF (SELECT fail FROM public.flaky_ctl) THEN
		RAISE EXCEPTION 'flaky rotation of % fails', secret_name USING ERRCODE = 'P0002';
	END IF;
	RETURN 'flaky ' || version_id;
END $$;
SELECT name FROM csms_create_secret('manual-bad', 'initial', rotation_func_urn => 'rot_bad');
});
{
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	$s->query_safe('\set VERBOSITY verbose');
	$s->query_safe('BEGIN');
	$s->query_safe("SELECT csms_create_secret_version('manual-bad', 'in the same transaction')");
	my ($out, $failed) = $s->query("SELECT csms_rotate_secret('manual-bad')");
	ok($failed, 'a manual rotation whose function raises fails');
	# (the client's copy of the message has the statement's literal masked)
	like($s->{stderr}, qr/ERROR:  P0001: no rotation for (manual-bad|\[redacted\])/, "with the function's error");
	$s->{stderr} = '';
	($out, $failed) = $s->query('SELECT 1');
	like($s->{stderr}, qr/current transaction is aborted/, "the caller's transaction is aborted");
	$s->{stderr} = '';
	like(tasks('manual-bad', 'task_status, operate_type, trigger_type, attempt_nums, task_error_code, task_error_msg, rotation_func_urn'),
		qr/^FAILED\|FUNCTION\|MANUAL\|1\|P0001\|no rotation for manual-bad\|public\.rot_bad\(\S*text,\S*text\)$/,
		'its FAILED task is visible from another session while the transaction is still open');
	$s->query('ROLLBACK');
	$s->quit;
	is(versions('manual-bad'), 'v1:SYSCURRENT', 'no version was added (nor the one before it in that transaction)');
	is($node->safe_psql('postgres', "SELECT csms_get_secret_value('manual-bad')"), 'initial',
		'the value is unchanged');
	my ($rc, $o, $err) = try_sql(
		"SELECT csms_create_secret('plain', 'x'); SELECT csms_rotate_secret('plain')");
	like($err, qr/ERROR:  55000: secret "plain" of type COMMON has no rotation function/,
		'a COMMON secret without a rotation function is refused (55000)');
	is(tasks('plain'), '', 'without a task');
}

# --- f. automatic rotation by the worker --------------------------------------------

sub set_offset
{
	my ($offset) = @_;
	$node->safe_psql('postgres',
		"ALTER SYSTEM SET csms.now_offset = '$offset'; SELECT pg_reload_conf();");
}

# wait up to 30 s for the worker to make $cond true; else a failed check and
# the round by hand, so that what follows still checks the rules
my $worker_failed = 0;
sub worker_round
{
	my ($cond, $what) = @_;
	my $off = -s $node->logfile;
	for (1 .. 300)
	{
		if ($node->safe_psql('postgres', $cond) eq 't')
		{
			pass("the worker did it: $what");
			return 1;
		}
		usleep(100_000);
	}
	my $log = slurp_file($node->logfile, $off);
	my @errors = $log =~ /^(.*ERROR:.*\n(?:.*(?:DETAIL|CONTEXT):.*\n)*)/mg;
	fail("the worker did it: $what");
	diag("the worker's log: " . join('', @errors[0 .. ($#errors < 2 ? $#errors : 2)]));
	$worker_failed++;
	$node->safe_psql('postgres', 'SET client_min_messages = warning; CALL csms_run_maintenance()');
	ok($node->safe_psql('postgres', $cond) eq 't', "by hand: $what");
	return 0;
}

$node->safe_psql(
	'postgres', qq{
SELECT csms_create_event('ev', ARRAY['SECRET_ROTATED', 'SECRET_ROTATED_FAILED'],
	notification => '{"target_type": "NOTIFY", "target_name": "chan"}');
SELECT name FROM csms_create_secret('auto', secret_string => '{"username": "auto_login", "password": "$initial{auto_login}"}',
	secret_type => 'PG-ROLE', auto_rotation => true, rotation_period => '4h', event_subscriptions => ARRAY['ev']);
SELECT name FROM csms_create_secret('fails', 'initial', rotation_func_urn => 'rot_bad',
	auto_rotation => true, rotation_period => '4h', event_subscriptions => ARRAY['ev']);
SELECT name FROM csms_create_secret('flaky', 'initial', rotation_func_urn => 'rot_flaky(text,text)',
	auto_rotation => true, rotation_period => '4h', event_subscriptions => ARRAY['ev']);
SELECT name FROM csms_create_secret('rep', 'initial', rotation_func_urn => 'rot_ok',
	auto_rotation => true, rotation_period => '4h');
SELECT csms_create_region('r2');
SELECT csms_create_replica('rep', 'r2') IS NOT NULL;
});
my $times = sub {
	my ($name) = @_;
	return $node->safe_psql('postgres',
		"SELECT coalesce(rotation_time::text, 'null') || '|' || coalesce(next_rotation_time::text, 'null')"
		  . " || '|' || auto_rotation FROM csms_show_secret('$name')");
};
my ($rt0, $nt0) = split /\|/, $times->('auto');
is($rt0, 'null', 'auto: not rotated yet');
is($node->safe_psql('postgres', "SELECT '$nt0'::timestamptz - now() BETWEEN '3h 59min' AND '4h'"), 't',
	'auto: next_rotation_time is four hours ahead');

my $listener = $node->background_psql('postgres');
sub notifications { return $_[0] =~ /^Asynchronous notification "chan" with payload "(.*)" received/mg; }
$listener->query_safe('LISTEN chan');

my $hour = 3600;
my $offset = 4 * $hour + 60;
set_offset($offset);
worker_round(
	"SELECT (SELECT count(*) FROM csms_list_secret_tasks('auto') WHERE trigger_type = 'AUTOMATIC' AND task_status = 'SUCCESS') = 1"
	  . " AND (SELECT count(*) FROM csms_list_secret_tasks('fails')) = 1"
	  . " AND (SELECT count(*) FROM csms_list_secret_tasks('flaky')) = 1"
	  . " AND (SELECT count(*) FROM csms_list_secret_tasks('rep')) = 1",
	'round 1 (4h later): auto and rep rotated, fails and flaky failed');

is(tasks('auto', 'task_status, operate_type, trigger_type, attempt_nums, version_id'),
	'SUCCESS|SINGLE_USER|AUTOMATIC|1|v2', 'auto: an AUTOMATIC SINGLE_USER SUCCESS making v2');
my $auto = value_of('auto');
ok(login('auto_login', $auto->{password}), 'auto: the new password logs in');
ok(!login('auto_login', $initial{auto_login}), 'auto: the initial one does not');
ok(scram_matches($auto->{password}, rolpassword('auto_login')), 'auto: pg_authid holds its verifier');
my ($rt1, $nt1, $ar1) = split /\|/, $times->('auto');
isnt($rt1, 'null', 'auto: rotation_time is set');
is($node->safe_psql('postgres',
		"SELECT '$nt1'::timestamptz = '$rt1'::timestamptz + interval '4h' AND '$nt1'::timestamptz > '$nt0'::timestamptz"), 't',
	"auto: next_rotation_time moved to rotation_time + 4h ($rt1, $nt1)");
is($ar1, 'true', 'auto: auto_rotation stays on');
my $heard = $listener->query_safe('SELECT 1');
ok( (grep { /"eventType": "SECRET_ROTATED"/ && /"secretName": "auto"/ && /"versionId": "v2"/ }
		  notifications($heard)) == 1,
	'the listener heard SECRET_ROTATED of auto (v2)');
unlike($heard, qr/SECRET_ROTATED_FAILED/, 'and no SECRET_ROTATED_FAILED after one failure');

# the replica followed and was not rotated itself
is($node->safe_psql('postgres',
		"SET csms.region = 'r2'; SELECT csms_get_secret_value('rep') || ' ' || (SELECT count(*) FROM csms_list_secret_tasks())"),
	'rotated rep v2 0', 'rep: the replica reads the rotated value, and region r2 has no task');
{
	my ($rc, $o, $err) = try_sql("SET csms.region = 'r2'; SELECT csms_rotate_secret('rep')");
	like($err, qr/ERROR:  55000: secret "rep" in region "r2" is a replica/, 'a replica is not rotated by hand');
}

is(tasks('fails', 'task_status, trigger_type, attempt_nums, task_error_code'), 'FAILED|AUTOMATIC|1|P0001',
	'fails: first failure, attempt_nums 1');
my ($frt, $fnt, $far) = split /\|/, $times->('fails');
is($node->safe_psql('postgres',
		"SELECT '$fnt'::timestamptz = (SELECT task_time FROM csms_list_secret_tasks('fails')) + interval '1h'"), 't',
	'fails: retried an hour later');
is($far, 'true', 'fails: still on');

# round 2: flaky succeeds, fails fails again
$node->safe_psql('postgres', 'UPDATE flaky_ctl SET fail = false');
$offset += $hour + 60;
set_offset($offset);
worker_round(
	"SELECT (SELECT count(*) FROM csms_list_secret_tasks('fails')) = 2"
	  . " AND (SELECT count(*) FROM csms_list_secret_tasks('flaky')) = 2",
	'round 2 (an hour later): fails failed again, flaky rotated');
is(tasks('flaky', 'task_status, attempt_nums, task_error_code, version_id'),
	"FAILED|1|P0002|\nSUCCESS|2||v2", 'flaky: a failure, then a success with attempt_nums 2');
is(tasks('fails', 'attempt_nums'), "1\n2", 'fails: attempt_nums 2');

# round 3: the third failure in a row
$offset += $hour + 60;
set_offset($offset);
worker_round("SELECT (SELECT count(*) FROM csms_list_secret_tasks('fails')) = 3",
	'round 3: fails failed a third time');
is(tasks('fails', 'task_status, trigger_type, attempt_nums, task_error_code'),
	"FAILED|AUTOMATIC|1|P0001\nFAILED|AUTOMATIC|2|P0001\nFAILED|AUTOMATIC|3|P0001",
	'fails: three FAILED tasks, attempt_nums 1, 2, 3');
($frt, $fnt, $far) = split /\|/, $times->('fails');
is("$far $fnt", 'false null', 'fails: auto_rotation is off, no next_rotation_time');
is($node->safe_psql('postgres',
		"SELECT secret_name, event_type FROM csms_list_notification_records() WHERE event_type = 'SECRET_ROTATED_FAILED'"),
	'fails|SECRET_ROTATED_FAILED', 'one SECRET_ROTATED_FAILED record, for fails');
$heard = $listener->query_safe('SELECT 1');
ok( (grep { /"eventType": "SECRET_ROTATED_FAILED"/ && /"secretName": "fails"/ } notifications($heard)) == 1,
	'the listener heard SECRET_ROTATED_FAILED of fails');
is($node->safe_psql('postgres', "SELECT csms_get_secret_value('fails')"), 'initial',
	'fails: its value is unchanged');

# round 4: flaky fails again after its success: counted from 1
$node->safe_psql('postgres', 'UPDATE flaky_ctl SET fail = true');
my ($lrt, $lnt) = split /\|/, $times->('flaky');
my $due = $node->safe_psql('postgres', "SELECT ceil(extract(epoch FROM '$lnt'::timestamptz - now()))::int");
$offset = $due + 60;
set_offset($offset);
worker_round("SELECT (SELECT count(*) FROM csms_list_secret_tasks('flaky')) = 3",
	'round 4 (4h after the success): flaky failed');
is(tasks('flaky', 'task_status, attempt_nums'), "FAILED|1\nSUCCESS|2\nFAILED|1",
	'flaky: the failure after a success has attempt_nums 1 again');
is(tasks('fails', 'attempt_nums'), "1\n2\n3", 'fails: no rotation once auto_rotation is off');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM csms_list_notification_records() WHERE event_type = 'SECRET_ROTATED_FAILED'"),
	'1', 'still one SECRET_ROTATED_FAILED record');
$listener->quit;
set_offset('0');
note("the worker did not do $worker_failed of its rounds") if $worker_failed;

# --- b again: no password anywhere in the log ------------------------------------

{
	my $log = slurp_file($node->logfile);
	my @found;
	for my $w (@secret_words)
	{
		(my $escaped = encode_json([$w])) =~ s/^\["|"\]$//g;
		push @found, $w if index($log, $w) >= 0 || index($log, $escaped) >= 0;
	}
	is(scalar @found, 0, 'none of the ' . scalar(@secret_words) . ' passwords (initial and rotated) is in the log');
	unlike($log, qr/SCRAM-SHA-256\$/, 'nor a SCRAM verifier (the ALTER ROLE of a rotation is not logged)');
}

done_testing();
