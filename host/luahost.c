/*
 * luahost.c: the host services of `lethe.native` for Lethe's trusted Lua
 * code: hashing, files and folders, the login name, the terminal, time,
 * signals, searching files for erased values and checking regular
 * expressions. Policies never see these functions.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "luahost.h"

#include "embedded.h"
#include "erasure_scan.h"
#include "idset.h"
#include "luadb.h"
#include "scan.h"
#include "sha256.h"
#include "sqlfunctions.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <lauxlib.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* native.sha256(string) -> 64 hex digits. [-1, +1, m] */
static int native_sha256(lua_State *L)
{
    size_t length;
    const char *data = luaL_checklstring(L, 1, &length);
    struct sha256 context;
    unsigned char digest[32];
    char hex[65];
    sha256_init(&context);
    sha256_update(&context, data, length);
    sha256_final(&context, digest);
    sha256_hex(digest, hex);
    lua_pushstring(L, hex);
    return 1;
}

/* native.hmac_sha256(key, message) -> 64 hex digits. [-2, +1, m] */
static int native_hmac_sha256(lua_State *L)
{
    size_t key_size, message_size;
    const char *key = luaL_checklstring(L, 1, &key_size);
    const char *message = luaL_checklstring(L, 2, &message_size);
    unsigned char digest[32];
    char hex[65];
    sha256_hmac(key, key_size, message, message_size, digest);
    sha256_hex(digest, hex);
    lua_pushstring(L, hex);
    return 1;
}

static bool hash_id(uint32_t id, void *context)
{
    unsigned char bytes[4] = {(unsigned char)id, (unsigned char)(id >> 8),
                              (unsigned char)(id >> 16),
                              (unsigned char)(id >> 24)};
    sha256_update(context, bytes, 4);
    return true;
}

/* native.set_digest(set) -> hex SHA-256 of the entity name, a NUL and the
 * ids in ascending order as 4-byte little-endian integers. [-1, +1, m] */
static int native_set_digest(lua_State *L)
{
    struct idset *set = idset_check(L, 1);
    struct sha256 context;
    unsigned char digest[32];
    char hex[65];
    sha256_init(&context);
    sha256_update(&context, set->entity, strlen(set->entity) + 1);
    roaring_iterate(set->bitmap, hash_id, &context);
    sha256_final(&context, digest);
    sha256_hex(digest, hex);
    lua_pushstring(L, hex);
    return 1;
}

/* native.embedded(name) -> the text of an embedded file, or nil. */
static int native_embedded(lua_State *L)
{
    const struct embedded_file *file = embedded_find(luaL_checkstring(L, 1));
    if (file)
        lua_pushlstring(L, file->data, file->size);
    else
        lua_pushnil(L);
    return 1;
}

/* native.read_file(path) -> text | nil, message. */
static int native_read_file(lua_State *L)
{
    char *data = NULL, *err = NULL;
    size_t size = 0;
    if (util_read_file(luaL_checkstring(L, 1), &data, &size, &err) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        free(err);
        return 2;
    }
    lua_pushlstring(L, data, size);
    free(data);
    return 1;
}

/* native.write_file(path, text [, "append"]) -> true | nil, message.
 * Creates or replaces the file, or appends to it. */
static int native_write_file(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    size_t length;
    const char *text = luaL_checklstring(L, 2, &length);
    int append = strcmp(luaL_optstring(L, 3, "replace"), "append") == 0;
    FILE *file = fopen(path, append ? "ab" : "wb");
    int ok = file && fwrite(text, 1, length, file) == length;
    if (file && fclose(file) != 0)
        ok = 0;
    if (!ok) {
        lua_pushnil(L);
        lua_pushfstring(L, "cannot write %s", path);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* native.list_dir(path) -> sorted names of the entries (not . or ..) |
 * nil, message. [-1, +1|2, m] */
static int native_list_dir(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    DIR *directory = opendir(path);
    if (!directory) {
        lua_pushnil(L);
        lua_pushfstring(L, "cannot list %s: %s", path, strerror(errno));
        return 2;
    }
    size_t count = 0, capacity = 16;
    char **names = util_malloc(capacity * sizeof *names);
    struct dirent *entry;
    while ((entry = readdir(directory)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 ||
            strcmp(entry->d_name, "..") == 0)
            continue;
        if (count == capacity) {
            capacity *= 2;
            names = util_realloc(names, capacity * sizeof *names);
        }
        names[count++] = util_strdup(entry->d_name);
    }
    closedir(directory);
    qsort(names, count, sizeof *names, compare_strings);
    lua_createtable(L, (int)count, 0);
    for (size_t i = 0; i < count; i++) {
        lua_pushstring(L, names[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
        free(names[i]);
    }
    free(names);
    return 1;
}

/* native.is_directory(path) -> boolean. */
static int native_is_directory(lua_State *L)
{
    struct stat info;
    lua_pushboolean(L, stat(luaL_checkstring(L, 1), &info) == 0 &&
                           S_ISDIR(info.st_mode));
    return 1;
}

/* native.make_directories(path) creates path and its missing parents
 * (mode 0700). Returns true | nil, message. */
static int native_make_directories(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    char *copy = util_strdup(path);
    int ok = 1;
    for (char *c = copy + 1; ok && *c; c++) {
        if (*c != '/')
            continue;
        *c = '\0';
        if (mkdir(copy, 0700) != 0 && errno != EEXIST)
            ok = 0;
        *c = '/';
    }
    if (ok && mkdir(copy, 0700) != 0 && errno != EEXIST)
        ok = 0;
    free(copy);
    if (!ok) {
        lua_pushnil(L);
        lua_pushfstring(L, "cannot create %s: %s", path, strerror(errno));
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* native.absolute_path(path) -> the absolute path with symbolic links
 * resolved, or nil when the file does not exist. */
static int native_absolute_path(lua_State *L)
{
    char *resolved = realpath(luaL_checkstring(L, 1), NULL);
    if (!resolved) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushstring(L, resolved);
    free(resolved);
    return 1;
}

/* native.username() -> the login name, from the password database, else
 * $USER, else nil. */
static int native_username(lua_State *L)
{
    struct passwd *entry = getpwuid(geteuid());
    const char *name = entry ? entry->pw_name : getenv("USER");
    if (name && *name)
        lua_pushstring(L, name);
    else
        lua_pushnil(L);
    return 1;
}

/* native.isatty(fd) -> boolean; native.use_color(fd) -> boolean. */
static int native_isatty(lua_State *L)
{
    lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)));
    return 1;
}

static int native_use_color(lua_State *L)
{
    lua_pushboolean(L, util_use_color((int)luaL_checkinteger(L, 1)));
    return 1;
}

/* native.read_line(prompt) -> the line without its newline, or nil at end
 * of input. The prompt goes to standard error. */
static int native_read_line(lua_State *L)
{
    fputs(luaL_checkstring(L, 1), stderr);
    fflush(stderr);
    char buffer[512];
    if (!fgets(buffer, sizeof buffer, stdin)) {
        lua_pushnil(L);
        return 1;
    }
    buffer[strcspn(buffer, "\r\n")] = '\0';
    lua_pushstring(L, buffer);
    return 1;
}

static volatile sig_atomic_t interrupt_requested;

static void note_interrupt(int signal_number)
{
    (void)signal_number;
    interrupt_requested = 1;
}

/* native.catch_interrupts(on) makes SIGINT set a flag that
 * native.interrupted() reads, so that a batched run can stop at a batch
 * boundary; catch_interrupts(false) restores the default action (the
 * process ends and SQLite rolls back the open transaction). */
static int native_catch_interrupts(lua_State *L)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    sigemptyset(&action.sa_mask);
    action.sa_handler = lua_toboolean(L, 1) ? note_interrupt : SIG_DFL;
    interrupt_requested = 0;
    sigaction(SIGINT, &action, NULL);
    return 0;
}

/* native.interrupted() -> true once SIGINT arrived while caught. */
static int native_interrupted(lua_State *L)
{
    lua_pushboolean(L, interrupt_requested != 0);
    return 1;
}

/* native.check_regex(pattern) -> true | nil, message. */
static int native_check_regex(lua_State *L)
{
    char *err = NULL;
    if (sqlfunctions_check_regex(luaL_checkstring(L, 1), &err) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        free(err);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* native.time() -> seconds since the epoch, UTC. */
static int native_time(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)time(NULL));
    return 1;
}

/* native.stderr(text) writes text to standard error unbuffered. */
static int native_stderr(lua_State *L)
{
    size_t length;
    const char *text = luaL_checklstring(L, 1, &length);
    fwrite(text, 1, length, stderr);
    fflush(stderr);
    return 0;
}

/* Fill a new userdata array of needles from the non-empty strings of the
 * table at `arg`; the strings stay alive in that table. [-0, +1, v] */
static struct scan_needle *check_needles(lua_State *L, int arg, size_t *count)
{
    luaL_checktype(L, arg, LUA_TTABLE);
    *count = (size_t)luaL_len(L, arg);
    struct scan_needle *needles =
        lua_newuserdatauv(L, (*count ? *count : 1) * sizeof *needles, 0);
    for (size_t i = 0; i < *count; i++) {
        lua_geti(L, arg, (lua_Integer)i + 1);
        needles[i].bytes = luaL_checklstring(L, -1, &needles[i].length);
        luaL_argcheck(L, needles[i].length > 0, arg, "empty value");
        needles[i].count = 0;
        lua_pop(L, 1);
    }
    return needles;
}

/* Fill a new userdata array with the strings of the table at `arg`;
 * they stay alive in that table. [-0, +1, v] */
static const char **check_strings(lua_State *L, int arg, size_t *count)
{
    luaL_checktype(L, arg, LUA_TTABLE);
    *count = (size_t)luaL_len(L, arg);
    const char **strings =
        lua_newuserdatauv(L, (*count ? *count : 1) * sizeof *strings, 0);
    for (size_t i = 0; i < *count; i++) {
        lua_geti(L, arg, (lua_Integer)i + 1);
        strings[i] = luaL_checkstring(L, -1);
        lua_pop(L, 1);
    }
    return strings;
}

/* Push the results of erasure_scan: { counts = { per file: counts[i] } }.
 * [-0, +1, m] */
static void push_erasure_scan(lua_State *L, size_t file_count, size_t count,
                              const long *residues)
{
    lua_createtable(L, 0, 1);
    lua_createtable(L, (int)file_count, 0);
    for (size_t f = 0; f < file_count; f++) {
        lua_createtable(L, (int)count, 0);
        for (size_t i = 0; i < count; i++) {
            lua_pushinteger(L, residues[f * count + i]);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        lua_rawseti(L, -2, (lua_Integer)f + 1);
    }
    lua_setfield(L, -2, "counts");
}

/* native.erasure_scan(db, files, queries, values) -> result | false |
 * nil, message. result.counts[f][i] is the number of residues of the
 * non-empty string values[i] in files[f], as erasure_scan.h defines
 * them, so 0 when a live record contains values[i] (a missing file gives
 * zeros). files[1] is the
 * database file and files[2] its WAL. The queries return the live
 * records. With queries nil, returns false when the rows would have to
 * be searched (see erasure_scan.h). [-4, +1|2, v] */
static int native_erasure_scan(lua_State *L)
{
    sqlite3 *db = luadb_check(L, 1);
    size_t file_count, sql_count = 0, count;
    const char **files = check_strings(L, 2, &file_count);
    const char **sqls =
        lua_isnil(L, 3) ? NULL : check_strings(L, 3, &sql_count);
    struct scan_needle *needles = check_needles(L, 4, &count);
    size_t cells = (file_count ? file_count : 1) * (count ? count : 1);
    long *residues = lua_newuserdatauv(L, cells * sizeof *residues, 0);
    char *err = NULL;
    /* No Lua call may raise until erasure_scan returns. */
    int status = erasure_scan(db, files, file_count, sqls, sql_count,
                              needles, count, residues, &err);
    if (status == 1) {
        lua_pushboolean(L, 0);
        return 1;
    }
    if (status != 0) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        free(err);
        return 2;
    }
    push_erasure_scan(L, file_count, count, residues);
    return 1;
}

/* native.count_needles(text, needles) -> a sequence of the number of
 * occurrences of each non-empty string needles[i] in text, overlapping
 * ones included. [-2, +1, v] */
static int native_count_needles(lua_State *L)
{
    size_t length, count;
    const char *text = luaL_checklstring(L, 1, &length);
    struct scan_needle *needles = check_needles(L, 2, &count);
    struct scan_index *index = scan_index_new(needles, count);
    scan_index_count(index, text, length, length);
    scan_index_free(index);
    lua_createtable(L, (int)count, 0);
    for (size_t i = 0; i < count; i++) {
        lua_pushinteger(L, needles[i].count);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static const luaL_Reg host_functions[] = {
    {"sha256", native_sha256},
    {"hmac_sha256", native_hmac_sha256},
    {"set_digest", native_set_digest},
    {"embedded", native_embedded},
    {"read_file", native_read_file},
    {"write_file", native_write_file},
    {"username", native_username},
    {"isatty", native_isatty},
    {"use_color", native_use_color},
    {"read_line", native_read_line},
    {"time", native_time},
    {"stderr", native_stderr},
    {"erasure_scan", native_erasure_scan},
    {"count_needles", native_count_needles},
    {"make_directories", native_make_directories},
    {"absolute_path", native_absolute_path},
    {"catch_interrupts", native_catch_interrupts},
    {"interrupted", native_interrupted},
    {"check_regex", native_check_regex},
    {"list_dir", native_list_dir},
    {"is_directory", native_is_directory},
    {NULL, NULL},
};

void luahost_add_functions(lua_State *L)
{
    luaL_setfuncs(L, host_functions, 0);
    lua_pushliteral(L, LETHE_VERSION);
    lua_setfield(L, -2, "version");
}
