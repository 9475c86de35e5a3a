#!/usr/bin/perl
# scripts/check-sql.pl: every SQL text the extension runs names its
# functions, operators and cast types with their schema, so that no name in
# it can resolve to an object a caller (or whoever may write to the schema
# the extension is created in) has made.
#
# Reads the SQL texts of the C files (runs of adjacent string literals that
# start with SELECT, INSERT, UPDATE, DELETE, WITH or VALUES, with the string
# macros they use expanded) and the install and upgrade scripts
# sql/secrets--*.sql, with the bodies of the functions and DO blocks they
# define.  A lexer, not a parser; it fails (exit 1, one line per finding)
# on:
#   - an operator outside OPERATOR(pg_catalog.op) (assignments in SET and
#     RAISE ... USING, storage parameters in WITH (...), named arguments and
#     the star of SELECT * and count(*) are not operators);
#   - a call of a function whose name has no schema, but for the SQL
#     syntax that looks like one (EXISTS (...), ARRAY(...), COALESCE(...),
#     column lists, ...);
#   - a cast (::type or CAST(... AS type)) to a type without schema, but for
#     the type names that are SQL keywords (integer, boolean, ...);
#   - constructs that look an operator up by name and cannot be qualified:
#     IS [NOT] DISTINCT FROM, IN (...), BETWEEN, LIKE, ILIKE, SIMILAR TO,
#     NULLIF, a simple CASE x WHEN, ORDER BY ... USING, OVERLAPS;
#   - a collation without schema (COLLATE pg_catalog."C");
#   - a function of language sql or plpgsql without SET search_path;
#   - SPI used outside src/spi.c, the one place that runs SQL texts.
#
# sql/secrets--1.0.sql, released, may not change any more: it is checked
# for the record only (--all) and its findings are what the 1.0 to 1.1
# upgrade script repairs.
#
# For sql/hostile.sql, which shadows what the texts use, and checking
# nothing: --functions prints the names of the pg_catalog functions the
# texts call, --types the types of their parameters and casts, --relations
# the pg_catalog relations they read (whose column types are used too).
use strict;
use warnings;

my $all = grep { $_ eq '--all' } @ARGV;
my $list_functions = grep { $_ eq '--functions' } @ARGV;
my %called;			# pg_catalog functions the texts call
my %types_used;		# types of the texts' parameters and casts
my %relations;		# pg_catalog relations the texts read
my @findings;
my $texts = 0;

my %kw_paren = map { $_ => 1 } qw(
  SELECT VALUES EXISTS ARRAY ROW FROM COALESCE GREATEST LEAST ANY ALL SOME
  AS ON USING WHERE AND OR NOT WHEN THEN ELSE BY JOIN LATERAL KEY UNIQUE
  CHECK CONFLICT FILTER OVER WITH IF RETURN TABLE DISTINCT UNION EXCEPT
  INTERSECT LIMIT OFFSET EXECUTE PERFORM CAST EXTRACT SUBSTRING POSITION
  TRIM OVERLAY INTO IN RETURNS AGGREGATE FUNCTION PROCEDURE INCLUDE
  SET LOOP OPERATOR);
my %kw_types = map { $_ => 1 } qw(integer int int4 smallint bigint boolean
  real decimal numeric text);
delete $kw_types{$_} for qw(int4 text);	# not keywords: looked up by name
my %ok_schema = map { $_ => 1 } ('pg_catalog', 'csms', '@extschema@');

sub finding
{
	my ($where, $msg, $ctx) = @_;
	if (ref $where)
	{
		my ($file, $line, $sql, $off) = @$where;
		$where = "$file:" . ($line + (substr($sql, 0, $off) =~ tr/\n//));
	}
	$ctx =~ s/\s+/ /g;
	$ctx = substr($ctx, 0, 100);
	push @findings, "$where: $msg: ...$ctx...";
}

# tokens of one SQL text: [type, text, offset]
sub lex
{
	my ($sql) = @_;
	my @t;
	pos($sql) = 0;
	while (pos($sql) < length($sql))
	{
		my $p = pos($sql);
		if ($sql =~ /\G\s+/gc) { next; }
		if ($sql =~ /\G--[^\n]*/gc) { next; }
		if ($sql =~ /\G\/\*/gc)
		{
			my $depth = 1;
			while ($depth > 0 && $sql =~ /\G(?:[^*\/]+|\*(?!\/)|\/(?!\*))*(\*\/|\/\*)?/gc)
			{
				last unless defined $1;
				$depth += $1 eq '/*' ? 1 : -1;
			}
			next;
		}
		if ($sql =~ /\G(\$([A-Za-z_][A-Za-z_0-9]*)?\$)/gc)
		{
			my $tag = $1;
			my $start = pos($sql);
			my $end = index($sql, $tag, $start);
			$end = length($sql) if $end < 0;
			push @t, ['dollar', substr($sql, $start, $end - $start), $p];
			pos($sql) = $end + length($tag);
			next;
		}
		if ($sql =~ /\G\$\d+/gc) { push @t, ['param', '$', $p]; next; }
		if ($sql =~ /\G[EeBbXxNn]?'(?:[^'\\]|''|\\.)*'/gc
			|| $sql =~ /\GU&'(?:[^']|'')*'/gc)
		{
			push @t, ['string', substr($sql, $p, pos($sql) - $p), $p];
			next;
		}
		if ($sql =~ /\G"(?:[^"]|"")*"/gc)
		{
			push @t, ['ident', substr($sql, $p, pos($sql) - $p), $p];
			next;
		}
		if ($sql =~ /\G\@extschema\@/gc) { push @t, ['ident', '@extschema@', $p]; next; }
		if ($sql =~ /\G[A-Za-z_][A-Za-z_0-9\$]*/gc)
		{
			push @t, ['ident', substr($sql, $p, pos($sql) - $p), $p];
			next;
		}
		if ($sql =~ /\G\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/gc) { push @t, ['number', '0', $p]; next; }
		if ($sql =~ /\G::/gc) { push @t, ['cast', '::', $p]; next; }
		if ($sql =~ /\G:=/gc) { push @t, ['assign', ':=', $p]; next; }
		if ($sql =~ /\G=>/gc) { push @t, ['assign', '=>', $p]; next; }
		if ($sql =~ /\G[-+*\/<>=~!@#%^&|`?]+/gc)
		{
			push @t, ['op', substr($sql, $p, pos($sql) - $p), $p];
			next;
		}
		if ($sql =~ /\G[(),;.\[\]:]/gc) { push @t, ['punct', substr($sql, $p, 1), $p]; next; }
		$sql =~ /\G./gcs;
		push @t, ['punct', substr($sql, $p, 1), $p];
	}
	return @t;
}

sub up { my ($tok) = @_; return $tok && $tok->[0] eq 'ident' ? uc($tok->[1]) : ''; }

sub check_sql
{
	my ($file, $line0, $sql, $plpgsql) = @_;
	$texts++;
	my @t = lex($sql);
	my $depth = 0;
	my @assign_depth;	# depths where '=' assigns (SET, WITH (...), RAISE USING)
	my $lang = '';
	my $has_set_path = 0;
	my $in_function = 0;
	my @bodies;
	for (my $i = 0; $i < @t; $i++)
	{
		my ($type, $text) = @{ $t[$i] };
		my $prev = $i > 0 ? $t[ $i - 1 ] : undef;
		my $next = $i + 1 < @t ? $t[ $i + 1 ] : undef;
		my $ctx = substr($sql, $t[$i][2] > 30 ? $t[$i][2] - 30 : 0, 90);
		my $where = [$file, $line0, $sql, $t[$i][2]];
		my $u = up($t[$i]);

		if ($type eq 'punct' && $text eq '(')
		{
			$depth++;
			# WITH (storage_parameter = value, ...)
			push @assign_depth, $depth if up($prev) eq 'WITH';
			next;
		}
		if ($type eq 'punct' && $text eq ')')
		{
			@assign_depth = grep { $_ < $depth } @assign_depth;
			$depth--;
			next;
		}
		if ($type eq 'punct' && $text eq ';')
		{
			@assign_depth = grep { $_ < $depth } @assign_depth;
			if ($in_function)
			{
				finding($where, "function of language $lang without SET search_path", $ctx)
				  if ($lang eq 'plpgsql' || $lang eq 'sql') && !$has_set_path;
				push @bodies, map { [@$_, $lang] } @{ $in_function->{bodies} };
				$in_function = 0;
			}
			next;
		}
		if ($type eq 'ident')
		{
			$relations{ lc($text) } = 1
			  if $text =~ /^pg_/i && $prev && $prev->[1] eq '.' && $i > 1
			  && lc($t[ $i - 2 ][1]) eq 'pg_catalog' && !($next && $next->[1] eq '(');
			if ($u eq 'SET' || ($u eq 'USING' && $plpgsql))
			{
				push @assign_depth, $depth;
			}
			elsif ($u =~ /^(WHERE|FROM|RETURNING|LANGUAGE|AS)$/)
			{
				@assign_depth = grep { $_ != $depth } @assign_depth;
			}
			if ($u eq 'FUNCTION' || $u eq 'PROCEDURE')
			{
				my $p2 = $i > 1 ? up($t[ $i - 2 ]) : '';
				if (up($prev) eq 'CREATE' || (up($prev) eq 'REPLACE' && $p2 eq 'OR'))
				{
					$in_function = { bodies => [] };
					$lang = '';
					$has_set_path = 0;
				}
			}
			if ($in_function && $u eq 'LANGUAGE' && $next)
			{
				$lang = lc($next->[1]);
			}
			if ($in_function && $u eq 'SEARCH_PATH' && up($prev) eq 'SET')
			{
				$has_set_path = 1;
			}
			if ($u eq 'DO' && $next && $next->[0] eq 'dollar' && !$plpgsql)
			{
				push @bodies, [$next->[1], $next->[2], 'plpgsql'];
				$i++;
				next;
			}

			# forbidden constructs
			if ($u eq 'IS' && (up($next) eq 'DISTINCT'
				|| (up($next) eq 'NOT' && $i + 2 < @t && up($t[ $i + 2 ]) eq 'DISTINCT')))
			{
				finding($where, "IS [NOT] DISTINCT FROM looks up = by name", $ctx);
			}
			# (CREATE EVENT TRIGGER ... WHEN TAG IN (...) is a list of command tags)
			if ($u eq 'IN' && $next && $next->[1] eq '('
				&& !($i >= 1 && up($t[ $i - 1 ]) eq 'TAG'))
			{
				finding($where, "IN (...) looks up = by name; use OPERATOR(pg_catalog.=) ANY (...)", $ctx);
			}
			if ($u =~ /^(BETWEEN|LIKE|ILIKE|SIMILAR|NULLIF|OVERLAPS)$/)
			{
				finding($where, "$u looks up an operator by name", $ctx);
			}
			if ($u eq 'CASE' && up($next) ne 'WHEN')
			{
				finding($where, "a simple CASE x WHEN looks up = by name; write CASE WHEN x OPERATOR(pg_catalog.=) ...", $ctx);
			}
			if ($u eq 'COLLATE' && !($i + 2 < @t && $t[ $i + 2 ][1] eq '.'
				&& lc($next->[1]) eq 'pg_catalog'))
			{
				finding($where, "COLLATE without pg_catalog.", $ctx);
			}
			if ($u eq 'USING' && !$plpgsql && $next && $next->[0] eq 'op')
			{
				finding($where, "ORDER BY ... USING names an operator", $ctx);
			}

			# function calls
			if ($next && $next->[1] eq '(' && $next->[0] eq 'punct')
			{
				my $qualified = $prev && $prev->[1] eq '.' && $i > 1
				  && $ok_schema{ lc($t[ $i - 2 ][1]) };
				my $alias = $prev && (up($prev) eq 'AS' || $prev->[1] eq ')');
				$called{ lc($text) } = 1 if $qualified && lc($t[ $i - 2 ][1]) eq 'pg_catalog';
				if (!$qualified && !$alias && !$kw_paren{$u}
					&& !($prev && $prev->[1] eq '.'))
				{
					finding($where, "function $text() without schema", $ctx);
				}
				elsif ($prev && $prev->[1] eq '.' && !$qualified && !$alias)
				{
					finding($where, "function $t[$i - 2][1].$text() in a schema other than pg_catalog or csms", $ctx);
				}
			}

			# CAST(x AS type)
			if ($u eq 'AS' && $depth > 0 && $next && $next->[0] eq 'ident')
			{
				# only inside CAST(: find the opening paren's keyword
				my ($d, $k) = (0, $i - 1);
				for (; $k >= 0; $k--)
				{
					$d-- if $t[$k][1] eq ')';
					if ($t[$k][1] eq '(') { last if $d == 0; $d++; }
				}
				if ($k > 0 && up($t[ $k - 1 ]) eq 'CAST')
				{
					check_type($where, \@t, $i + 1, $ctx);
				}
			}
			next;
		}
		if ($type eq 'cast')
		{
			check_type($where, \@t, $i + 1, $ctx);
			next;
		}
		if ($type eq 'dollar' && $in_function)
		{
			push @{ $in_function->{bodies} }, [$text, $t[$i][2]];
			next;
		}
		if ($type eq 'op')
		{
			# OPERATOR(schema.op)
			if ($i >= 3 && $t[ $i - 1 ][1] eq '.' && $t[ $i - 3 ][1] eq '(' && $i >= 4
				&& up($t[ $i - 4 ]) eq 'OPERATOR')
			{
				finding($where, "OPERATOR($t[$i - 2][1].$text) of a schema other than pg_catalog", $ctx)
				  unless lc($t[ $i - 2 ][1]) eq 'pg_catalog';
				next;
			}
			# the star of SELECT *, t.*, count(*), RETURNING *
			if ($text eq '*' && $prev && ($prev->[1] eq '.' || $prev->[1] eq '('
				|| $prev->[1] eq ',' || up($prev) =~ /^(SELECT|RETURNING)$/))
			{
				next;
			}
			if ($text eq '=' && grep { $_ == $depth } @assign_depth)
			{
				next;
			}
			finding($where, "operator $text without OPERATOR(pg_catalog.$text)", $ctx);
			next;
		}
	}
	for my $b (@bodies)
	{
		my ($body, $off, $blang) = @$b;
		next unless $blang eq 'plpgsql' || $blang eq 'sql';
		check_sql($file, $line0 + (substr($sql, 0, $off) =~ tr/\n//), $body, $blang eq 'plpgsql');
	}
}

sub check_type
{
	my ($where, $t, $k, $ctx) = @_;
	my $tok = $t->[$k];
	return unless $tok && $tok->[0] eq 'ident';
	if ($k + 2 < @$t && $t->[ $k + 1 ][1] eq '.')
	{
		my $array = $k + 4 < @$t && $t->[ $k + 3 ][1] eq '[' && $t->[ $k + 4 ][1] eq ']';
		$types_used{ lc($t->[ $k + 2 ][1]) . ($array ? '[]' : '') } = 1
		  if lc($tok->[1]) eq 'pg_catalog';
		finding($where, "cast to type $tok->[1].$t->[$k + 2][1] of a schema other than pg_catalog or csms", $ctx)
		  unless $ok_schema{ lc($tok->[1]) };
		return;
	}
	finding($where, "cast to type $tok->[1] without schema", $ctx)
	  unless $kw_types{ lc($tok->[1]) };
}

# C files: the SQL texts of string literal runs
sub c_texts
{
	my ($file) = @_;
	open(my $fh, '<', $file) or die "$file: $!";
	local $/;
	my $src = <$fh>;
	close $fh;
	$src =~ s{/\*.*?\*/}{ my $c = $&; $c =~ s/[^\n]/ /g; $c }gse;	# keep line numbers
	$src =~ s{//[^\n]*}{}g;
	my %macro;
	while ($src =~ /^[ \t]*#[ \t]*define[ \t]+(\w+)[ \t]*(?:\\\n[ \t]*)?((?:"(?:[^"\\]|\\.)*"[ \t]*(?:\\\n[ \t]*)?)+)$/mg)
	{
		my ($name, $body) = ($1, $2);
		$macro{$name} = join('', map { unescape($_) } $body =~ /"((?:[^"\\]|\\.)*)"/g);
	}
	my @out;
	my $lit = qr/"(?:[^"\\\n]|\\.)*"/;
	my $macros = join('|', map { quotemeta } sort keys %macro) || '(?!)';
	# an upper-case name between literals that is no string macro of the
	# file would hide part of a text: it stays in the run and is reported
	while ($src =~ /((?:$lit|\b(?:$macros)\b)(?:\s*(?:$lit|\b(?:$macros)\b|\b[A-Z_][A-Z0-9_]*\b(?=\s*")))*)/g)
	{
		my $run = $1;
		my $at = $-[1];
		next unless $run =~ /"/;
		my $line = 1 + (substr($src, 0, $at) =~ tr/\n//);
		# a #define line is checked where it is used
		my $bol = rindex($src, "\n", $at) + 1;
		next if substr($src, $bol, $at - $bol) =~ /^\s*#\s*define\b/;
		my $text = '';
		my @unknown;
		while ($run =~ /\G\s*(?:"((?:[^"\\\n]|\\.)*)"|(\w+))/gc)
		{
			if (defined $1) { $text .= unescape($1); }
			elsif (exists $macro{$2}) { $text .= $macro{$2}; }
			else { push @unknown, $2; $text .= ' '; }
		}
		next unless $text =~ /^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|VALUES)\b/;
		push @findings, "$file:$line: \"$_\" between the literals of an SQL text is no string macro of this file"
		  for @unknown;
		push @out, [$line, $text];
		# a CsmsStmt: the types of its parameters follow ({TEXTOID, ...})
		if (substr($src, $at + length($run), 400) =~ /^\s*,\s*\d+\s*,\s*\{([^}]*)\}/)
		{
			for my $oid ($1 =~ /(\w+)OID\b/g)
			{
				my $name = lc($oid);
				$name =~ s/array$/[]/;
				$types_used{$name} = 1;
			}
		}
	}
	return @out;
}

sub unescape
{
	my ($s) = @_;
	$s =~ s/\\(["\\'])/$1/g;
	$s =~ s/\\n/\n/g;
	$s =~ s/\\t/\t/g;
	return $s;
}

# --self-test: the check finds what it must find, and nothing in what is fine
if (grep { $_ eq '--self-test' } @ARGV)
{
	my @bad = (
		'SELECT a FROM csms.t WHERE a = $1',
		'SELECT now()',
		'SELECT a::text FROM csms.t',
		'SELECT a FROM csms.t WHERE a IS DISTINCT FROM $1',
		'SELECT a FROM csms.t WHERE a IN (1, 2)',
		'SELECT a FROM csms.t WHERE a LIKE $1',
		'SELECT CASE a WHEN 1 THEN 2 END FROM csms.t',
		'SELECT a FROM csms.t ORDER BY a COLLATE "C"',
		'SELECT a OPERATOR(public.=) b FROM csms.t',
		'SELECT public.f(a) FROM csms.t',
		'UPDATE csms.t SET a = (SELECT b FROM csms.u WHERE c = 1)',
		'CREATE FUNCTION csms.f() RETURNS int LANGUAGE sql AS $$SELECT 1$$;',
		'DO $$BEGIN PERFORM count(*) FROM csms.t; END$$;',
		'SELECT NULLIF(a, b) FROM csms.t');
	my @good = (
		'SELECT a, pg_catalog.now(), b::pg_catalog.text, c::integer FROM csms.t'
		  . ' WHERE a OPERATOR(pg_catalog.=) ANY ($1) AND EXISTS (SELECT FROM csms.u)',
		'UPDATE csms.t SET a = $1, (b, c) = (SELECT 1, 2) WHERE d OPERATOR(pg_catalog.<>) $2',
		'SELECT pg_catalog.count(*), t.* FROM ROWS FROM (pg_catalog.unnest($1)) AS t(x) ORDER BY x COLLATE pg_catalog."C"',
		'CREATE FUNCTION csms.f() RETURNS int LANGUAGE sql SET search_path = pg_catalog AS $$SELECT 1$$;',
		"DO \$\$BEGIN RAISE EXCEPTION 'x' USING ERRCODE = 'y'; END\$\$;",
		'CREATE TABLE csms.t (a int CHECK (a OPERATOR(pg_catalog.>=) 1)) WITH (fillfactor = 75);');
	my $failed = 0;
	# a C text: a macro this script knows is expanded, one it does not is reported
	{
		require File::Temp;
		my ($fh, $cfile) = File::Temp::tempfile(SUFFIX => '.c', UNLINK => 1);
		print $fh "#define COLS \\\n\t\"a, b\"\n"
		  . "static const char *q1 = \"SELECT \" COLS \" FROM csms.t WHERE a = 1\";\n"
		  . "static const char *q2 = \"SELECT a \" HIDDEN \" FROM csms.t\";\n";
		close $fh;
		@findings = ();
		my @t = c_texts($cfile);
		my $unknown = grep { /HIDDEN/ } @findings;
		check_sql('c', $_->[0], $_->[1], 0) for @t;
		my $eq = grep { /operator =/ } @findings;
		if (@t != 2 || $t[0][1] !~ /a, b FROM/ || !$unknown || !$eq)
		{
			print "self-test: C texts, macros: @findings\n";
			$failed = 1;
		}
	}
	for my $sql (@bad)
	{
		@findings = ();
		check_sql('bad', 1, $sql, 0);
		if (!@findings) { print "self-test: not found in: $sql\n"; $failed = 1; }
	}
	for my $sql (@good)
	{
		@findings = ();
		check_sql('good', 1, $sql, 0);
		if (@findings) { print "self-test: false finding: $_\n" for @findings; $failed = 1; }
	}
	printf "sql qualification self-test: %d bad and %d good texts, %s\n", scalar @bad,
	  scalar @good, $failed ? 'FAILED' : 'ok';
	exit $failed;
}

chdir(($0 =~ m{^(.*)/scripts/[^/]+$})[0] // '.') or die;
for my $f (sort glob('src/*.c'))
{
	for my $x (c_texts($f))
	{
		check_sql($f, $x->[0], $x->[1], 0);
	}
	open(my $fh, '<', $f) or die;
	while (my $l = <$fh>)
	{
		if ($l =~ /\bSPI_(execute\w*|exec|prepare\w*|cursor_open\w*)\s*\(/ && $f ne 'src/spi.c')
		{
			push @findings, "$f:$.: SPI_$1 outside src/spi.c (run SQL through csms_exec)";
		}
	}
	close $fh;
}
for my $f (sort glob('sql/secrets--*.sql'))
{
	next if $f eq 'sql/secrets--1.0.sql' && !$all;
	open(my $fh, '<', $f) or die;
	local $/;
	my $sql = <$fh>;
	close $fh;
	$sql =~ s/^\\echo[^\n]*//m;
	check_sql($f, 1, $sql, 0);
}
if ($list_functions)
{
	# for the hostile-schema suite: array literals of the names
	print '{', join(',', sort keys %called), "}\n";
	exit 0;
}
if (grep { $_ eq '--types' } @ARGV)
{
	print '{', join(',', map { qq("$_") } sort keys %types_used), "}\n";
	exit 0;
}
if (grep { $_ eq '--relations' } @ARGV)
{
	print '{', join(',', map { "pg_catalog.$_" } sort keys %relations), "}\n";
	exit 0;
}
print "$_\n" for @findings;
printf "sql qualification: %d SQL texts, %d findings\n", $texts, scalar @findings;
exit(@findings ? 1 : 0);
