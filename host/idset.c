/*
 * idset.c: sets of record ids of one entity, held in CRoaring bitmaps, as a
 * Lua userdata type.
 *
 * Sections: set lifetime, packing, argument checks, operators, methods,
 * sampling, serialization and module functions. Reading ids from SQL and the
 * lethe_ids virtual table are in idset_sql.c.
 *
 * NOTE: CRoaring 0.2.66 allocates with malloc and has no allocator hook, so
 * a Lua allocator's memory cap does not count bitmaps, and Lua's garbage
 * collector counts only the small userdata. The CRoaring 0.2.66 functions
 * that add to a bitmap do not report a failed allocation. Only those that
 * return a new bitmap do, and those failures raise here.
 */
#include "idset.h"
#include "idset_internal.h"
#include "idset_ops.h"
#include "idset_pack.h"

#include "sha256.h"
#include "util.h"

#include <assert.h>
#include <lauxlib.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#define ENTITY_MAX_LENGTH 255
/* Ids that one refill of a Lua iterator or of to_array() reads. */
#define CHUNK_SIZE 256
/* Seed of sample() when the caller gives none. */
#define DEFAULT_SAMPLE_SEED 0
/* The smallest set that idset_compact_idle() packs. */
#define IDLE_MIN_BYTES (64 * 1024)

/* Every set with a metatable, in a list that compaction walks. Sets are
 * used from one thread only. */
static struct idset *all_sets;
/* The current idle round; see idset_compact_idle(). */
static uint64_t idle_round = 1;
/* Bytes of sets freed since the last idle round. */
static size_t released_bytes;
/* The bytes of all open sets after the last collection that
 * idset_compact_idle() ran. */
static size_t collected_bytes;
/* Set bytes below which idset_compact_idle() runs no collection. */
#define COLLECT_MIN_BYTES (16 * 1024 * 1024)
/* The bytes freed since the last idle round above which that round hands
 * free pages back to the system. */
#define TRIM_MIN_BYTES (1024 * 1024)
/* See idset_pack_results(). */
static bool packing_results;
/* The largest set idset_pack_results() packs: forced packing of a range of
 * 2^32 ids would take 512 MB. */
#define PACK_RESULTS_MAX_IDS (1u << 20)

/* ---------------------------------------------------------------------- */
/* Set lifetime                                                            */
/* ---------------------------------------------------------------------- */

static void push_metatable(lua_State *L);

/* Raise the error for a bitmap that could not be allocated. [-0, +1, v] */
static int raise_memory(lua_State *L)
{
    return luaL_error(L, "not enough memory for an id set");
}

/* Push a set userdata that owns a copy of `entity` and has no bitmap yet,
 * for the caller to attach. Because the userdata exists first, __gc frees
 * whatever the caller attaches even when a later step raises. Raises on an
 * entity name that is empty or longer than ENTITY_MAX_LENGTH bytes, and on
 * memory exhaustion. [-0, +1, v] */
static struct idset *push_shell(lua_State *L, const char *entity)
{
    size_t length = strlen(entity);
    if (length == 0 || length > ENTITY_MAX_LENGTH)
        luaL_error(L, "invalid entity name '%s': expected 1 to %d bytes",
                   entity, ENTITY_MAX_LENGTH);
    struct idset *set = lua_newuserdatauv(L, sizeof *set, 0);
    memset(set, 0, sizeof *set);
    set->last_use = idle_round;
    push_metatable(L);
    lua_setmetatable(L, -2);
    set->next = all_sets;
    if (all_sets)
        all_sets->previous = set;
    all_sets = set;
    set->entity = malloc(length + 1);
    if (!set->entity)
        raise_memory(L);
    memcpy(set->entity, entity, length + 1);
    return set;
}

struct idset *idset_push(lua_State *L, const char *entity)
{
    struct idset *set = push_shell(L, entity);
    set->bitmap = roaring_bitmap_create();
    if (!set->bitmap)
        raise_memory(L);
    return set;
}

static size_t stored_bytes(const struct idset *set);

/* Free the bitmap and the packed containers of `set`. */
static void free_ids(struct idset *set)
{
    if (set->bitmap) {
        released_bytes += stored_bytes(set);
        roaring_bitmap_free(set->bitmap);
    }
    set->bitmap = NULL;
    idset_packed_free(set->packed);
    set->packed = NULL;
    set->generation++;
}

/* __gc: free the ids and the entity name, and leave the list of sets.
 * [-0, +0, -] */
static int set_collect(lua_State *L)
{
    struct idset *set = luaL_checkudata(L, 1, IDSET_METATABLE);
    free_ids(set);
    free(set->entity);
    set->entity = NULL;
    if (set->previous)
        set->previous->next = set->next;
    else if (all_sets == set)
        all_sets = set->next;
    if (set->next)
        set->next->previous = set->previous;
    set->previous = set->next = NULL;
    return 0;
}

/* __close (and set:close()): free the ids now rather than at collection.
 * Every later use of the set raises, except tostring. [-0, +0, -] */
static int set_close(lua_State *L)
{
    free_ids(luaL_checkudata(L, 1, IDSET_METATABLE));
    return 0;
}

/* ---------------------------------------------------------------------- */
/* Packing                                                                 */
/* ---------------------------------------------------------------------- */

roaring_bitmap_t *idset_ready(struct idset *set)
{
    if (!set->bitmap)
        return NULL;
    set->last_use = idle_round;
    if (!set->packed)
        return set->bitmap;
    roaring_bitmap_t *whole = idset_unpack_bitmap(set->packed, set->bitmap);
    if (!whole)
        return NULL;
    roaring_bitmap_free(set->bitmap);
    idset_packed_free(set->packed);
    set->bitmap = whole;
    set->packed = NULL;
    set->generation++;
    return whole;
}

uint64_t idset_count(const struct idset *set)
{
    if (!set->bitmap)
        return 0;
    uint64_t count = roaring_bitmap_get_cardinality(set->bitmap);
    return set->packed ? count + set->packed->count : count;
}

/* An estimate of the heap bytes of `set`: the bitmap header, its
 * container index at its allocated size, the container payloads (their
 * portable serialized size, which leaves out unused capacity and malloc
 * overhead) and the packed containers. */
static size_t stored_bytes(const struct idset *set)
{
    const roaring_array_t *index = &set->bitmap->high_low_container;
    size_t entry = sizeof(void *) + sizeof(uint16_t) + sizeof(uint8_t);
    size_t bytes = sizeof *set->bitmap +
                   (size_t)index->allocation_size * entry +
                   roaring_bitmap_portable_size_in_bytes(set->bitmap);
    return set->packed ? bytes + idset_packed_bytes(set->packed) : bytes;
}

int idset_compact(struct idset *set, bool force)
{
    if (!set->bitmap)
        return 0;
    /* A packed set's other containers did not shrink enough when it was
     * packed, and it has not changed since (any change unpacks it). */
    if (set->packed && !force)
        return 1;
    if (set->packed && !idset_ready(set))
        return -1;
    struct idset_packed *packed = NULL;
    int status = idset_pack_bitmap(set->bitmap, force, &packed);
    if (status == 1) {
        set->packed = packed;
        set->generation++;
    }
    return status;
}

/* Return the bytes of every open set. */
static size_t open_set_bytes(void)
{
    size_t total = 0;
    for (struct idset *set = all_sets; set; set = set->next)
        if (set->bitmap)
            total += stored_bytes(set);
    return total;
}

size_t idset_compact_idle(lua_State *L)
{
    /* Lua counts only the small userdata of a set, so its collector does
     * not hurry for sets that are no longer reachable. */
    size_t total = open_set_bytes();
    if (total < collected_bytes)
        collected_bytes = total; /* sets were closed or collected since */
    if (total >= COLLECT_MIN_BYTES && total >= 2 * collected_bytes) {
        lua_gc(L, LUA_GCCOLLECT);
        collected_bytes = open_set_bytes();
    }
    size_t freed = 0;
    for (struct idset *set = all_sets; set; set = set->next) {
        if (!set->bitmap || set->packed || set->last_use >= idle_round ||
            set->last_use <= set->no_gain_round)
            continue;
        size_t before = stored_bytes(set);
        if (before < IDLE_MIN_BYTES)
            continue;
        int status = idset_compact(set, false);
        if (status == 1)
            freed += before - stored_bytes(set);
        else if (status == 0)
            set->no_gain_round = idle_round;
    }
    idle_round++;
#ifdef __GLIBC__
    /* The containers freed are small blocks amid others, which glibc
     * keeps in its heap until asked to hand back their pages. */
    if (freed > 0 || released_bytes >= TRIM_MIN_BYTES)
        malloc_trim(0);
#endif
    released_bytes = 0;
    return freed;
}

void idset_pack_results(bool on)
{
    packing_results = on;
}

/* Pack a set of at most PACK_RESULTS_MAX_IDS ids that the module is about
 * to return, when tests request it (idset_pack_results). Raises when
 * memory runs out. [-0, +0, m] */
static void pack_result_for_tests(lua_State *L, struct idset *set)
{
    if (packing_results &&
        roaring_bitmap_get_cardinality(set->bitmap) <= PACK_RESULTS_MAX_IDS &&
        idset_compact(set, true) < 0)
        raise_memory(L);
}

/* ---------------------------------------------------------------------- */
/* Argument checks                                                         */
/* ---------------------------------------------------------------------- */

struct idset *idset_test(lua_State *L, int index)
{
    struct idset *set = luaL_testudata(L, index, IDSET_METATABLE);
    if (set && set->bitmap && !idset_ready(set))
        raise_memory(L);
    return set;
}

/* Return the open set at `index` as it is stored, packed or not. Raises as
 * idset_check() does. [-0, +0, v] */
static struct idset *check_stored(lua_State *L, int index)
{
    struct idset *set = luaL_testudata(L, index, IDSET_METATABLE);
    if (!set)
        luaL_typeerror(L, index, "id set");
    if (!set->bitmap)
        luaL_argerror(L, index, "id set is closed");
    return set;
}

struct idset *idset_check(lua_State *L, int index)
{
    struct idset *set = check_stored(L, index);
    if (!idset_ready(set))
        raise_memory(L);
    return set;
}

/* Return the entity name at `index`. Raises unless it is a string of 1 to
 * ENTITY_MAX_LENGTH bytes without NUL. [-0, +0, v] */
static const char *check_entity(lua_State *L, int index)
{
    size_t length;
    const char *entity = luaL_checklstring(L, index, &length);
    if (length == 0 || length > ENTITY_MAX_LENGTH || strlen(entity) != length)
        luaL_argerror(L, index,
                      lua_pushfstring(L,
                                      "entity name must be 1 to %d "
                                      "bytes without NUL",
                                      ENTITY_MAX_LENGTH));
    return entity;
}

/* Return the integer at `index`. Raises unless it is a number with an
 * integral value. Strings are not converted. [-0, +0, v] */
static lua_Integer check_integer(lua_State *L, int index)
{
    int is_integer = 0;
    lua_Integer value = lua_tointegerx(L, index, &is_integer);
    if (lua_type(L, index) != LUA_TNUMBER)
        luaL_typeerror(L, index, "integer");
    if (!is_integer)
        luaL_argerror(L, index, "number has no integer representation");
    return value;
}

static bool fits_id(lua_Integer value)
{
    return value >= 0 && value <= (lua_Integer)MAX_ID;
}

/* Store the value at `index` in *id and return NULL when it is an id, an
 * integral number from 0 to 2^32-1. Otherwise push and return a message
 * with the reason. [-0, +(0|1), m] */
static const char *to_id(lua_State *L, int index, uint32_t *id)
{
    int is_integer = 0;
    lua_Integer value = lua_tointegerx(L, index, &is_integer);
    if (lua_type(L, index) != LUA_TNUMBER)
        return lua_pushfstring(L, "integer id expected, got %s",
                               luaL_typename(L, index));
    if (!is_integer)
        return lua_pushfstring(L, "id %f is not an integer",
                               lua_tonumber(L, index));
    if (!fits_id(value))
        return lua_pushfstring(L, "id %I is outside " ID_RANGE, value);
    *id = (uint32_t)value;
    return NULL;
}

/* Return the id at `index`, or raise an argument error. [-0, +0, v] */
static uint32_t check_id(lua_State *L, int index)
{
    uint32_t id = 0;
    const char *problem = to_id(L, index, &id);
    if (problem)
        luaL_argerror(L, index, problem);
    return id;
}

/* Add the ids at positions 1 to #t of the table at `index` to `set`.
 * Raises, naming the position, on an element that is not an id. The set
 * may then contain some of the elements. [-0, +0, e] */
static void add_array(lua_State *L, struct idset *set, int index)
{
    luaL_checktype(L, index, LUA_TTABLE);
    lua_Integer length = luaL_len(L, index);
    struct id_batch batch = {.bitmap = set->bitmap, .used = 0};
    for (lua_Integer position = 1; position <= length; position++) {
        lua_geti(L, index, position);
        uint32_t id = 0;
        const char *problem = to_id(L, -1, &id);
        if (problem)
            luaL_argerror(
                L, index,
                lua_pushfstring(L, "element %I: %s", position, problem));
        batch_add(&batch, id);
        lua_pop(L, 1);
    }
    batch_flush(&batch);
    roaring_bitmap_run_optimize(set->bitmap);
}

/* ---------------------------------------------------------------------- */
/* Operators                                                               */
/* ---------------------------------------------------------------------- */

typedef roaring_bitmap_t *(*bitmap_operation)(const roaring_bitmap_t *,
                                              const roaring_bitmap_t *);

/* Store the two operands of binary operator `symbol` in *left and *right.
 * Raises unless both are open sets of the same entity, with a message that
 * names both entities. [-0, +0, v] */
static void check_operands(lua_State *L, const char *symbol,
                           struct idset **left, struct idset **right)
{
    *left = idset_test(L, 1);
    *right = idset_test(L, 2);
    if (!*left || !*right)
        luaL_error(L, "invalid operand of '%s': id set expected, got %s",
                   symbol, luaL_typename(L, *left ? 2 : 1));
    if (!(*left)->bitmap || !(*right)->bitmap)
        luaL_error(L, "invalid operand of '%s': id set is closed", symbol);
    if (strcmp((*left)->entity, (*right)->entity) != 0)
        luaL_error(L,
                   "cannot compute %s ids %s %s ids: the sets belong to "
                   "different entities",
                   (*left)->entity, symbol, (*right)->entity);
}

/* Push the set `operation` computes from the operands of `symbol`. The
 * result belongs to the operands' entity. [-0, +1, v] */
static int push_operation(lua_State *L, const char *symbol,
                          bitmap_operation operation)
{
    struct idset *left, *right;
    check_operands(L, symbol, &left, &right);
    struct idset *result = push_shell(L, left->entity);
    result->bitmap = operation(left->bitmap, right->bitmap);
    if (!result->bitmap)
        raise_memory(L);
    pack_result_for_tests(L, result);
    return 1;
}

static int set_union(lua_State *L)
{
    return push_operation(L, "|", idset_union);
}

static int set_intersection(lua_State *L)
{
    return push_operation(L, "&", idset_intersection);
}

static int set_difference(lua_State *L)
{
    return push_operation(L, "-", idset_difference);
}

static int set_symmetric_difference(lua_State *L)
{
    return push_operation(L, "~", roaring_bitmap_xor);
}

/* __le: a <= b when every id of a is in b. [-0, +1, v] */
static int set_subset(lua_State *L)
{
    struct idset *left, *right;
    check_operands(L, "<=", &left, &right);
    lua_pushboolean(L, roaring_bitmap_is_subset(left->bitmap, right->bitmap));
    return 1;
}

/* __lt: a < b when a <= b and b contains an id that a lacks. [-0, +1, v] */
static int set_strict_subset(lua_State *L)
{
    struct idset *left, *right;
    check_operands(L, "<", &left, &right);
    lua_pushboolean(
        L, roaring_bitmap_is_strict_subset(left->bitmap, right->bitmap));
    return 1;
}

/* __eq: true when both are sets of the same entity with the same ids. A
 * set is never equal to a userdata of another type. Raises when both are
 * sets and either is closed. [-0, +1, v] */
static int set_equal(lua_State *L)
{
    if (!idset_test(L, 1) || !idset_test(L, 2)) {
        lua_pushboolean(L, 0);
        return 1;
    }
    struct idset *left = idset_check(L, 1);
    struct idset *right = idset_check(L, 2);
    lua_pushboolean(L, strcmp(left->entity, right->entity) == 0 &&
                           roaring_bitmap_equals(left->bitmap, right->bitmap));
    return 1;
}

/* __len: the number of ids. [-0, +1, v] */
static int set_count(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)idset_count(check_stored(L, 1)));
    return 1;
}

/* __tostring: "set of 3 person ids", also for a closed set. [-0, +1, m] */
static int set_tostring(lua_State *L)
{
    struct idset *set = luaL_checkudata(L, 1, IDSET_METATABLE);
    const char *entity = set->entity ? set->entity : "?";
    if (!set->bitmap) {
        lua_pushfstring(L, "closed set of %s ids", entity);
        return 1;
    }
    uint64_t count = idset_count(set);
    lua_pushfstring(L, "set of %I %s id%s", (lua_Integer)count, entity,
                    count == 1 ? "" : "s");
    return 1;
}

/* ---------------------------------------------------------------------- */
/* Methods                                                                 */
/* ---------------------------------------------------------------------- */

/* set:contains(id) -> boolean. An integer outside 0 .. 2^32-1 is never
 * contained, and a non-integer raises. [-0, +1, v] */
static int set_contains(lua_State *L)
{
    struct idset *set = idset_check(L, 1);
    lua_Integer id = check_integer(L, 2);
    lua_pushboolean(L, fits_id(id) &&
                           roaring_bitmap_contains(set->bitmap, (uint32_t)id));
    return 1;
}

/* set:min() -> the smallest id, or nil for an empty set. [-0, +1, v] */
static int set_min(lua_State *L)
{
    struct idset *set = idset_check(L, 1);
    if (roaring_bitmap_is_empty(set->bitmap))
        lua_pushnil(L);
    else
        lua_pushinteger(L, roaring_bitmap_minimum(set->bitmap));
    return 1;
}

/* set:max() -> the largest id, or nil for an empty set. [-0, +1, v] */
static int set_max(lua_State *L)
{
    struct idset *set = idset_check(L, 1);
    if (roaring_bitmap_is_empty(set->bitmap))
        lua_pushnil(L);
    else
        lua_pushinteger(L, roaring_bitmap_maximum(set->bitmap));
    return 1;
}

/* set:is_empty() -> boolean. [-0, +1, v] */
static int set_is_empty(lua_State *L)
{
    lua_pushboolean(L, idset_count(check_stored(L, 1)) == 0);
    return 1;
}

/* State of one ids() loop: the next id to look for and a chunk of ids read
 * ahead. No CRoaring iterator is kept between calls, so a loop body that
 * changes or closes the set cannot leave a dangling pointer. Ids added or
 * removed during a loop may or may not be returned. */
struct id_cursor {
    uint64_t next; /* smallest id not yet returned; 2^32 at the end */
    uint32_t count, position;
    uint32_t ids[CHUNK_SIZE];
};

/* Read the next chunk of ids at or above cursor->next. Returns false when
 * there is none. */
static bool refill_cursor(const roaring_bitmap_t *bitmap,
                          struct id_cursor *cursor)
{
    if (cursor->next > MAX_ID)
        return false;
    roaring_uint32_iterator_t iterator;
    roaring_init_iterator(bitmap, &iterator);
    if (!roaring_move_uint32_iterator_equalorlarger(&iterator,
                                                    (uint32_t)cursor->next))
        return false;
    cursor->count =
        roaring_read_uint32_iterator(&iterator, cursor->ids, CHUNK_SIZE);
    cursor->position = 0;
    return cursor->count > 0;
}

/* Iterator function of set:ids(), with the set and its cursor as
 * upvalues. Returns the next id in ascending order, or nothing at the end.
 * Raises when the set was closed during the loop. [-0, +(0|1), v] */
static int next_id(lua_State *L)
{
    struct idset *set = lua_touserdata(L, lua_upvalueindex(1));
    struct id_cursor *cursor = lua_touserdata(L, lua_upvalueindex(2));
    if (!set->bitmap)
        return luaL_error(L, "id set of %s ids was closed during iteration",
                          set->entity);
    if (cursor->position == cursor->count) {
        if (!idset_ready(set))
            return raise_memory(L);
        if (!refill_cursor(set->bitmap, cursor))
            return 0;
    }
    uint32_t id = cursor->ids[cursor->position++];
    cursor->next = (uint64_t)id + 1;
    lua_pushinteger(L, id);
    return 1;
}

/* set:ids() -> an iterator over the ids in ascending order, for a generic
 * for. [-0, +1, v] */
static int set_ids(lua_State *L)
{
    idset_check(L, 1);
    lua_settop(L, 1);
    struct id_cursor *cursor = lua_newuserdatauv(L, sizeof *cursor, 0);
    cursor->next = 0;
    cursor->count = 0;
    cursor->position = 0;
    lua_pushcclosure(L, next_id, 2);
    return 1;
}

/* set:to_array() -> a sequence of the ids in ascending order. Raises when
 * the set contains more than INT_MAX ids. [-0, +1, v] */
static int set_to_array(lua_State *L)
{
    struct idset *set = idset_check(L, 1);
    uint64_t count = roaring_bitmap_get_cardinality(set->bitmap);
    if (count > INT_MAX)
        return luaL_error(L, "set of %I %s ids is too large for a Lua array",
                          (lua_Integer)count, set->entity);
    /* The table is created at full size, so lua_rawseti() below does not
     * allocate and no Lua code runs while the iterator is in use. */
    lua_createtable(L, (int)count, 0);
    roaring_uint32_iterator_t iterator;
    roaring_init_iterator(set->bitmap, &iterator);
    uint32_t chunk[CHUNK_SIZE];
    lua_Integer position = 1;
    uint32_t read;
    while ((read = roaring_read_uint32_iterator(&iterator, chunk, CHUNK_SIZE)) >
           0) {
        for (uint32_t i = 0; i < read; i++) {
            lua_pushinteger(L, chunk[i]);
            lua_rawseti(L, -2, position++);
        }
    }
    return 1;
}

/* set:entity() -> the entity name. [-0, +1, m] */
static int set_entity(lua_State *L)
{
    struct idset *set = luaL_checkudata(L, 1, IDSET_METATABLE);
    lua_pushstring(L, set->entity);
    return 1;
}

/* set:bytes() -> an estimate of the heap bytes the set takes as it is
 * stored now (see stored_bytes()). [-0, +1, v] */
static int set_bytes(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)stored_bytes(check_stored(L, 1)));
    return 1;
}

/* set:compact() -> true when part of the set was packed. Packs the
 * containers that packing makes at least a quarter smaller; the next use
 * of the ids unpacks them. [-0, +1, v] */
static int set_compact(lua_State *L)
{
    int status = idset_compact(check_stored(L, 1), false);
    if (status < 0)
        return raise_memory(L);
    lua_pushboolean(L, status == 1);
    return 1;
}

/* set:complement(universe) -> universe - set, a new set. Raises unless
 * both are open sets of the same entity. [-0, +1, v] */
static int set_complement(lua_State *L)
{
    struct idset *set = idset_check(L, 1);
    struct idset *universe = idset_check(L, 2);
    if (strcmp(set->entity, universe->entity) != 0)
        return luaL_error(L,
                          "cannot compute the complement of %s ids in "
                          "%s ids: the sets belong to different entities",
                          set->entity, universe->entity);
    struct idset *result = push_shell(L, set->entity);
    result->bitmap = idset_difference(universe->bitmap, set->bitmap);
    if (!result->bitmap)
        raise_memory(L);
    pack_result_for_tests(L, result);
    return 1;
}

/* set:copy() -> a new set with the same entity and ids. [-0, +1, v] */
static int set_copy(lua_State *L)
{
    struct idset *set = idset_check(L, 1);
    struct idset *result = push_shell(L, set->entity);
    result->bitmap = roaring_bitmap_copy(set->bitmap);
    if (!result->bitmap)
        raise_memory(L);
    pack_result_for_tests(L, result);
    return 1;
}

/* set:add(id) -> true when the id was not in the set before. Raises on an
 * id outside 0 .. 2^32-1. [-0, +1, v] */
static int set_add(lua_State *L)
{
    struct idset *set = idset_check(L, 1);
    uint32_t id = check_id(L, 2);
    lua_pushboolean(L, roaring_bitmap_add_checked(set->bitmap, id));
    return 1;
}

/* set:remove(id) -> true when the id was in the set. An integer outside
 * 0 .. 2^32-1 is never in it, and a non-integer raises. [-0, +1, v] */
static int set_remove(lua_State *L)
{
    struct idset *set = idset_check(L, 1);
    lua_Integer id = check_integer(L, 2);
    lua_pushboolean(L, fits_id(id) && roaring_bitmap_remove_checked(
                                          set->bitmap, (uint32_t)id));
    return 1;
}

/* ---------------------------------------------------------------------- */
/* Sampling                                                                */
/* ---------------------------------------------------------------------- */

/* SplitMix64: a small generator whose output depends only on the seed, on
 * every platform. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Return a uniform random integer in 0 .. bound-1 (bound >= 1), rejecting
 * the low values that would bias the remainder. */
static uint64_t random_below(uint64_t *state, uint64_t bound)
{
    uint64_t threshold = (0 - bound) % bound; /* 2^64 mod bound */
    for (;;) {
        uint64_t value = next_random(state);
        if (value >= threshold)
            return value % bound;
    }
}

/* Return a new bitmap of `n` distinct ranks in 0 .. count-1 (n < count <=
 * 2^32), chosen uniformly by Floyd's algorithm, or NULL when memory runs
 * out. The caller frees it. */
static roaring_bitmap_t *choose_ranks(uint64_t count, uint64_t n, uint64_t seed)
{
    roaring_bitmap_t *ranks = roaring_bitmap_create();
    if (!ranks)
        return NULL;
    uint64_t state = seed;
    for (uint64_t j = count - n; j < count; j++) {
        uint32_t rank = (uint32_t)random_below(&state, j + 1);
        if (!roaring_bitmap_add_checked(ranks, rank))
            roaring_bitmap_add(ranks, (uint32_t)j);
    }
    return ranks;
}

/* Add the ids of `source` at the positions in `ranks` to `sample`, one
 * roaring_bitmap_select() per rank. */
static void select_ranks(const roaring_bitmap_t *source,
                         const roaring_bitmap_t *ranks,
                         roaring_bitmap_t *sample)
{
    roaring_uint32_iterator_t rank;
    for (roaring_init_iterator(ranks, &rank); rank.has_value;
         roaring_advance_uint32_iterator(&rank)) {
        uint32_t id = 0;
        if (roaring_bitmap_select(source, rank.current_value, &id))
            roaring_bitmap_add(sample, id);
    }
}

/* Add the ids of `source` at the positions in `ranks` to `sample` in one
 * pass over `source`. */
static void walk_ranks(const roaring_bitmap_t *source,
                       const roaring_bitmap_t *ranks, roaring_bitmap_t *sample)
{
    roaring_uint32_iterator_t id, rank;
    roaring_init_iterator(source, &id);
    uint64_t position = 0;
    uint32_t skipped[CHUNK_SIZE];
    for (roaring_init_iterator(ranks, &rank); rank.has_value;
         roaring_advance_uint32_iterator(&rank)) {
        uint64_t skip = rank.current_value - position;
        while (skip > 0) {
            uint32_t step = skip < CHUNK_SIZE ? (uint32_t)skip : CHUNK_SIZE;
            roaring_read_uint32_iterator(&id, skipped, step);
            skip -= step;
        }
        roaring_bitmap_add(sample, id.current_value);
        roaring_advance_uint32_iterator(&id);
        position = (uint64_t)rank.current_value + 1;
    }
}

/* Return a new bitmap of `n` ids of `source`, which has `count` > n ids,
 * or NULL when memory runs out. The caller frees it. */
static roaring_bitmap_t *sample_bitmap(const roaring_bitmap_t *source,
                                       uint64_t count, uint64_t n,
                                       uint64_t seed)
{
    roaring_bitmap_t *ranks = choose_ranks(count, n, seed);
    if (!ranks)
        return NULL;
    roaring_bitmap_t *sample = roaring_bitmap_create();
    if (sample) {
        /* In CRoaring 0.2.66 a select scans the container index from its
         * start, while a walk reads every id once: take the cheaper. */
        uint64_t containers = (uint64_t)source->high_low_container.size;
        if (n * (containers + 1) <= count)
            select_ranks(source, ranks, sample);
        else
            walk_ranks(source, ranks, sample);
    }
    roaring_bitmap_free(ranks);
    return sample;
}

/* set:sample(n [, seed]) -> a new set of n ids of the set, chosen uniformly
 * without replacement (all ids when n >= #set). The same set, n and seed
 * always give the same sample. The seed is 0 when omitted. Raises on a
 * negative n. [-0, +1, v] */
static int set_sample(lua_State *L)
{
    struct idset *set = idset_check(L, 1);
    lua_Integer n = check_integer(L, 2);
    luaL_argcheck(L, n >= 0, 2, "sample size must not be negative");
    lua_Integer seed = luaL_optinteger(L, 3, DEFAULT_SAMPLE_SEED);
    uint64_t count = roaring_bitmap_get_cardinality(set->bitmap);
    struct idset *result = push_shell(L, set->entity);
    if ((uint64_t)n >= count)
        result->bitmap = roaring_bitmap_copy(set->bitmap);
    else
        result->bitmap =
            sample_bitmap(set->bitmap, count, (uint64_t)n, (uint64_t)seed);
    if (!result->bitmap)
        raise_memory(L);
    pack_result_for_tests(L, result);
    return 1;
}

/* ---------------------------------------------------------------------- */
/* Serialization                                                           */
/* ---------------------------------------------------------------------- */

/*
 * A serialized set is, with integers little-endian:
 *
 *   4 bytes   "LIDS"
 *   1 byte    format version, SERIAL_VERSION
 *   1 byte    length L of the entity name (1 to 255)
 *   L bytes   entity name
 *   4 bytes   length B of the bitmap
 *   B bytes   the bitmap in the portable Roaring format
 *             (RoaringFormatSpec, as roaring_bitmap_portable_serialize()
 *             writes it)
 *   8 bytes   the first 8 bytes of the SHA-256 of everything before
 *
 * The checksum catches accidental damage. Crafted input with a valid
 * checksum is checked as well: the bitmap header is validated before
 * CRoaring reads it, and the ids are copied into a fresh bitmap in
 * strictly ascending order (see copy_ascending()).
 */
#define SERIAL_MAGIC "LIDS"
#define SERIAL_VERSION 1
#define CHECKSUM_SIZE 8
#define SERIAL_FIXED_SIZE (4 + 1 + 1 + 4 + CHECKSUM_SIZE)
/* The largest number of containers a 32-bit Roaring bitmap can have. */
#define MAX_CONTAINERS 65536

static void write_u32(unsigned char *out, uint32_t value)
{
    for (int i = 0; i < 4; i++)
        out[i] = (unsigned char)(value >> (8 * i));
}

static uint32_t read_u32(const unsigned char *in)
{
    return (uint32_t)in[0] | (uint32_t)in[1] << 8 | (uint32_t)in[2] << 16 |
           (uint32_t)in[3] << 24;
}

static void compute_checksum(const unsigned char *data, size_t size,
                             unsigned char checksum[CHECKSUM_SIZE])
{
    struct sha256 context;
    unsigned char digest[32];
    sha256_init(&context);
    sha256_update(&context, data, size);
    sha256_final(&context, digest);
    memcpy(checksum, digest, CHECKSUM_SIZE);
}

/* set:serialize() -> a string with the entity name and the ids, for
 * deserialize(). [-0, +1, v] */
static int set_serialize(lua_State *L)
{
    struct idset *set = idset_check(L, 1);
    size_t entity_length = strlen(set->entity);
    size_t bitmap_size = roaring_bitmap_portable_size_in_bytes(set->bitmap);
    size_t total = SERIAL_FIXED_SIZE + entity_length + bitmap_size;
    luaL_Buffer buffer;
    unsigned char *start =
        (unsigned char *)luaL_buffinitsize(L, &buffer, total);
    unsigned char *out = start;
    memcpy(out, SERIAL_MAGIC, 4);
    out[4] = SERIAL_VERSION;
    out[5] = (unsigned char)entity_length;
    memcpy(out + 6, set->entity, entity_length);
    out += 6 + entity_length;
    write_u32(out, (uint32_t)bitmap_size);
    out += 4;
    size_t written =
        roaring_bitmap_portable_serialize(set->bitmap, (char *)out);
    assert(written == bitmap_size);
    out += written;
    compute_checksum(start, (size_t)(out - start), out);
    luaL_pushresultsize(&buffer, total);
    return 1;
}

/* The parts of a serialized set, pointing into the serialized string. */
struct serialized {
    char entity[ENTITY_MAX_LENGTH + 1];
    const char *bitmap;
    size_t bitmap_size;
};

/* Check the envelope of a serialized set (lengths, magic, version, entity
 * name and checksum) and fill *parts. Returns NULL, or what is wrong. */
static const char *parse_envelope(const unsigned char *data, size_t size,
                                  struct serialized *parts)
{
    if (size < SERIAL_FIXED_SIZE)
        return "truncated";
    if (memcmp(data, SERIAL_MAGIC, 4) != 0)
        return "not a serialized id set";
    if (data[4] != SERIAL_VERSION)
        return "unsupported format version";
    size_t entity_length = data[5];
    if (size < SERIAL_FIXED_SIZE + entity_length)
        return "truncated";
    const unsigned char *entity = data + 6;
    if (entity_length == 0 || memchr(entity, 0, entity_length))
        return "invalid entity name";
    size_t bitmap_size = read_u32(entity + entity_length);
    size_t room = size - SERIAL_FIXED_SIZE - entity_length;
    if (bitmap_size > room)
        return "truncated";
    if (bitmap_size < room)
        return "unexpected bytes after the checksum";
    unsigned char checksum[CHECKSUM_SIZE];
    compute_checksum(data, size - CHECKSUM_SIZE, checksum);
    if (memcmp(checksum, data + size - CHECKSUM_SIZE, CHECKSUM_SIZE) != 0)
        return "checksum mismatch (the data is corrupt)";
    memcpy(parts->entity, entity, entity_length);
    parts->entity[entity_length] = '\0';
    parts->bitmap = (const char *)entity + entity_length + 4;
    parts->bitmap_size = bitmap_size;
    return NULL;
}

/* Check the header of a portable Roaring bitmap and that its size is
 * exactly `size`. Returns NULL, or what is wrong. CRoaring 0.2.66 reads
 * the container count of the format without runs as a signed integer and
 * does not reject a negative one, so the count is checked here first. */
static const char *check_bitmap_header(const char *bitmap, size_t size)
{
    const unsigned char *bytes = (const unsigned char *)bitmap;
    if (size < 4)
        return "truncated bitmap";
    uint32_t cookie = read_u32(bytes);
    if (cookie == SERIAL_COOKIE_NO_RUNCONTAINER) {
        if (size < 8)
            return "truncated bitmap";
        if (read_u32(bytes + 4) > MAX_CONTAINERS)
            return "invalid container count in the bitmap";
    } else if ((cookie & 0xFFFF) != SERIAL_COOKIE) {
        return "unknown bitmap format";
    }
    /* This check reads no byte past `size` and prints nothing, while the
     * deserializer of CRoaring 0.2.66 prints to stderr on bad input. */
    if (roaring_bitmap_portable_deserialize_size(bitmap, size) != size)
        return "corrupt bitmap (sizes do not match its header)";
    return NULL;
}

/* Copying state of copy_ascending(). */
struct ascending_copy {
    int64_t previous; /* the last id copied, or -1 */
    struct id_batch batch;
};

static bool copy_ascending_id(uint32_t id, void *context)
{
    struct ascending_copy *copy = context;
    if ((int64_t)id <= copy->previous)
        return false;
    copy->previous = id;
    batch_add(&copy->batch, id);
    return true;
}

/* Copy the ids of `untrusted` into the empty bitmap `out`, checking that
 * they come out in strictly ascending order. A bitmap read from outside
 * may have containers that CRoaring would never build (keys or values out
 * of order, a stored cardinality that does not match the content), and
 * other CRoaring functions trust those fields. Iteration reads each
 * container only within the size it was read with, and the copy is
 * consistent by construction. Returns false on ids out of order. */
static bool copy_ascending(const roaring_bitmap_t *untrusted,
                           roaring_bitmap_t *out)
{
    struct ascending_copy copy = {.previous = -1};
    copy.batch.bitmap = out;
    copy.batch.used = 0;
    bool ascending = roaring_iterate(untrusted, copy_ascending_id, &copy);
    batch_flush(&copy.batch);
    if (ascending)
        roaring_bitmap_run_optimize(out);
    return ascending;
}

/* Read the checked bitmap of `parts` into a new bitmap in *out. Returns 0,
 * -1 when memory runs out, or -2 when the ids are out of order. */
static int read_bitmap(const struct serialized *parts, roaring_bitmap_t **out)
{
    roaring_bitmap_t *untrusted = roaring_bitmap_portable_deserialize_safe(
        parts->bitmap, parts->bitmap_size);
    if (!untrusted)
        return -1;
    roaring_bitmap_t *bitmap = roaring_bitmap_create();
    bool ascending = bitmap && copy_ascending(untrusted, bitmap);
    roaring_bitmap_free(untrusted);
    if (!bitmap)
        return -1;
    if (!ascending) {
        roaring_bitmap_free(bitmap);
        return -2;
    }
    *out = bitmap;
    return 0;
}

/* set.deserialize(text) -> the set that serialize() wrote. Raises "invalid
 * serialized id set: ..." on a truncated or corrupt string. [-0, +1, v] */
static int module_deserialize(lua_State *L)
{
    size_t size;
    const char *text = luaL_checklstring(L, 1, &size);
    struct serialized parts;
    const char *problem =
        parse_envelope((const unsigned char *)text, size, &parts);
    if (!problem)
        problem = check_bitmap_header(parts.bitmap, parts.bitmap_size);
    if (problem)
        return luaL_error(L, "invalid serialized id set: %s", problem);
    struct idset *set = push_shell(L, parts.entity);
    int status = read_bitmap(&parts, &set->bitmap);
    if (status == -1)
        return raise_memory(L);
    if (status == -2)
        return luaL_error(L, "invalid serialized id set: corrupt bitmap "
                             "(ids out of order)");
    pack_result_for_tests(L, set);
    return 1;
}

/* ---------------------------------------------------------------------- */
/* Module functions and registration                                       */
/* ---------------------------------------------------------------------- */

/* set.new(entity [, array]) -> a set of `entity` with the ids of the
 * optional array. [-0, +1, v] */
static int module_new(lua_State *L)
{
    const char *entity = check_entity(L, 1);
    lua_settop(L, 2);
    struct idset *set = idset_push(L, entity);
    if (!lua_isnil(L, 2))
        add_array(L, set, 2);
    pack_result_for_tests(L, set);
    return 1;
}

/* set.from_array(entity, array) -> a set of the ids in the array. Raises
 * on an element that is not an id. [-0, +1, v] */
static int module_from_array(lua_State *L)
{
    const char *entity = check_entity(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    struct idset *set = idset_push(L, entity);
    add_array(L, set, 2);
    pack_result_for_tests(L, set);
    return 1;
}

/* set.range(entity, first, last) -> the set of ids first .. last, both
 * included. It is empty when first > last. [-0, +1, v] */
static int module_range(lua_State *L)
{
    const char *entity = check_entity(L, 1);
    uint32_t first = check_id(L, 2);
    uint32_t last = check_id(L, 3);
    struct idset *set = idset_push(L, entity);
    roaring_bitmap_add_range_closed(set->bitmap, first, last);
    pack_result_for_tests(L, set);
    return 1;
}

static const luaL_Reg set_methods[] = {
    {"contains", set_contains},
    {"min", set_min},
    {"max", set_max},
    {"is_empty", set_is_empty},
    {"ids", set_ids},
    {"to_array", set_to_array},
    {"sample", set_sample},
    {"entity", set_entity},
    {"bytes", set_bytes},
    {"compact", set_compact},
    {"serialize", set_serialize},
    {"complement", set_complement},
    {"copy", set_copy},
    {"add", set_add},
    {"remove", set_remove},
    {"close", set_close},
    {NULL, NULL},
};

static const luaL_Reg set_metamethods[] = {
    {"__bor", set_union},         {"__band", set_intersection},
    {"__sub", set_difference},    {"__bxor", set_symmetric_difference},
    {"__len", set_count},         {"__eq", set_equal},
    {"__le", set_subset},         {"__lt", set_strict_subset},
    {"__tostring", set_tostring}, {"__gc", set_collect},
    {"__close", set_close},       {NULL, NULL},
};

static const luaL_Reg module_functions[] = {
    {"new", module_new},
    {"from_array", module_from_array},
    {"deserialize", module_deserialize},
    {"range", module_range},
    {NULL, NULL},
};

/* Push the metatable of sets, creating it on first use so that C callers
 * of idset_push() need not open the module first. Its __metatable field
 * hides it from getmetatable(), so a script cannot change the methods of
 * every set. [-0, +1, m] */
static void push_metatable(lua_State *L)
{
    if (!luaL_newmetatable(L, IDSET_METATABLE))
        return;
    luaL_setfuncs(L, set_metamethods, 0);
    luaL_newlib(L, set_methods);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
}

int idset_open(lua_State *L)
{
    push_metatable(L);
    lua_pop(L, 1);
    luaL_newlib(L, module_functions);
    return 1;
}
