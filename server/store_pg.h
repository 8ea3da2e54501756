/*
 * What the PostgreSQL backend says of itself beyond the operations table
 * (which only the registry, store_backends.c, names): its schema version,
 * which locations are its own, and how to print one without its password.
 */
#ifndef PSI_HUB_STORE_PG_H
#define PSI_HUB_STORE_PG_H

#include <stddef.h>

/* The number of the last migration of the PostgreSQL schema (the row of
 * psi.schema_version). */
#define PSI_STORE_PG_SCHEMA_VERSION 2

/* 1 if location is a libpq connection string this backend takes: a
 * postgresql:// or postgres:// URL, or keyword=value pairs naming a host or
 * a database ("host=/tmp/pg dbname=hub"). */
int psi_store_pg_is_location(const char *location);

/* location as it may be printed: a URL's password and a password=... pair
 * replaced by "***". Always terminates out. */
void psi_store_pg_redact(const char *location, char *out, size_t cap);

#endif
