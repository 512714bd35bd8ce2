/*
 * faultvfs.c: the write-failure test hook (see faultvfs.h).
 *
 * Each file opened through the shim is a struct fault_file whose real
 * file, as the underlying VFS opened it, follows it in the same
 * allocation. Every method passes straight to the real file, except that
 * xWrite first counts the call and fails from the configured call on.
 */
#include "faultvfs.h"

#include "util.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

struct fault_file {
    sqlite3_file base;  /* the part SQLite uses, so it comes first */
    sqlite3_file *real; /* the underlying VFS's file, stored after this */
};

static sqlite3_vfs *real_vfs;
static sqlite3_vfs fault_vfs;

/* xWrite calls so far, and the call from which writes fail (0: none).
 * NOTE: plain counters, because Lethe uses each connection from one
 * thread only. */
static unsigned long write_calls;
static unsigned long fail_from;

static sqlite3_file *real_file(sqlite3_file *file)
{
    return ((struct fault_file *)file)->real;
}

/* ---------------------------------------------------------------------- */
/* File methods                                                           */
/* ---------------------------------------------------------------------- */

static int fault_close(sqlite3_file *file)
{
    sqlite3_file *real = real_file(file);
    return real->pMethods->xClose(real);
}

static int fault_read(sqlite3_file *file, void *buffer, int amount,
                      sqlite3_int64 offset)
{
    sqlite3_file *real = real_file(file);
    return real->pMethods->xRead(real, buffer, amount, offset);
}

static int fault_write(sqlite3_file *file, const void *buffer, int amount,
                       sqlite3_int64 offset)
{
    sqlite3_file *real = real_file(file);
    write_calls++;
    if (fail_from > 0 && write_calls >= fail_from)
        return SQLITE_IOERR_WRITE;
    return real->pMethods->xWrite(real, buffer, amount, offset);
}

static int fault_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    sqlite3_file *real = real_file(file);
    return real->pMethods->xTruncate(real, size);
}

static int fault_sync(sqlite3_file *file, int flags)
{
    sqlite3_file *real = real_file(file);
    return real->pMethods->xSync(real, flags);
}

static int fault_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    sqlite3_file *real = real_file(file);
    return real->pMethods->xFileSize(real, size);
}

static int fault_lock(sqlite3_file *file, int level)
{
    sqlite3_file *real = real_file(file);
    return real->pMethods->xLock(real, level);
}

static int fault_unlock(sqlite3_file *file, int level)
{
    sqlite3_file *real = real_file(file);
    return real->pMethods->xUnlock(real, level);
}

static int fault_check_reserved_lock(sqlite3_file *file, int *result)
{
    sqlite3_file *real = real_file(file);
    return real->pMethods->xCheckReservedLock(real, result);
}

static int fault_file_control(sqlite3_file *file, int operation,
                              void *argument)
{
    sqlite3_file *real = real_file(file);
    return real->pMethods->xFileControl(real, operation, argument);
}

static int fault_sector_size(sqlite3_file *file)
{
    sqlite3_file *real = real_file(file);
    return real->pMethods->xSectorSize(real);
}

static int fault_device_characteristics(sqlite3_file *file)
{
    sqlite3_file *real = real_file(file);
    return real->pMethods->xDeviceCharacteristics(real);
}

/* The shared-memory methods (WAL mode) exist from version 2 of the file
 * methods, memory-mapped reads from version 3. For a real file of an
 * older version these return what SQLite expects from a file without
 * them. */
static int fault_shm_map(sqlite3_file *file, int region, int size,
                         int extend, void volatile **address)
{
    sqlite3_file *real = real_file(file);
    if (real->pMethods->iVersion < 2)
        return SQLITE_IOERR_SHMMAP;
    return real->pMethods->xShmMap(real, region, size, extend, address);
}

static int fault_shm_lock(sqlite3_file *file, int offset, int count,
                          int flags)
{
    sqlite3_file *real = real_file(file);
    if (real->pMethods->iVersion < 2)
        return SQLITE_IOERR_SHMLOCK;
    return real->pMethods->xShmLock(real, offset, count, flags);
}

static void fault_shm_barrier(sqlite3_file *file)
{
    sqlite3_file *real = real_file(file);
    if (real->pMethods->iVersion >= 2)
        real->pMethods->xShmBarrier(real);
}

static int fault_shm_unmap(sqlite3_file *file, int delete_flag)
{
    sqlite3_file *real = real_file(file);
    if (real->pMethods->iVersion < 2)
        return SQLITE_OK;
    return real->pMethods->xShmUnmap(real, delete_flag);
}

static int fault_fetch(sqlite3_file *file, sqlite3_int64 offset, int amount,
                       void **pointer)
{
    sqlite3_file *real = real_file(file);
    if (real->pMethods->iVersion < 3) {
        *pointer = NULL;
        return SQLITE_OK;
    }
    return real->pMethods->xFetch(real, offset, amount, pointer);
}

static int fault_unfetch(sqlite3_file *file, sqlite3_int64 offset,
                         void *pointer)
{
    sqlite3_file *real = real_file(file);
    if (real->pMethods->iVersion < 3)
        return SQLITE_OK;
    return real->pMethods->xUnfetch(real, offset, pointer);
}

static const sqlite3_io_methods fault_io_methods = {
    3,
    fault_close,
    fault_read,
    fault_write,
    fault_truncate,
    fault_sync,
    fault_file_size,
    fault_lock,
    fault_unlock,
    fault_check_reserved_lock,
    fault_file_control,
    fault_sector_size,
    fault_device_characteristics,
    fault_shm_map,
    fault_shm_lock,
    fault_shm_barrier,
    fault_shm_unmap,
    fault_fetch,
    fault_unfetch,
};

/* ---------------------------------------------------------------------- */
/* VFS methods                                                            */
/* ---------------------------------------------------------------------- */

/* Open the real file in the space after the shim's own struct. SQLite
 * calls xClose only when pMethods is set, so a failed open leaves it
 * NULL exactly when the real VFS left its own NULL. */
static int fault_open(sqlite3_vfs *vfs, sqlite3_filename name,
                      sqlite3_file *file, int flags, int *out_flags)
{
    (void)vfs;
    struct fault_file *shim = (struct fault_file *)file;
    shim->real = (sqlite3_file *)(shim + 1);
    int status = real_vfs->xOpen(real_vfs, name, shim->real, flags,
                                 out_flags);
    shim->base.pMethods = shim->real->pMethods ? &fault_io_methods : NULL;
    return status;
}

static int fault_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int fault_access(sqlite3_vfs *vfs, const char *name, int flags,
                        int *result)
{
    (void)vfs;
    return real_vfs->xAccess(real_vfs, name, flags, result);
}

static int fault_full_pathname(sqlite3_vfs *vfs, const char *name,
                               int size, char *out)
{
    (void)vfs;
    return real_vfs->xFullPathname(real_vfs, name, size, out);
}

static void *fault_dl_open(sqlite3_vfs *vfs, const char *name)
{
    (void)vfs;
    return real_vfs->xDlOpen(real_vfs, name);
}

static void fault_dl_error(sqlite3_vfs *vfs, int size, char *message)
{
    (void)vfs;
    real_vfs->xDlError(real_vfs, size, message);
}

static void (*fault_dl_sym(sqlite3_vfs *vfs, void *handle,
                           const char *symbol))(void)
{
    (void)vfs;
    return real_vfs->xDlSym(real_vfs, handle, symbol);
}

static void fault_dl_close(sqlite3_vfs *vfs, void *handle)
{
    (void)vfs;
    real_vfs->xDlClose(real_vfs, handle);
}

static int fault_randomness(sqlite3_vfs *vfs, int size, char *out)
{
    (void)vfs;
    return real_vfs->xRandomness(real_vfs, size, out);
}

static int fault_sleep(sqlite3_vfs *vfs, int microseconds)
{
    (void)vfs;
    return real_vfs->xSleep(real_vfs, microseconds);
}

static int fault_current_time(sqlite3_vfs *vfs, double *now)
{
    (void)vfs;
    return real_vfs->xCurrentTime(real_vfs, now);
}

static int fault_get_last_error(sqlite3_vfs *vfs, int size, char *message)
{
    (void)vfs;
    return real_vfs->xGetLastError(real_vfs, size, message);
}

static int fault_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *now)
{
    (void)vfs;
    return real_vfs->xCurrentTimeInt64(real_vfs, now);
}

static int fault_set_system_call(sqlite3_vfs *vfs, const char *name,
                                 sqlite3_syscall_ptr call)
{
    (void)vfs;
    return real_vfs->xSetSystemCall(real_vfs, name, call);
}

static sqlite3_syscall_ptr fault_get_system_call(sqlite3_vfs *vfs,
                                                 const char *name)
{
    (void)vfs;
    return real_vfs->xGetSystemCall(real_vfs, name);
}

static const char *fault_next_system_call(sqlite3_vfs *vfs,
                                          const char *name)
{
    (void)vfs;
    return real_vfs->xNextSystemCall(real_vfs, name);
}

/* ---------------------------------------------------------------------- */
/* Installing                                                             */
/* ---------------------------------------------------------------------- */

static void report_write_calls(void)
{
    fprintf(stderr, "lethe: test hook: %lu xWrite calls\n", write_calls);
}

/* Parse LETHE_TEST_FAIL_WRITE: a whole number, 0 or more. */
static int parse_fail_from(const char *text, unsigned long *out, char **err)
{
    char *end = NULL;
    errno = 0;
    unsigned long value = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-')
        return util_fail(err,
                         "LETHE_TEST_FAIL_WRITE is '%s', which is not a "
                         "whole number; set it to the xWrite call that "
                         "should fail first (0 only counts them), or "
                         "unset it",
                         text);
    *out = value;
    return 0;
}

int faultvfs_install(char **err)
{
    const char *setting = getenv("LETHE_TEST_FAIL_WRITE");
    if (!setting || real_vfs)
        return 0;
    unsigned long first_failure = 0;
    if (parse_fail_from(setting, &first_failure, err) != 0)
        return -1;
    sqlite3_vfs *underlying = sqlite3_vfs_find(NULL);
    if (!underlying)
        return util_fail(err, "test hook: SQLite has no default VFS");
    fault_vfs = (sqlite3_vfs){
        .iVersion = underlying->iVersion,
        .szOsFile = (int)sizeof(struct fault_file) + underlying->szOsFile,
        .mxPathname = underlying->mxPathname,
        .zName = "lethe-faultvfs",
        .xOpen = fault_open,
        .xDelete = fault_delete,
        .xAccess = fault_access,
        .xFullPathname = fault_full_pathname,
        .xDlOpen = fault_dl_open,
        .xDlError = fault_dl_error,
        .xDlSym = fault_dl_sym,
        .xDlClose = fault_dl_close,
        .xRandomness = fault_randomness,
        .xSleep = fault_sleep,
        .xCurrentTime = fault_current_time,
        .xGetLastError = fault_get_last_error,
        .xCurrentTimeInt64 = fault_current_time_int64,
        .xSetSystemCall = fault_set_system_call,
        .xGetSystemCall = fault_get_system_call,
        .xNextSystemCall = fault_next_system_call,
    };
    int status = sqlite3_vfs_register(&fault_vfs, 1);
    if (status != SQLITE_OK)
        return util_fail(err, "test hook: cannot register the VFS: %s",
                         sqlite3_errstr(status));
    real_vfs = underlying;
    fail_from = first_failure;
    if (fail_from == 0)
        atexit(report_write_calls);
    return 0;
}
