/*
 * faultvfs.h: a TEST HOOK that makes database writes fail, so that tests
 * can check that an apply stopped by an I/O error leaves the database
 * either exactly as it was or fully applied, never in between.
 *
 * It is not a feature and does nothing unless the environment variable
 * LETHE_TEST_FAIL_WRITE is set:
 *
 *   LETHE_TEST_FAIL_WRITE=N, N >= 1
 *       the N-th xWrite call of the process fails with
 *       SQLITE_IOERR_WRITE, and so does every later one;
 *   LETHE_TEST_FAIL_WRITE=0
 *       no write fails, and the process prints the number of xWrite
 *       calls to standard error when it exits, as
 *       "lethe: test hook: N xWrite calls", so that a test can count the
 *       writes of a run before it makes each of them fail in turn.
 *
 * The hook is a VFS shim registered as SQLite's default VFS. It passes
 * every call to the VFS that was the default before, and counts the
 * xWrite calls to every file SQLite opens through it: the database, its
 * rollback journal and its WAL. Other files (exports, the ledger) are
 * written without SQLite and are not affected.
 */
#ifndef LETHE_FAULTVFS_H
#define LETHE_FAULTVFS_H

/* Register the shim as the default VFS when LETHE_TEST_FAIL_WRITE is set;
 * do nothing otherwise, or when it is registered already. Returns 0, or
 * -1 with a message in *err (freed by the caller) when the variable is
 * not a whole number or the shim cannot be registered. Call it before
 * opening a database. */
int faultvfs_install(char **err);

#endif
