#!/usr/bin/env perl
# check-layers.pl: the layers of src/, and a check that the code keeps them.
#
#   perl scripts/check-layers.pl            check src/ (exit 1 on a finding)
#   perl scripts/check-layers.pl --list     print the layers
#   perl scripts/check-layers.pl --self-test
#
# @LAYERS below is the one list of the layers, bottom first; README.md,
# "Layout", describes them.  A module is a file stem: src/<m>.c and/or
# src/<m>.h.  The rules:
#   - every file of src/ belongs to exactly one module of one layer;
#   - a file includes headers of its own layer or of lower ones only;
#   - no two modules include each other's headers, and no longer circle of
#     includes exists either;
#   - the pure layer includes no PostgreSQL header (only <system> headers,
#     OpenSSL's and other pure headers), so that test/ and fuzz/ build it
#     alone;
#   - a module other than an entry point (the api layer, module.c) has a
#     header, which its .c includes; entry points have none, so they cannot
#     call one another.
use strict;
use warnings;

our @LAYERS = (
	[ 'pure',     [qw(crypto alloc keymem json blob sqlmask scram password)],
	  'no PostgreSQL header: crypto, allocation, key pages, JSON, the blob codec, SQL text masking, SCRAM verifiers, random passwords' ],
	[ 'base',     [qw(util settings workers validate context redact)],
	  'limits and helpers, settings, argument checks, the call context, log redaction' ],
	[ 'storage',  [qw(catalog spi rowio roledep)],
	  'the relations of schema csms, SQL statements, row reads and writes without the planner, roles recorded as dependencies' ],
	[ 'keys',     [qw(keyring)],
	  'the root key, CMK material and key references (caches)' ],
	[ 'envelope', [qw(envelope)],
	  'seal, open and re-wrap values; the data-key memo' ],
	[ 'frame',    [qw(frame acl)],
	  'the call frame: SPI, owner, search_path, account, region, root key; who may do what' ],
	[ 'domain',   [qw(usage event secret version value replica backup keys tag rotation maintenance)],
	  'secrets, versions and stages, values, replicas, backups, master keys, last_used_time, tags, events, rotation, the due work' ],
	[ 'api',      [qw(keys_api secrets_api versions_api replicas_api backup_api password_api acl_api tags_api events_api rotation_api maintenance_api)],
	  'the SQL entry points' ],
	[ 'module',   [qw(module)],
	  '_PG_init: settings, shared memory, hooks' ],
);

my %layer_of;
my %layer_name;
for my $i (0 .. $#LAYERS)
{
	for my $m (@{ $LAYERS[$i][1] })
	{
		die "module $m is listed twice\n" if exists $layer_of{$m};
		$layer_of{$m} = $i;
	}
	$layer_name{$i} = $LAYERS[$i][0];
}
my %entry = map { $_ => 1 } (@{ $LAYERS[7][1] }, @{ $LAYERS[8][1] });

# Findings for the files of directory $dir (a hash: file name -> text).
sub check
{
	my ($files) = @_;
	my @findings;
	my %edges;

	for my $f (sort keys %$files)
	{
		my ($m, $ext) = $f =~ /^(\w+)\.(c|h)$/ or next;
		if (!exists $layer_of{$m})
		{
			push @findings, "src/$f: module \"$m\" is in no layer (scripts/check-layers.pl, \@LAYERS)";
			next;
		}
		my $l = $layer_of{$m};
		my $n = 0;
		for my $line (split /\n/, $files->{$f})
		{
			$n++;
			if ($line =~ /^\s*#\s*include\s*"([\w\/.]+)"/)
			{
				my $h = $1;
				if ($h =~ /^(\w+)\.h$/ && exists $files->{$h})
				{
					my $hm = $1;
					if (!exists $layer_of{$hm})
					{
						next;			# reported for the header itself
					}
					if ($layer_of{$hm} > $l)
					{
						push @findings, "src/$f:$n: includes $h of layer $layer_name{$layer_of{$hm}}, above layer $layer_name{$l}";
					}
					$edges{$m}{$hm} = "src/$f:$n" if $hm ne $m;
				}
				elsif ($l == 0)
				{
					push @findings, "src/$f:$n: the pure layer includes \"$h\", which is not a pure header";
				}
			}
			elsif ($l == 0 && $line =~ /^\s*#\s*include\s*<([\w\/.]+)>/)
			{
				my $h = $1;
				push @findings, "src/$f:$n: the pure layer includes <$h>, a PostgreSQL header"
					if $h =~ m{^(postgres|fmgr|funcapi|miscadmin|pgstat|utils/|access/|catalog/|executor/|storage/|nodes/|lib/|common/|port/)};
			}
		}
	}

	# each module but the entry points has a header, included by its .c
	for my $f (sort keys %$files)
	{
		my ($m) = $f =~ /^(\w+)\.c$/ or next;
		next unless exists $layer_of{$m};
		if ($entry{$m})
		{
			push @findings, "src/$m.h: an entry point has no header (entry points do not call one another)"
				if exists $files->{"$m.h"};
			next;
		}
		if (!exists $files->{"$m.h"})
		{
			push @findings, "src/$f: has no header src/$m.h that says what it offers";
		}
		elsif ($files->{$f} !~ /^\s*#\s*include\s*"\Q$m\E\.h"/m)
		{
			push @findings, "src/$f: does not include its own header $m.h";
		}
	}

	# circles of includes between modules
	my %state;
	my @stack;
	my $visit;
	$visit = sub {
		my ($m) = @_;
		$state{$m} = 1;
		push @stack, $m;
		for my $to (sort keys %{ $edges{$m} || {} })
		{
			if (($state{$to} // 0) == 1)
			{
				my @circle = (@stack[(grep { $stack[$_] eq $to } 0 .. $#stack)[0] .. $#stack], $to);
				my @where = map { $edges{ $circle[$_] }{ $circle[ $_ + 1 ] } } 0 .. $#circle - 1;
				push @findings, "modules include each other: " . join(' -> ', @circle) . " (" . join(', ', @where) . ")";
			}
			elsif (!$state{$to})
			{
				$visit->($to);
			}
		}
		pop @stack;
		$state{$m} = 2;
	};
	for my $m (sort keys %edges)
	{
		$visit->($m) unless $state{$m};
	}
	return @findings;
}

sub self_test
{
	my $fail = 0;
	my $expect = sub {
		my ($what, $files, $pattern) = @_;
		my @f = check($files);
		my $ok = defined $pattern ? (grep { /$pattern/ } @f) : !@f;
		if (!$ok)
		{
			print "self-test FAILED: $what: ", (@f ? join('; ', @f) : 'no finding'), "\n";
			$fail = 1;
		}
	};
	$expect->('clean', { 'util.h' => '', 'util.c' => "#include \"util.h\"\n",
						 'spi.h' => "#include \"util.h\"\n", 'spi.c' => "#include \"spi.h\"\n" }, undef);
	$expect->('upward', { 'util.h' => "#include \"spi.h\"\n", 'util.c' => "#include \"util.h\"\n",
						  'spi.h' => '', 'spi.c' => "#include \"spi.h\"\n" }, qr/above layer base/);
	$expect->('mutual', { 'catalog.h' => '', 'catalog.c' => "#include \"catalog.h\"\n#include \"rowio.h\"\n",
						  'rowio.h' => '', 'rowio.c' => "#include \"rowio.h\"\n#include \"catalog.h\"\n" },
			  qr/include each other: catalog -> rowio -> catalog/);
	$expect->('unknown', { 'stray.c' => '' }, qr/in no layer/);
	$expect->('pure', { 'json.h' => '', 'json.c' => "#include \"json.h\"\n#include \"postgres.h\"\n" },
			  qr/not a pure header/);
	$expect->('pure angle', { 'json.h' => '', 'json.c' => "#include \"json.h\"\n#include <utils/palloc.h>\n" },
			  qr/PostgreSQL header/);
	$expect->('no header', { 'util.c' => '' }, qr/has no header/);
	$expect->('own header', { 'util.h' => '', 'util.c' => "#include \"spi.h\"\n", 'spi.h' => '' },
			  qr/does not include its own header/);
	$expect->('api header', { 'keys_api.c' => '', 'keys_api.h' => '' }, qr/entry point has no header/);
	print "check-layers self-test: ", ($fail ? "FAILED" : "ok"), "\n";
	return $fail;
}

my $arg = shift // '';
if ($arg eq '--self-test')
{
	exit self_test();
}
if ($arg eq '--list')
{
	for my $i (reverse 0 .. $#LAYERS)
	{
		printf "%-9s %-60s %s\n", $LAYERS[$i][0], join(' ', @{ $LAYERS[$i][1] }), $LAYERS[$i][2];
	}
	exit 0;
}
die "usage: $0 [--self-test | --list]\n" if $arg ne '';

my $dir = 'src';
opendir(my $dh, $dir) or die "cannot open $dir: $!\n";
my %files;
for my $f (grep { /^\w+\.[ch]$/ } readdir $dh)
{
	open(my $fh, '<', "$dir/$f") or die "cannot read $dir/$f: $!\n";
	local $/;
	$files{$f} = <$fh>;
	close $fh;
}
closedir $dh;
my @findings = check(\%files);
print "$_\n" for @findings;
printf "layers: %d files in %d layers, %d findings\n", scalar(keys %files), scalar(@LAYERS), scalar(@findings);
exit(@findings ? 1 : 0);
