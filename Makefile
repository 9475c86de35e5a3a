# Makefile for the secrets extension (PGXS)
#
#   make run     set up everything, start a local PostgreSQL 15 with the
#                extension and show the main flows (scripts/run.sh)
#   make test    every test suite on throwaway clusters (scripts/test.sh)
#   make bench   the benchmarks (bench/run.sh)
#   make readme  rewrite README.md's example outputs from a real run
#
#   make, make install          build and install with the pg_config in PATH,
#                               or make PG_CONFIG=/path/to/pg_config
#   make installcheck           regress and isolation suites against a running
#                               server (PGHOST, PGPORT, ...); as a user other
#                               than root also the TAP suites (t/*.pl), which
#                               start clusters of their own
#   make prove_installcheck     the TAP suites alone (not as root)
#
# Building needs PostgreSQL 15 server headers and OpenSSL 3; `make run` and
# `make test` install them with apt-get when they are missing.

EXTENSION = secrets
MODULE_big = secrets
# src/: one concern per file, in layers that never call upward (README.md,
# "Layout"; scripts/check-layers.pl checks the includes against LAYERS there)
OBJS = \
	src/crypto.o \
	src/alloc.o \
	src/keymem.o \
	src/json.o \
	src/blob.o \
	src/sqlmask.o \
	src/scram.o \
	src/password.o \
	src/util.o \
	src/settings.o \
	src/workers.o \
	src/validate.o \
	src/catalog.o \
	src/spi.o \
	src/rowio.o \
	src/roledep.o \
	src/redact.o \
	src/keyring.o \
	src/envelope.o \
	src/frame.o \
	src/acl.o \
	src/usage.o \
	src/event.o \
	src/secret.o \
	src/version.o \
	src/value.o \
	src/replica.o \
	src/backup.o \
	src/maintenance.o \
	src/keys.o \
	src/tag.o \
	src/rotation.o \
	src/keys_api.o \
	src/secrets_api.o \
	src/versions_api.o \
	src/replicas_api.o \
	src/backup_api.o \
	src/password_api.o \
	src/acl_api.o \
	src/tags_api.o \
	src/events_api.o \
	src/rotation_api.o \
	src/maintenance_api.o \
	src/module.o

DATA = sql/secrets--1.0.sql sql/secrets--1.1.sql sql/secrets--1.0--1.1.sql
PGFILEDESC = "secrets - a secrets manager inside PostgreSQL"

REGRESS = setup keys secrets versions values stages password tamper backup regions security acl tags lifecycle rotation hostile
REGRESS_OPTS = --inputdir=.
ISOLATION = concurrent_versions version_locking concurrent_create replica_sync read_cache write_cache usage_sync acl_revoke tags_limit events_race rotation_race
ISOLATION_OPTS = --inputdir=.

PG_CPPFLAGS = -I$(srcdir)/src
PG_CFLAGS = -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-Wno-sign-compare
ifeq ($(WERROR),1)
PG_CFLAGS += -Werror
endif
SHLIB_LINK = -lcrypto

EXTRA_CLEAN = results output_iso regression.diffs regression.out tmp_check

# TAP suites start clusters, which PostgreSQL refuses to run as root: as
# root, make test runs them as the user postgres (scripts/tap.sh)
ifneq ($(shell id -u),0)
TAP_TESTS = 1
endif

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
all install installcheck:
	@echo "no PostgreSQL server development files found through $(PG_CONFIG): run 'make run' or 'make test' (they install the build dependencies), install postgresql-server-dev-15 and libssl-dev, or give make PG_CONFIG=/path/to/pg_config" >&2; exit 1
endif

# t/005 and t/008 read test/interop of the checkout
installcheck prove_installcheck: export SECRETS_SRC := $(abspath $(srcdir))

.PHONY: prove_installcheck
prove_installcheck:
	$(prove_installcheck)

.PHONY: run test bench unittest readme
run:
	PG_CONFIG=$(PG_CONFIG) bash scripts/run.sh

test:
	PG_CONFIG=$(PG_CONFIG) bash scripts/test.sh

bench:
	PG_CONFIG=$(PG_CONFIG) bash bench/run.sh

unittest:
	$(MAKE) -C test check

# rewrite README.md's example outputs from a real run (scripts/readme.sh)
readme: install
	PG_CONFIG=$(PG_CONFIG) bash scripts/readme.sh --write

# PGXS does not track header dependencies: every object depends on src/*.h
$(OBJS): $(wildcard $(srcdir)/src/*.h)
