# Makefile for the secrets extension (PGXS)
#
#   make run     set up everything, start a local PostgreSQL 15 with the
#                extension and show the main flows (scripts/run.sh)
#   make test    every test suite on throwaway clusters (scripts/test.sh)
#   make bench   the benchmarks (bench/run.sh)
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
	src/util.o \
	src/settings.o \
	src/validate.o \
	src/catalog.o \
	src/spi.o \
	src/rowio.o \
	src/redact.o \
	src/keyring.o \
	src/envelope.o \
	src/frame.o \
	src/usage.o \
	src/secret.o \
	src/version.o \
	src/value.o \
	src/replica.o \
	src/backup.o \
	src/keys.o \
	src/keys_api.o \
	src/secrets_api.o \
	src/versions_api.o \
	src/replicas_api.o \
	src/backup_api.o \
	src/password_api.o \
	src/module.o

DATA = sql/secrets--1.0.sql sql/secrets--1.1.sql sql/secrets--1.0--1.1.sql
PGFILEDESC = "secrets - a secrets manager inside PostgreSQL"

REGRESS = setup keys secrets versions values stages password tamper backup regions security hostile
REGRESS_OPTS = --inputdir=.
ISOLATION = concurrent_versions version_locking concurrent_create replica_sync read_cache write_cache usage_sync
ISOLATION_OPTS = --inputdir=.

PG_CPPFLAGS = -I$(srcdir)/src
PG_CFLAGS = -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-Wno-sign-compare
ifeq ($(WERROR),1)
PG_CFLAGS += -Werror
endif
SHLIB_LINK = -lcrypto

EXTRA_CLEAN = results output_iso regression.diffs regression.out tmp_check

PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config
ifneq ($(wildcard $(PG_CONFIG)),)
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
else
all:
	@echo "pg_config not found at $(PG_CONFIG): run 'make run' or 'make test' (they install the build dependencies), or install postgresql-server-dev-15 and libssl-dev" >&2; exit 1
endif

.PHONY: run test bench unittest
run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

bench:
	bash bench/run.sh

unittest:
	$(MAKE) -C test check

# PGXS does not track header dependencies: every object depends on src/*.h
$(OBJS): $(wildcard $(srcdir)/src/*.h)
