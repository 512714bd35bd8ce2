/*
 * test_lua.c: runs the Lua unit tests in tests/unit/lua/ against Lethe's
 * embedded modules. Each file is a chunk that raises an error on the first
 * failed check; this program reports one line per file and a summary.
 */
#include "runtime.h"

#include <dirent.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int run_file(const char *path)
{
    lua_State *L = runtime_new_state();
    if (!L) {
        fprintf(stderr, "%s: cannot create a Lua state\n", path);
        return 0;
    }
    int ok = luaL_dofile(L, path) == LUA_OK;
    if (!ok)
        fprintf(stderr, "FAIL %s: %s\n", path, lua_tostring(L, -1));
    else
        printf("ok   %s\n", path);
    lua_close(L);
    return ok;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    const char *folder = LETHE_SOURCE_DIR "/tests/unit/lua";
    DIR *directory = opendir(folder);
    if (!directory) {
        fprintf(stderr, "cannot open %s\n", folder);
        return 1;
    }
    char *names[256];
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(directory)) != NULL && count < 256) {
        size_t length = strlen(entry->d_name);
        if (length > 4 && strcmp(entry->d_name + length - 4, ".lua") == 0)
            names[count++] = strdup(entry->d_name);
    }
    closedir(directory);
    qsort(names, (size_t)count, sizeof names[0], compare_names);
    int passed = 0, failed = 0;
    for (int i = 0; i < count; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", folder, names[i]);
        if (run_file(path))
            passed++;
        else
            failed++;
        free(names[i]);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
