
# Values never reach base/pgsql_tmp, and key material is kept out of core
# dumps (issue 12).
#
# 1. With work_mem = 64kB, 1000 values of 32 KiB are read through every
#    function that returns values, each in a cursor that has fetched one
#    row (so that whatever the query materialized is still there); while
#    the cursor is open, every file under the cluster's temporary
#    directories is scanned for the values' marker.  A query of the caller's
#    own that sorts the values is the control: it spills, and the scanner
#    finds the marker in its temporary file.
# 2. A backend's /proc/<pid>/smaps: after it has read secrets, the pages the
#    library mapped for the root key, the master keys and the remembered
#    data keys (whose sizes the library logs at DEBUG1) are marked dd and wf,
#    besides what was so marked before the backend used a key.

use strict;
use warnings;

BEGIN
{
	$ENV{PG_REGRESS} = '/bin/true'
	  if !defined $ENV{PG_REGRESS} || $ENV{PG_REGRESS} eq '/bin/false';
}

use File::Find;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('spill');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'secrets'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION secrets');

my $marker = 'SpillMarker' . join('', map { ('a' .. 'z')[ int rand 26 ] } 1 .. 20);
my $n = 1000;
$node->safe_psql('postgres',
	"SELECT count(csms_create_secret('s' || g, rpad('$marker-' || g || '-', 32768, '$marker')))"
	  . " FROM generate_series(1, $n) g");

# every regular file under the temporary directories of the cluster
sub temp_files
{
	my @dirs = grep { -d $_ } ($node->data_dir . '/base/pgsql_tmp',
		glob($node->data_dir . '/pg_tblspc/*/*/pgsql_tmp'));
	my @files;
	find({ no_chdir => 1, wanted => sub { push @files, $_ if -f $_ } }, @dirs) if @dirs;
	return @files;
}

# the temporary files that hold the marker, and how many files and bytes
# were read
sub scan_temp
{
	my ($found, $files, $bytes) = (0, 0, 0);
	for my $f (temp_files())
	{
		open my $fh, '<:raw', $f or next;	# a file the backend just removed
		local $/;
		my $data = <$fh> // '';
		close $fh;
		$files++;
		$bytes += length $data;
		$found++ if index($data, $marker) >= 0;
	}
	return ($found, $files, $bytes);
}

my $names = "ARRAY(SELECT 's' || g FROM generate_series(1, $n) g)";
my %queries = (
	'csms_batch_get_secret_value in FROM' =>
	  "SELECT * FROM csms_batch_get_secret_value($names)",
	'csms_batch_get_secret_value in the select list' =>
	  "SELECT (csms_batch_get_secret_value($names)).secret_string",
	'csms_get_secret_value' =>
	  "SELECT csms_get_secret_value('s' || g) FROM generate_series(1, $n) g",
	'csms_get_secret_binary' =>
	  "SELECT csms_get_secret_binary('s' || g, 'v1') FROM generate_series(1, $n) g",
	'csms_show_secret_version' =>
	  "SELECT v.* FROM generate_series(1, $n) g, csms_show_secret_version('s' || g) v",);

my $s = $node->background_psql('postgres');
for my $what (sort keys %queries)
{
	$s->query_safe("BEGIN; SET LOCAL work_mem = '64kB'");
	$s->query_safe("DECLARE c CURSOR FOR $queries{$what}");
	my $row = $s->query_safe('FETCH 1 FROM c');
	my ($found, $files, $bytes) = scan_temp();
	like($row, qr/\Q$marker\E|\\x/, "$what: the cursor returned a value");
	is($found, 0, "$what: no temporary file holds a value ($files files, $bytes bytes read)");
	$s->query_safe('COMMIT');
}

# the control: the caller's own sort of the values spills, and is found
$s->query_safe("BEGIN; SET LOCAL work_mem = '64kB'");
$s->query_safe("DECLARE c CURSOR FOR SELECT csms_get_secret_value('s' || g) AS v"
	  . " FROM generate_series(1, $n) g ORDER BY v");
$s->query_safe('FETCH 1 FROM c');
my ($found, $files, $bytes) = scan_temp();
ok($found > 0, "control: a sort of the caller's spills values, and the scan finds them ($found of $files files)");
$s->query_safe('COMMIT');
is(scalar(temp_files()), 0, 'the temporary files are gone with the cursor');
$s->quit;

# 2. core dumps
sub dontdump_bytes
{
	my ($pid, $flag) = @_;
	open my $fh, '<', "/proc/$pid/smaps" or die "could not open smaps of $pid: $!";
	my ($size, $total) = (0, 0);
	while (my $line = <$fh>)
	{
		$size = (hex($2) - hex($1)) if $line =~ /^([0-9a-f]+)-([0-9a-f]+) /;
		$total += $size if $line =~ /^VmFlags:.*\b$flag\b/;
	}
	close $fh;
	return $total;
}

my $page = `getconf PAGESIZE` || 4096;
chomp $page;
$s = $node->background_psql('postgres');
my $pid = $s->query_safe('SELECT pg_backend_pid()');
# what the backend has before it uses a key (the C library's own, if any)
my ($dd0, $wf0) = (dontdump_bytes($pid, 'dd'), dontdump_bytes($pid, 'wf'));
my $log_start = -s $node->logfile;
$s->query_safe("SET log_min_messages = debug1");
$s->query_safe("SELECT count(csms_get_secret_value('s' || g)) FROM generate_series(1, 100) g");
my $log = slurp_file($node->logfile, $log_start);
my $expected = 0;
while ($log =~ /key memory: (\d+) bytes for ([^,\n]+)((?:, [a-z ]+)*)/g)
{
	my ($bytes, $what, $flags) = ($1, $2, $3);
	$expected += int(($bytes + $page - 1) / $page) * $page;
	like($flags, qr/not dumped/, "the pages for $what are not dumped ($bytes bytes)");
	like($flags, qr/wiped on fork/, "the pages for $what are wiped on fork");
}
ok($expected > 2_000_000, "the library mapped pages for the root key, master keys and data keys ($expected bytes)");
cmp_ok(dontdump_bytes($pid, 'dd') - $dd0, '>=', $expected, "smaps: those pages are marked dd (besides $dd0 bytes before)");
cmp_ok(dontdump_bytes($pid, 'wf') - $wf0, '>=', $expected, "smaps: those pages are marked wf (besides $wf0 bytes before)");
$s->quit;

$node->stop;
done_testing();
