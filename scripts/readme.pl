#!/usr/bin/env perl
# readme.pl: README.md as tested documentation.
#
#   perl scripts/readme.pl --check [README.md]   run every SQL example, compare
#                                                what it prints with README
#   perl scripts/readme.pl --write [README.md]   run them, rewrite the outputs
#                                   (README_REWRITE_ALL=1: also those that differ only in what is masked)
#   perl scripts/readme.pl --self-test
#
# Needs a running server that psql reaches with the environment (PGHOST,
# PGPORT, PGUSER: a superuser); scripts/readme.sh starts a throwaway one
# with the library preloaded, as make run's.
#
# What README.md holds for it:
#   - a ```sql block is an example: psql runs it as it is written, so what a
#     reader pastes is what was tested;
#   - a ```text block right after it (only blank lines between) is what it
#     prints; an example that prints nothing has none;
#   - <!-- readme-test: session database=DB drop=DB1,DB2 --> starts a psql
#     session connected to DB (after dropping DB1, DB2 if they exist, so that
#     the examples can create them); the ```sql blocks after it run in that
#     session, in order, until the next session starts.  A ```sql block
#     before any session is an error: every example runs.
#
# psql runs without -q, as an interactive user sees it, from standard input
# (no "psql:file:line:" prefix), with the default VERBOSITY.  Before the
# comparison both sides are masked for what legitimately changes from one
# run to the next: UUIDs, times (also as JSON writes them), 32-hex-digit ids,
# root key fingerprints, the path of the data directory, the PID that
# sent a notification; runs of spaces and of table rule characters
# are squeezed (column widths follow the values).
use strict;
use warnings;

my $MARK = '@@readme-example@@';
# the data directory of make run's cluster as root (scripts/run.sh)
my $RUN_DATA = '/var/lib/postgresql/secrets-run/data';

# Mask what changes between runs; squeeze what follows from it.
sub normalize
{
	my ($text) = @_;
	my @out;
	for my $l (split /\n/, $text, -1)
	{
		$l =~ s/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/<uuid>/g;
		$l =~ s/\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})?[+-]\d\d(?::\d\d)?/<time>/g;
		# JSON times (notification payloads), the PID a notification names
		$l =~ s/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?[+-]\d\d:\d\d/<time>/g;
		$l =~ s/(received from server process with PID) \d+/$1 <pid>/g;
		$l =~ s/\b[0-9a-f]{32}\b/<id>/g;
		$l =~ s/\b[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}\b/<fingerprint>/g;
		$l =~ s{"[^"]*/csms_root\.key"}{"<data directory>/csms_root.key"}g;
		$l =~ s/ {2,}/ /g;
		$l =~ s/-{2,}/-/g;
		$l =~ s/\s+$//;
		push @out, $l;
	}
	pop @out while @out && $out[-1] eq '';
	return join("\n", @out);
}

# The examples of a README text: sessions, each a list of examples
# { sql, line, out (the text block or undef), out_from, out_to (line
# indexes of the text block, fences included) }.
sub parse
{
	my ($text) = @_;
	my @lines = split /\n/, $text, -1;
	my @sessions;
	my @errors;
	my $i = 0;
	while ($i < @lines)
	{
		my $l = $lines[$i];
		if ($l =~ /^<!--\s*readme-test:\s*session\s+(.*?)\s*-->\s*$/)
		{
			my %opt = map { /^(\w+)=(.*)$/ ? ($1 => $2) : ($_ => 1) } split /\s+/, $1;
			push @errors, "README.md:" . ($i + 1) . ": a session needs database=..." unless $opt{database};
			push @sessions, { database => $opt{database} // 'postgres',
							  drop => [ split /,/, $opt{drop} // '' ], examples => [], line => $i + 1 };
			$i++;
			next;
		}
		if ($l =~ /^```sql\s*$/)
		{
			my $start = $i;
			my @sql;
			$i++;
			while ($i < @lines && $lines[$i] !~ /^```\s*$/)
			{
				push @sql, $lines[$i++];
			}
			push @errors, "README.md:" . ($start + 1) . ": unterminated ```sql block" if $i >= @lines;
			my $ex = { sql => join("\n", @sql), line => $start + 1, end => $i };
			$i++;
			# its output: a ```text block after blank lines only
			my $j = $i;
			$j++ while $j < @lines && $lines[$j] =~ /^\s*$/;
			if ($j < @lines && $lines[$j] =~ /^```text\s*$/)
			{
				my @out;
				my $k = $j + 1;
				while ($k < @lines && $lines[$k] !~ /^```\s*$/)
				{
					push @out, $lines[$k++];
				}
				$ex->{out} = join("\n", @out);
				$ex->{out_from} = $j;
				$ex->{out_to} = $k;
				$i = $k + 1;
			}
			if (!@sessions)
			{
				push @errors, "README.md:" . ($start + 1) . ": a ```sql example before any <!-- readme-test: session ... -->";
			}
			else
			{
				push @{ $sessions[-1]{examples} }, $ex;
			}
			# the last statement must be complete, or it would swallow the next
			my $body = $ex->{sql};
			$body =~ s/--[^\n]*//g;
			$body =~ s/\s+$//;
			my ($last) = $body =~ /([^\n]*)$/;
			if ($body ne '' && $body !~ /;$/ && $last !~ /^\s*\\/ && $last !~ /\\g\w*(\s+\S+)?\s*$/)
			{
				push @errors, "README.md:" . ($start + 1) . ": the example ends inside a statement (no ';' or \\g at its end)";
			}
			next;
		}
		$i++;
	}
	return (\@sessions, \@errors, \@lines);
}

# Run one session; the output of each example, in order.
sub run_session
{
	my ($s, $tmp) = @_;
	for my $db (@{ $s->{drop} })
	{
		system('psql', '-X', '-q', '-d', 'postgres', '-c', 'SET client_min_messages = warning',
			   '-c', "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)") == 0
		  or die "readme: could not drop database $db\n";
	}
	open(my $in, '>', "$tmp.sql") or die "readme: $tmp.sql: $!\n";
	my $n = 0;
	for my $ex (@{ $s->{examples} })
	{
		print $in "\\echo $MARK $n\n", $ex->{sql}, "\n";
		$n++;
	}
	print $in "\\echo $MARK end\n";
	close $in;
	system("psql -X -d '$s->{database}' < '$tmp.sql' > '$tmp.out' 2>&1");
	open(my $fh, '<', "$tmp.out") or die "readme: $tmp.out: $!\n";
	local $/;
	my $all = <$fh>;
	close $fh;
	my @outs;
	my $cur;
	for my $l (split /\n/, $all, -1)
	{
		if ($l =~ /^\Q$MARK\E (\d+|end)$/)
		{
			push @outs, $cur if defined $cur;
			last if $1 eq 'end';
			$cur = '';
			next;
		}
		if (!defined $cur)
		{
			die "readme: psql printed before the first example: $l\n";
		}
		$cur .= "$l\n";
	}
	die "readme: psql stopped before the end of session at README.md:$s->{line}:\n$all\n"
	  if @outs != @{ $s->{examples} };
	s/\n+\z// for @outs;
	return @outs;
}

sub self_test
{
	my $fail = 0;
	my $t = sub {
		my ($what, $ok) = @_;
		if (!$ok) { print "self-test FAILED: $what\n"; $fail = 1; }
	};
	$t->('uuid and time masked',
		 normalize("4ad03ad2-012a-44de-a927-4d19da8867ac | 2026-11-22 23:40:38.499884+00")
		 eq normalize("09f09bdb-6f4d-4e88-913b-2936aa1830f3 | 2026-12-01 01:02:03.4+00"));
	$t->('notification times and PIDs masked',
		 normalize('payload "{"eventTime": "2026-12-03T11:11:48.249973+00:00"}" received from server process with PID 30164.')
		 eq normalize('payload "{"eventTime": "2026-12-04T01:02:03.4+00:00"}" received from server process with PID 7.'));
	$t->('values are compared', normalize(" v1 | Tr0ub4dor&3") ne normalize(" v1 | Tr0ub4dor&4"));
	$t->('widths squeezed', normalize("  name   \n---------\n tls-key") eq normalize(" name \n------\n tls-key"));
	my ($s, $e) = parse("```sql\nSELECT 1;\n```\n");
	$t->('an example before a session is an error', @$e == 1);
	($s, $e) = parse("<!-- readme-test: session database=x -->\n```sql\nSELECT * FROM f('a')\n```\n```text\n-[ RECORD 1 ]\n```\n");
	$t->('a missing ; is an error', @$e == 1 && $e->[0] =~ /ends inside a statement/);
	($s, $e) = parse("<!-- readme-test: session database=x drop=y,z -->\n```sql\nSELECT 1 \\gx\n\\c y\nSELECT 2;\n```\n\n```text\nout\n```\n");
	$t->('a session with an example and its output',
		 !@$e && @$s == 1 && $s->[0]{database} eq 'x' && "@{ $s->[0]{drop} }" eq 'y z'
		   && $s->[0]{examples}[0]{out} eq 'out');
	print "readme self-test: ", ($fail ? "FAILED" : "ok"), "\n";
	return $fail;
}

my $mode = shift // '--check';
if ($mode eq '--self-test')
{
	exit self_test();
}
die "usage: $0 --check | --write | --self-test [README.md]\n" unless $mode eq '--check' || $mode eq '--write';
my $file = shift // 'README.md';
open(my $fh, '<', $file) or die "readme: $file: $!\n";
my $text = do { local $/; <$fh> };
close $fh;

my ($sessions, $errors, $lines) = parse($text);
if (@$errors)
{
	print "$_\n" for @$errors;
	exit 1;
}
my $tmp = "/tmp/readme-test.$$";
my $mismatches = 0;
my $examples = 0;
my %replace;	# line index of a ```sql block's closing fence -> new output
for my $s (@$sessions)
{
	my @outs = run_session($s, $tmp);
	for my $k (0 .. $#outs)
	{
		my $ex = $s->{examples}[$k];
		$examples++;
		my $want = $ex->{out} // '';
		if (normalize($want) ne normalize($outs[$k]))
		{
			$mismatches++;
			if ($mode eq '--check')
			{
				print "README.md:$ex->{line}: the example prints what README does not show\n";
				print "--- README shows\n$want\n--- psql printed\n$outs[$k]\n---\n";
			}
		}
		# written as a reader of the tour sees it: the cluster of make run
		(my $shown = $outs[$k]) =~ s{"[^"]*/csms_root\.key"}{"$RUN_DATA/csms_root.key"}g;
		# an output that only differs in what is masked stays as it is, unless
		# README_REWRITE_ALL=1 (ids or times of a new form)
		$replace{ $ex->{end} } = { out => $shown, ex => $ex }
		  if $ENV{README_REWRITE_ALL} || normalize($want) ne normalize($outs[$k]);
	}
}
unlink "$tmp.sql", "$tmp.out";

if ($mode eq '--write')
{
	my @new;
	my $i = 0;
	while ($i < @$lines)
	{
		push @new, $lines->[$i];
		if (exists $replace{$i})
		{
			my $r = $replace{$i};
			my $skip_to = defined $r->{ex}{out_from} ? $r->{ex}{out_to} : undef;
			if ($r->{out} ne '')
			{
				push @new, '', '```text', split(/\n/, $r->{out}, -1), '```';
			}
			if (defined $skip_to)
			{
				$i = $skip_to + 1;
				next;
			}
		}
		$i++;
	}
	open(my $out, '>', $file) or die "readme: $file: $!\n";
	print $out join("\n", @new);
	close $out;
	print "readme: $examples examples run, $mismatches outputs rewritten in $file\n";
	exit 0;
}
print "readme: $examples examples in ", scalar(@$sessions), " sessions, $mismatches mismatches\n";
print "readme: regenerate the outputs with make readme, after checking that the change is intended\n"
  if $mismatches;
exit($mismatches ? 1 : 0);
