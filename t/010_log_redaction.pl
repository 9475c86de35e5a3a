
# No secret value reaches the server log (issue 12): with every statement
# logged -- log_statement = all, log_min_duration_statement = 0,
# log_min_error_statement = error, bind parameters in full
# (log_parameter_max_length and log_parameter_max_length_on_error = -1),
# auto_explain of every statement, nested and verbose, and pgaudit with
# pgaudit.log = 'all' and pgaudit.log_parameter = on -- a marker passed to
# csms_create_secret, csms_create_secret_version and csms_restore, or read
# back by csms_batch_get_secret_value, appears zero times in the log: in
# the simple protocol, in the extended protocol (named and unnamed
# prepared statements with the value as a parameter, pgbench), from
# PL/pgSQL (a DO block, a function of the caller's that passes the value
# on, dynamic SQL), and when the call fails.  A statement that does not
# call the extension is logged as it is: its marker is in the log, which
# proves the log is read.  The same with the library preloaded through
# session_preload_libraries (without pgaudit, which only
# shared_preload_libraries loads), and without preload, where the lines
# logged before the library is loaded are the documented exception.

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

my $n = 0;
sub marker { $n++; return 'LogMarker' . $n . join('', map { ('a' .. 'z')[ int rand 26 ] } 1 .. 16); }

my $logging = <<'EOF';
log_statement = 'all'
log_min_duration_statement = 0
log_min_error_statement = error
log_parameter_max_length = -1
log_parameter_max_length_on_error = -1
log_error_verbosity = verbose
auto_explain.log_min_duration = 0
auto_explain.log_nested_statements = on
auto_explain.log_verbose = on
auto_explain.log_analyze = on
pgaudit.log = 'all'
pgaudit.log_parameter = on
pgaudit.log_relation = on
pgaudit.log_catalog = on
EOF

# The statements of one run; returns the markers that must not be in the
# log (by the case that used them) and the one that must.
sub run_cases
{
	my ($node, $with_pgaudit) = @_;
	my %secret;
	my $db = 'postgres';
	my $psql = sub { my ($sql) = @_; return $node->psql($db, $sql) };

	$psql->("CREATE EXTENSION IF NOT EXISTS secrets");
	$psql->("CREATE EXTENSION IF NOT EXISTS pgaudit") if $with_pgaudit;

	# the simple protocol
	my $m = marker();
	$secret{'simple: csms_create_secret'} = $m;
	$psql->("SELECT name FROM csms_create_secret('red-$n', '$m')");
	my $name = "red-$n";
	$m = marker();
	$secret{'simple: csms_create_secret_version'} = $m;
	$psql->("SELECT id FROM csms_create_secret_version('$name', '$m')");
	$m = marker();
	$secret{'simple: csms_create_secret_version that fails'} = $m;
	$psql->("SELECT id FROM csms_create_secret_version('no-such-secret', '$m')");
	$m = marker();
	$secret{'simple: csms_create_secret that fails (both values)'} = $m;
	$psql->("SELECT name FROM csms_create_secret('red-x$n', '$m', secret_binary => '\\x00')");
	$m = marker();
	$secret{'simple: binary value'} = unpack('H*', $m);
	$psql->("SELECT name FROM csms_create_secret('bin-$n', secret_binary => '\\x" . unpack('H*', $m) . "')");
	$m = marker();
	$secret{'simple: a statement of several, one with a comment'} = $m;
	$psql->("SELECT 1; SELECT name FROM csms_create_secret('multi-$n', /* $m */ 'x' || '$m')");

	# csms_restore: the blob, and restoring it twice (the second fails)
	my $blob = $node->safe_psql($db, "SELECT csms_backup_secret('$name')");
	$psql->("SELECT csms_delete_secret('$name')");
	$psql->("SELECT name FROM csms_restore('$blob')");
	$psql->("SELECT name FROM csms_restore('$blob')");
	my @segments = split /\./, $blob;
	$secret{'simple: csms_restore (its ciphertext)'} = $segments[3];
	$secret{'simple: csms_restore (its wrapped key)'} = $segments[1];

	# csms_batch_get_secret_value: what it reads, also when the batch fails
	$m = marker();
	$secret{'csms_batch_get_secret_value'} = $m;
	$psql->("SELECT name FROM csms_create_secret('batch-$n', '$m')");
	$psql->("SELECT * FROM csms_batch_get_secret_value(ARRAY['batch-$n'])");
	$psql->("SELECT * FROM csms_batch_get_secret_value(ARRAY['batch-$n', 'missing'])");

	# PL/pgSQL: a DO block, a function of the caller's, dynamic SQL
	$m = marker();
	$secret{'PL/pgSQL: DO block'} = $m;
	my $do_name = "do-$n";
	$psql->("DO \$\$ BEGIN PERFORM csms_create_secret('$do_name', '$m'); END \$\$");
	$psql->("CREATE OR REPLACE FUNCTION app_save(n text, v text) RETURNS text LANGUAGE plpgsql AS"
		  . " \$\$ BEGIN RETURN (csms_create_secret(n, v)).name; END \$\$");
	$psql->("CREATE OR REPLACE FUNCTION app_outer(n text, v text) RETURNS text LANGUAGE sql AS"
		  . " \$\$ SELECT app_save(n, v) \$\$");
	$m = marker();
	$secret{'PL/pgSQL: a function that passes the value on'} = $m;
	$psql->("SELECT app_save('fn-$n', '$m')");
	$m = marker();
	$secret{'PL/pgSQL: a function that calls such a function'} = $m;
	$psql->("SELECT app_outer('fn2-$n', '$m')");
	$m = marker();
	$secret{'PL/pgSQL: the function, failing'} = $m;
	$psql->("SELECT app_save('bad name', '$m')");
	$m = marker();
	$secret{'PL/pgSQL: dynamic SQL, failing'} = $m;
	$psql->("DO \$\$ DECLARE v text := '$m'; BEGIN"
		  . " EXECUTE format('SELECT csms_create_secret_version(%L, %L)', 'nope', v); END \$\$");
	$m = marker();
	$secret{'SQL PREPARE and EXECUTE'} = $m;
	$psql->("PREPARE p(text) AS SELECT id FROM csms_create_secret_version('$do_name', \$1);\n"
		  . "EXECUTE p('$m');");

	# the extended protocol: pgbench sends the value as a parameter of a
	# named prepared statement (-M prepared) and of the unnamed one (-M
	# extended); one of the calls fails
	for my $mode (qw(prepared extended))
	{
		for my $fail (0, 1)
		{
			$m = marker();
			$secret{"extended protocol ($mode)" . ($fail ? ', failing' : '')} = $m;
			my $target = $fail ? 'no-such-secret' : $do_name;
			my $script = $node->basedir . "/pgbench_$mode$fail.sql";
			PostgreSQL::Test::Utils::append_to_file($script,
				"SELECT id FROM csms_create_secret_version(:target, :value);\n");
			# the failing one makes pgbench report an aborted client: not checked
			PostgreSQL::Test::Utils::run_log(
				[ 'pgbench', '-n', '-t', '1', '-M', $mode, '-h', $node->host, '-p', $node->port,
				  '-D', "target=$target", '-D', "value=$m", '-f', $script, $db ]);
		}
	}

	# a statement that does not call the extension: logged as it is
	my $plain = marker();
	$psql->("SELECT '$plain' AS not_a_secret");
	return (\%secret, $plain);
}

sub check_log
{
	my ($node, $label, $secrets, $plain, $except) = @_;
	my $log = slurp_file($node->logfile);
	for my $case (sort keys %$secrets)
	{
		my $count = () = $log =~ /\Q$secrets->{$case}\E/g;
		if ($except && $case =~ $except)
		{
			note("$label, $case: $count times (documented)");
			next;
		}
		is($count, 0, "$label, $case: the value is not in the log");
		if ($count)
		{
			for my $line (grep { /\Q$secrets->{$case}\E/ } split /\n/, $log)
			{
				diag(substr($line, 0, 300));
			}
		}
	}
	cmp_ok(scalar(() = $log =~ /\Q$plain\E/g), '>=', 3,
		"$label: a statement that does not call the extension is logged as it is (statement, plan, output)");
	like($log, qr/csms_create_secret\('\[redacted\]', '\[redacted\]'\)/,
		"$label: statements that call it are logged with their literals masked");
	return $log;
}

# 1. shared_preload_libraries, with pgaudit
my $node = PostgreSQL::Test::Cluster->new('preload');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'secrets, pgaudit, auto_explain'\n$logging");
$node->start;
my ($secrets, $plain) = run_cases($node, 1);
my $log = check_log($node, 'shared_preload_libraries', $secrets, $plain);
like($log, qr/AUDIT: SESSION,.*csms_create_secret/, 'pgaudit logged the calls');
like($log, qr/Query Text: .*csms_create_secret/, 'auto_explain logged the calls');
like($log, qr/parameters: \$1 = '\[redacted\]', \$2 = '\[redacted\]'/,
	'bind parameters of calls are logged masked');
like($log, qr/STATEMENT:  SELECT id FROM csms_create_secret_version\('\[redacted\]'/,
	'the STATEMENT line of a failed call is masked');
$node->stop;

# 2. session_preload_libraries (pgaudit needs shared_preload_libraries)
$node = PostgreSQL::Test::Cluster->new('session');
$node->init;
my $session_logging = $logging =~ s/^pgaudit.*\n//mgr;
$node->append_conf('postgresql.conf',
	"session_preload_libraries = 'secrets, auto_explain'\n$session_logging");
$node->start;
($secrets, $plain) = run_cases($node, 0);
check_log($node, 'session_preload_libraries', $secrets, $plain);
$node->stop;

# 3. no preload: the library is loaded by a session's first call, so that
# the lines logged before (that statement's log_statement line, its bind
# parameters) are written as PostgreSQL writes them; each psql call here
# is a session of its own, so every case's first call is such a statement.
# Measured, not asserted: README.md says which lines leak.
$node = PostgreSQL::Test::Cluster->new('nopreload');
$node->init;
$node->append_conf('postgresql.conf',
	"session_preload_libraries = 'auto_explain'\n$session_logging");
$node->start;
($secrets, $plain) = run_cases($node, 0);
$log = slurp_file($node->logfile);
my $leaked = grep { index($log, $secrets->{$_}) >= 0 } keys %$secrets;
note("without preload, $leaked of " . scalar(keys %$secrets)
	  . " cases have their marker in the log (the statement that loaded the library)");
ok($leaked > 0, 'without preload, the lines written before the library loads are not masked');
my $s = $node->background_psql('postgres');
$s->query_safe("SELECT csms_root_key_fingerprint()");
my $m = marker();
$s->query_safe("SELECT name FROM csms_create_secret('late-load', '$m')");
$s->quit;
$log = slurp_file($node->logfile);
is(() = $log =~ /\Q$m\E/g, 0, 'without preload, a session that has loaded the library masks its later statements');
$node->stop;

# 4. pg_stat_activity and pg_stat_statements, measured for README.md
$node = PostgreSQL::Test::Cluster->new('stats');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'secrets, pg_stat_statements'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION secrets; CREATE EXTENSION pg_stat_statements');
$m = marker();
my $a = $node->background_psql('postgres');
my $pid = $a->query_safe('SELECT pg_backend_pid()');
$a->query_until(qr/started/, "\\echo started\nSELECT name, pg_sleep(2) FROM csms_create_secret('psa', '$m');\n");
$node->poll_query_until('postgres',
	"SELECT state = 'active' AND query LIKE '%pg_sleep%' FROM pg_stat_activity WHERE pid = $pid")
  or die 'the call did not start';
my $activity = $node->safe_psql('postgres', "SELECT query FROM pg_stat_activity WHERE pid = $pid");
unlike($activity, qr/\Q$m\E/, 'pg_stat_activity: a running call shows its text masked');
like($activity, qr/csms_create_secret\('\[redacted\]', '\[redacted\]'\)/, "pg_stat_activity: $activity");
$node->poll_query_until('postgres', "SELECT state = 'idle' FROM pg_stat_activity WHERE pid = $pid")
  or die 'the call did not end';
$activity = $node->safe_psql('postgres', "SELECT query FROM pg_stat_activity WHERE pid = $pid");
unlike($activity, qr/\Q$m\E/, 'pg_stat_activity: nor does the idle session that ran it, as its last query');
$a->quit;

my %pgss;
$pgss{literal} = marker();
$node->safe_psql('postgres', "SELECT name FROM csms_create_secret('pgss1', '$pgss{literal}')");
$pgss{do_block} = marker();
$node->safe_psql('postgres', "DO \$\$ BEGIN PERFORM csms_create_secret('pgss2', '$pgss{do_block}'); END \$\$");
$pgss{sql_execute} = marker();
$node->safe_psql('postgres', "PREPARE q(text) AS SELECT csms_create_secret('pgss3', \$1); EXECUTE q('$pgss{sql_execute}')");
my $stored = $node->safe_psql('postgres', 'SELECT string_agg(query, E\'\\n\') FROM pg_stat_statements');
for my $case (sort keys %pgss)
{
	my $found = index($stored, $pgss{$case}) >= 0 ? 'stores the value' : 'does not store the value';
	note("pg_stat_statements (track_utility = on), $case: $found");
}
unlike($stored, qr/\Q$pgss{literal}\E/, 'pg_stat_statements: a call with literals is stored normalized');
like($stored, qr/\Q$pgss{do_block}\E/, 'pg_stat_statements: a DO block is stored as it is (utility statement)');
$node->safe_psql('postgres', 'SELECT pg_stat_statements_reset()');
$node->append_conf('postgresql.conf', "pg_stat_statements.track_utility = off\n");
$node->reload;
$m = marker();
$node->safe_psql('postgres', "DO \$\$ BEGIN PERFORM csms_create_secret('pgss4', '$m'); END \$\$");
$m .= '|' . marker();
$node->safe_psql('postgres', "PREPARE q(text) AS SELECT csms_create_secret('pgss5', \$1); EXECUTE q('" . (split /\|/, $m)[1] . "')");
$stored = $node->safe_psql('postgres', 'SELECT string_agg(query, E\'\\n\') FROM pg_stat_statements');
unlike($stored, qr/$m/, 'pg_stat_statements with track_utility = off: no DO block or EXECUTE with its value');
$node->stop;

done_testing();
