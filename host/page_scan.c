/*
 * page_scan.c: the page-by-page search of a database file (see
 * page_scan.h). The layout read here is SQLite's file format: the
 * 100-byte header, b-tree pages with their cells, overflow chains, the
 * freelist, pointer-map pages and the lock-byte page.
 *
 * In a database that passes PRAGMA integrity_check, every page is either
 * on the freelist, a pointer-map page, the lock-byte page, a b-tree page
 * or an overflow page of a live record. A b-tree page starts with one of
 * the flags 2, 5, 10 and 13. An overflow page starts with the number of
 * the next page of its chain, which is below 2^25 here, so its first
 * byte is 0 or 1. So the first byte alone distinguishes the two.
 */
#include "page_scan.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER_SIZE 100
#define READ_SIZE (1u << 20) /* bytes read at a time, at least one page */
#define MAX_PAGES (UINT32_C(1) << 25)
#define LOCK_BYTE_OFFSET UINT64_C(0x40000000)

/* The kind of a page, as far as the copies on it go. */
enum page_type {
    PAGE_DEAD,          /* no live record: every copy on it counts */
    PAGE_BTREE,         /* copies inside its cells are live */
    PAGE_OVERFLOW,      /* inside a chain: all after the link is live */
    PAGE_OVERFLOW_LAST, /* the end of a chain: live as far as it is used */
};

/* The file's layout, read before the search and shared by the threads.
 * Each thread writes next[] only for the pages of its own part. */
struct layout {
    int descriptor;
    uint64_t file_size;
    uint32_t page_size;
    uint32_t usable; /* page size less the reserved bytes */
    uint32_t pages;  /* pages of the file, the last one maybe partial */
    unsigned char *dead; /* dead[p]: page p contains no live record */
    uint32_t *next;      /* next[p]: the link of overflow page p */
    uint32_t *used; /* after the first pass: bytes used of each chain's
                       last page, by page number (0 for other pages) */
};

/* The two passes over the file. The first searches only the bytes outside
 * live records, which is where residues are, and counts the copies there.
 * A value found there may still have a live copy, because SQLite leaves
 * old copies of the records it moves. Such a copy is often on the same
 * page as the live one (all nine on the benchmark database were), so the
 * first pass looks there at once. The second pass searches the live
 * records of the whole file for the values that are still open, and runs
 * only when there are any. */
enum pass { PASS_OUTSIDE, PASS_INSIDE };

/* The rest of a record that continues on overflow pages. */
struct chain {
    uint32_t first; /* its first overflow page */
    uint32_t bytes; /* its bytes on overflow pages */
};

/* A copy on the last page of a chain, judged once the chains are known. */
struct end_copy {
    uint32_t page;
    uint32_t offset;
    uint32_t length;
    uint32_t needle;
};

/* One cell of a b-tree page: bytes [start, end) of the page. */
struct cell {
    uint32_t start;
    uint32_t end;
};

/* One thread's part of a pass: its pages, its index and its findings. */
struct worker {
    struct layout *layout;
    enum pass pass;
    const struct scan_needle *needles; /* all of them */
    size_t count;
    /* The needles still searched: those not yet found in a live record
     * of this part. A needle known to be live needs no count, so it
     * leaves the index when the index is next rebuilt. */
    struct scan_index *index;
    struct scan_needle *searched; /* copies, of needles[origin[k]] */
    size_t *origin;
    size_t searched_count;
    size_t left; /* needles of the index found live since it was built */
    uint32_t first_page, end_page; /* the pages [first, end) to search */
    long *counts;                  /* copies outside, per needle */
    unsigned char *live;           /* live[i]: found in a live record */
    struct chain *chains;
    size_t chain_count, chain_capacity;
    struct end_copy *pending;
    size_t pending_count, pending_capacity;
    /* The pages in the buffer: their types and cells. */
    uint32_t buffer_first; /* page number of the buffer's first page */
    const unsigned char *buffer;
    size_t search_from; /* buffer offset of the current search's start */
    size_t outside_from; /* buffer offset where the outside bytes start */
    unsigned char *types;
    size_t *cells_from; /* cells of page j: cells[cells_from[j] ...] */
    struct cell *cells;
    size_t cell_count, cell_capacity;
    int status;
    char *err;
};

static uint32_t get2(const unsigned char *bytes)
{
    return (uint32_t)bytes[0] << 8 | bytes[1];
}

static uint32_t get4(const unsigned char *bytes)
{
    return (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 |
           (uint32_t)bytes[2] << 8 | bytes[3];
}

/* Read an SQLite varint at bytes[*at] below `end`; 0 when it runs past. */
static int get_varint(const unsigned char *bytes, uint32_t *at, uint32_t end,
                      uint64_t *value)
{
    uint64_t result = 0;
    for (int i = 0; i < 9; i++) {
        if (*at >= end)
            return 0;
        unsigned char byte = bytes[(*at)++];
        if (i == 8) {
            *value = result << 8 | byte;
            return 1;
        }
        result = result << 7 | (byte & 0x7f);
        if (!(byte & 0x80)) {
            *value = result;
            return 1;
        }
    }
    return 0;
}

#define GROW(array, count, capacity)                                         \
    do {                                                                     \
        if ((count) == (capacity)) {                                         \
            (capacity) = (capacity) ? (capacity) * 2 : 256;                  \
            (array) = util_realloc((array), (capacity) * sizeof *(array));   \
        }                                                                    \
    } while (0)

static int read_at(int descriptor, unsigned char *buffer, size_t size,
                   uint64_t offset)
{
    size_t done = 0;
    while (done < size) {
        ssize_t got = pread(descriptor, buffer + done, size - done,
                            (off_t)(offset + done));
        if (got < 0 && errno == EINTR)
            continue;
        if (got == 0)
            errno = 0; /* the file ended early */
        if (got <= 0)
            return -1;
        done += (size_t)got;
    }
    return 0;
}

/* Mark the freelist's trunk and leaf pages dead. Returns 0 when the list
 * does not parse. */
static int mark_freelist(struct layout *layout, uint32_t trunk,
                         uint32_t total, uint32_t database_pages)
{
    unsigned char *page = util_malloc(layout->page_size);
    uint32_t seen = 0;
    int ok = 1;
    while (trunk != 0 && ok) {
        if (trunk > database_pages || seen++ > total ||
            read_at(layout->descriptor, page, layout->page_size,
                    (uint64_t)(trunk - 1) * layout->page_size) != 0) {
            ok = 0;
            break;
        }
        layout->dead[trunk] = 1;
        uint32_t leaves = get4(page + 4);
        if (leaves > (layout->usable - 8) / 4) {
            ok = 0;
            break;
        }
        for (uint32_t i = 0; i < leaves; i++) {
            uint32_t leaf = get4(page + 8 + 4 * i);
            if (leaf == 0 || leaf > database_pages) {
                ok = 0;
                break;
            }
            layout->dead[leaf] = 1;
            seen++;
        }
        trunk = get4(page);
    }
    free(page);
    return ok && seen == total;
}

/* The pointer-map page that covers page `page` (auto-vacuum databases). */
static uint32_t map_page_of(const struct layout *layout, uint32_t page)
{
    uint32_t per_map = layout->usable / 5 + 1;
    uint32_t lock_page = (uint32_t)(LOCK_BYTE_OFFSET / layout->page_size) + 1;
    uint32_t map = (page - 2) / per_map * per_map + 2;
    return map == lock_page ? map + 1 : map;
}

/* Read the header and the freelist. Returns 1, 0 for a layout this search
 * does not read, or -1 with *err set. */
static int layout_open(struct layout *layout, const char *path, char **err)
{
    memset(layout, 0, sizeof *layout);
    layout->descriptor = open(path, O_RDONLY | O_CLOEXEC);
    if (layout->descriptor < 0)
        return util_fail(err, "cannot read %s: %s", path, strerror(errno));
    struct stat status;
    unsigned char header[HEADER_SIZE];
    if (fstat(layout->descriptor, &status) != 0)
        return util_fail(err, "cannot read %s: %s", path, strerror(errno));
    layout->file_size = (uint64_t)status.st_size;
    if (layout->file_size < HEADER_SIZE ||
        read_at(layout->descriptor, header, HEADER_SIZE, 0) != 0 ||
        memcmp(header, "SQLite format 3", 16) != 0)
        return 0;
    uint32_t page_size = get2(header + 16);
    layout->page_size = page_size == 1 ? 65536 : page_size;
    if (layout->page_size < 512 || layout->page_size > 65536 ||
        (layout->page_size & (layout->page_size - 1)) != 0 ||
        header[20] > layout->page_size - 480 || get4(header + 56) < 1 ||
        get4(header + 56) > 3)
        return 0;
    layout->usable = layout->page_size - header[20];
    uint64_t pages = (layout->file_size + layout->page_size - 1) /
                     layout->page_size;
    if (pages >= MAX_PAGES)
        return 0;
    layout->pages = (uint32_t)pages;
    /* The size in the header is valid when it was written with the
     * change counter that the header has now. */
    uint32_t database_pages = layout->pages;
    if (get4(header + 92) == get4(header + 24) && get4(header + 28) != 0 &&
        get4(header + 28) < database_pages)
        database_pages = get4(header + 28);
    layout->dead = util_malloc((size_t)layout->pages + 1);
    memset(layout->dead, 0, (size_t)layout->pages + 1);
    layout->next = util_malloc(((size_t)layout->pages + 1) *
                               sizeof *layout->next);
    memset(layout->next, 0, ((size_t)layout->pages + 1) *
                                sizeof *layout->next);
    for (uint32_t p = database_pages + 1; p <= layout->pages; p++)
        layout->dead[p] = 1;
    uint64_t lock_page = LOCK_BYTE_OFFSET / layout->page_size + 1;
    if (lock_page <= layout->pages)
        layout->dead[lock_page] = 1;
    if (get4(header + 52) != 0)
        for (uint32_t p = 2; p <= layout->pages; p++)
            if (map_page_of(layout, p) == p)
                layout->dead[p] = 1;
    if (!mark_freelist(layout, get4(header + 32), get4(header + 36),
                       database_pages))
        return 0;
    return 1;
}

static void layout_close(struct layout *layout)
{
    if (layout->descriptor >= 0)
        close(layout->descriptor);
    free(layout->dead);
    free(layout->next);
    free(layout->used);
}

/* Sort cells by their start. SQLite writes a page's cells from its end
 * towards its start, so the pointer array, which is in key order, mostly
 * lists them from the last to the first. Reversed, they are mostly in
 * order, and an insertion sort finishes the job. */
static void sort_cells(struct cell *cells, size_t count)
{
    for (size_t i = 0; i < count / 2; i++) {
        struct cell swap = cells[i];
        cells[i] = cells[count - 1 - i];
        cells[count - 1 - i] = swap;
    }
    for (size_t i = 1; i < count; i++) {
        struct cell cell = cells[i];
        size_t j = i;
        for (; j > 0 && cells[j - 1].start > cell.start; j--)
            cells[j] = cells[j - 1];
        cells[j] = cell;
    }
}

/* The bytes of a payload of `payload` bytes that stay on a page of
 * `type`, as SQLite's file format defines them. */
static uint32_t local_bytes(const struct layout *layout, int type,
                            uint64_t payload)
{
    uint64_t usable = layout->usable;
    uint64_t most = type == 13 ? usable - 35 : (usable - 12) * 64 / 255 - 23;
    if (payload <= most)
        return (uint32_t)payload;
    uint64_t least = (usable - 12) * 32 / 255 - 23;
    uint64_t kept = least + (payload - least) % (usable - 4);
    return (uint32_t)(kept <= most ? kept : least);
}

/* The layout of a b-tree page's header. */
struct btree_header {
    int type;          /* 2, 5, 10 or 13 */
    uint32_t pointers; /* offset of the cell pointer array */
    uint32_t cells;    /* number of cells */
    uint32_t content;  /* where the cells may start */
};

/* Read the header of the b-tree page `data`, which starts at `at`.
 * Returns 0 when it does not parse. */
static int read_header(const struct layout *layout, const unsigned char *data,
                       uint32_t at, struct btree_header *header)
{
    header->type = data[at];
    int interior = header->type == 2 || header->type == 5;
    header->pointers = at + (interior ? 12 : 8);
    if (header->pointers > layout->usable)
        return 0;
    header->cells = get2(data + at + 3);
    header->content = header->pointers + 2 * header->cells;
    return header->content <= layout->usable;
}

/* Find the bytes [start, *end) of cell `i` of a b-tree page and, when its
 * record continues on overflow pages, the first of them and the bytes
 * there (else 0 and 0). Returns 0 when the cell does not parse. */
static int read_cell(const struct layout *layout, const unsigned char *data,
                     const struct btree_header *header, uint32_t i,
                     uint32_t *start, uint32_t *end, struct chain *chain)
{
    uint32_t usable = layout->usable;
    uint64_t payload, key;
    *start = get2(data + header->pointers + 2 * i);
    *end = *start;
    *chain = (struct chain){0, 0};
    if (*start < header->content || *start >= usable)
        return 0;
    if (header->type == 2 || header->type == 5)
        *end += 4; /* the child page */
    if (header->type == 5)
        return get_varint(data, end, usable, &key);
    if (!get_varint(data, end, usable, &payload) ||
        (header->type == 13 && !get_varint(data, end, usable, &key)))
        return 0;
    uint32_t local = local_bytes(layout, header->type, payload);
    if ((uint64_t)*end + local + (local < payload ? 4 : 0) > usable)
        return 0;
    *end += local;
    if (local < payload) {
        if (payload - local > UINT32_MAX)
            return 0;
        *chain = (struct chain){get4(data + *end), (uint32_t)(payload - local)};
        *end += 4;
    }
    return 1;
}

/* Mark dead the overflow pages of `chain`. Returns 0 when the chain
 * leaves the file. */
static int mark_chain(struct layout *layout, struct chain chain)
{
    uint32_t page = chain.first, left = chain.bytes;
    for (uint32_t steps = 0; left > 0; steps++) {
        unsigned char link[4];
        if (page == 0 || page > layout->pages || steps > layout->pages ||
            read_at(layout->descriptor, link, sizeof link,
                    (uint64_t)(page - 1) * layout->page_size) != 0)
            return 0;
        layout->dead[page] = 1;
        if (left <= layout->usable - 4)
            break;
        left -= layout->usable - 4;
        page = get4(link);
    }
    return 1;
}

/* Mark dead every page of the b-trees of SQLite's own tables: the schema,
 * whose root is page 1, and the tables rooted at `roots`. Their records
 * (statistics samples, the SQL of views) are no live copies of a value.
 * Returns 0 when a tree does not parse. */
static int mark_internal(struct layout *layout, const uint32_t *roots,
                         size_t root_count)
{
    unsigned char *data = util_malloc(layout->page_size);
    uint32_t *stack = NULL;
    size_t depth = 0, capacity = 0, visits = 0;
    for (size_t r = 0; r <= root_count; r++) {
        GROW(stack, depth, capacity);
        stack[depth++] = r == root_count ? 1 : roots[r];
    }
    int ok = 1;
    while (ok && depth > 0) {
        uint32_t page = stack[--depth];
        if (page == 0 || page > layout->pages || visits++ > layout->pages) {
            ok = 0;
            break;
        }
        if (layout->dead[page])
            continue; /* seen already */
        uint32_t at = page == 1 ? HEADER_SIZE : 0;
        struct btree_header header;
        if (read_at(layout->descriptor, data, layout->page_size,
                    (uint64_t)(page - 1) * layout->page_size) != 0 ||
            (data[at] != 2 && data[at] != 5 && data[at] != 10 &&
             data[at] != 13) ||
            !read_header(layout, data, at, &header)) {
            ok = 0;
            break;
        }
        layout->dead[page] = 1;
        int interior = header.type == 2 || header.type == 5;
        if (interior) {
            GROW(stack, depth, capacity);
            stack[depth++] = get4(data + at + 8);
        }
        for (uint32_t i = 0; i < header.cells && ok; i++) {
            uint32_t start, end;
            struct chain chain;
            ok = read_cell(layout, data, &header, i, &start, &end, &chain) &&
                 (chain.bytes == 0 || mark_chain(layout, chain));
            if (ok && interior) {
                GROW(stack, depth, capacity);
                stack[depth++] = get4(data + start);
            }
        }
    }
    free(stack);
    free(data);
    return ok;
}

/* Read the cells of the b-tree page `data` (whose header is at `at`) into
 * the worker's cell list, sorted, and note the records that continue on
 * overflow pages. Returns 0 when the page does not parse. */
static int read_btree(struct worker *worker, const unsigned char *data,
                      uint32_t at)
{
    struct btree_header header;
    if (!read_header(worker->layout, data, at, &header))
        return 0;
    size_t first_cell = worker->cell_count;
    size_t first_chain = worker->chain_count;
    for (uint32_t i = 0; i < header.cells; i++) {
        uint32_t start, end;
        struct chain chain;
        if (!read_cell(worker->layout, data, &header, i, &start, &end,
                       &chain)) {
            worker->cell_count = first_cell;
            worker->chain_count = first_chain;
            return 0;
        }
        /* The chains are known after the first pass. */
        if (chain.bytes > 0 && worker->pass == PASS_OUTSIDE) {
            GROW(worker->chains, worker->chain_count,
                 worker->chain_capacity);
            worker->chains[worker->chain_count++] = chain;
        }
        GROW(worker->cells, worker->cell_count, worker->cell_capacity);
        worker->cells[worker->cell_count++] = (struct cell){start, end};
    }
    if (worker->cell_count > first_cell)
        sort_cells(worker->cells + first_cell,
                   worker->cell_count - first_cell);
    return 1;
}

/* Find the type of page `page`, whose bytes are `data` (`size` of them,
 * fewer than a page for a partial last page), and read its cells. */
static int page_type(struct worker *worker, uint32_t page,
                     const unsigned char *data, size_t size)
{
    struct layout *layout = worker->layout;
    if (layout->dead[page] || size < layout->page_size)
        return PAGE_DEAD;
    uint32_t at = page == 1 ? HEADER_SIZE : 0;
    unsigned char flag = data[at];
    if (flag == 2 || flag == 5 || flag == 10 || flag == 13)
        return read_btree(worker, data, at) ? PAGE_BTREE : PAGE_DEAD;
    uint32_t next = get4(data);
    if (page == 1 || next > layout->pages)
        return PAGE_DEAD;
    if (worker->pass == PASS_OUTSIDE)
        layout->next[page] = next;
    return next ? PAGE_OVERFLOW : PAGE_OVERFLOW_LAST;
}

/* Whether one cell of page j of the buffer contains the bytes [offset,
 * offset + length) of the page. */
static int in_cell(const struct worker *worker, size_t j, uint32_t offset,
                   uint32_t length)
{
    /* The last cell that starts at or before the copy. */
    size_t low = worker->cells_from[j], high = worker->cells_from[j + 1];
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (worker->cells[middle].start <= offset)
            low = middle + 1;
        else
            high = middle;
    }
    return low > worker->cells_from[j] &&
           offset + length <= worker->cells[low - 1].end;
}

/* Mark needle `needle` live, so that the index drops it when rebuilt. */
static void set_live(struct worker *worker, size_t needle)
{
    worker->live[needle] = 1;
    worker->left++;
}

/* Whether bytes[0, size) contain needle[0, length). */
static int contains(const unsigned char *bytes, size_t size,
                    const char *needle, size_t length)
{
    const unsigned char *at = bytes, *end = bytes + size;
    while (length <= (size_t)(end - at)) {
        at = memchr(at, (unsigned char)needle[0],
                    (size_t)(end - at) - length + 1);
        if (!at)
            return 0;
        if (memcmp(at, needle, length) == 0)
            return 1;
        at++;
    }
    return 0;
}

/* Whether a cell of page j of the buffer contains needle `needle`. */
static int on_page(const struct worker *worker, size_t j, size_t needle)
{
    const struct scan_needle *value = &worker->needles[needle];
    const unsigned char *page =
        worker->buffer + j * (size_t)worker->layout->page_size;
    for (size_t c = worker->cells_from[j]; c < worker->cells_from[j + 1];
         c++) {
        const struct cell *cell = &worker->cells[c];
        if (contains(page + cell->start, cell->end - cell->start,
                     value->bytes, value->length))
            return 1;
    }
    return 0;
}

/* The scan_index_find callback of the first pass: count a copy that
 * overlaps bytes outside live records. `at` counts from
 * worker->search_from. */
static void judge_outside(void *context, size_t k, size_t at)
{
    struct worker *worker = context;
    size_t needle = worker->origin[k];
    size_t position = worker->search_from + at;
    uint32_t length = (uint32_t)worker->needles[needle].length;
    if (position + length <= worker->outside_from)
        return; /* inside the live bytes before the outside ones */
    worker->counts[needle]++;
    if (worker->live[needle])
        return;
    uint32_t page_size = worker->layout->page_size;
    size_t j = position / page_size;
    uint32_t offset = (uint32_t)(position % page_size);
    switch (worker->types[j]) {
    case PAGE_BTREE:
        if (on_page(worker, j, needle))
            set_live(worker, needle);
        break;
    case PAGE_OVERFLOW_LAST:
        if (offset >= 4 &&
            (uint64_t)offset + length <= worker->layout->usable) {
            GROW(worker->pending, worker->pending_count,
                 worker->pending_capacity);
            worker->pending[worker->pending_count++] = (struct end_copy){
                worker->buffer_first + (uint32_t)j, offset, length,
                (uint32_t)needle};
        }
        break;
    default:
        break;
    }
}

/* The scan_index_find callback of the second pass: note a copy inside a
 * live record. `at` counts from the start of the buffer. */
static void judge_inside(void *context, size_t k, size_t at)
{
    struct worker *worker = context;
    size_t needle = worker->origin[k];
    if (worker->live[needle])
        return;
    const struct layout *layout = worker->layout;
    size_t j = at / layout->page_size;
    uint32_t offset = (uint32_t)(at % layout->page_size);
    uint32_t length = (uint32_t)worker->needles[needle].length;
    uint32_t page = worker->buffer_first + (uint32_t)j;
    if ((uint64_t)offset + length > layout->usable)
        return;
    int live = 0;
    switch (worker->types[j]) {
    case PAGE_BTREE:
        live = in_cell(worker, j, offset, length);
        break;
    case PAGE_OVERFLOW:
        live = offset >= 4;
        break;
    case PAGE_OVERFLOW_LAST:
        live = offset >= 4 &&
               (uint64_t)offset + length <= 4 + (uint64_t)layout->used[page];
        break;
    default:
        break;
    }
    if (live)
        set_live(worker, needle);
}

/* Index the needles that are not known to be live. */
static void index_unknown(struct worker *worker)
{
    scan_index_free(worker->index);
    size_t size = worker->count ? worker->count : 1;
    if (!worker->searched) {
        worker->searched = util_malloc(size * sizeof *worker->searched);
        worker->origin = util_malloc(size * sizeof *worker->origin);
    }
    worker->searched_count = 0;
    for (size_t i = 0; i < worker->count; i++) {
        if (worker->live[i])
            continue;
        worker->searched[worker->searched_count] = worker->needles[i];
        worker->origin[worker->searched_count++] = i;
    }
    worker->index = scan_index_new(worker->searched, worker->searched_count);
    worker->left = 0;
}

/* Search the buffer's bytes [from, to), which lie outside live records,
 * and the copies that end in them. `size` bytes of the buffer can be
 * read; `*searched_to` is where the last search's starts ended. */
static void search_outside(struct worker *worker, size_t from, size_t to,
                           size_t size, size_t *searched_to)
{
    size_t longest = scan_index_longest(worker->index);
    size_t start = from > longest ? from - longest + 1 : 0;
    if (start < *searched_to)
        start = *searched_to;
    worker->search_from = start;
    worker->outside_from = from;
    scan_index_find(worker->index, (const char *)worker->buffer + start,
                    size - start, to - start, judge_outside, worker);
    *searched_to = to;
}

/* Stretches of the buffer outside live records, joined while they
 * touch, so that each joined stretch is searched once. */
struct stretches {
    struct worker *worker;
    size_t from, to;   /* the stretch being joined */
    size_t size;       /* bytes of the buffer that can be read */
    size_t searched_to;
};

static void add_stretch(struct stretches *stretches, size_t from, size_t to)
{
    if (to <= from)
        return;
    if (stretches->to == from) {
        stretches->to = to;
        return;
    }
    if (stretches->to > stretches->from)
        search_outside(stretches->worker, stretches->from, stretches->to,
                       stretches->size, &stretches->searched_to);
    stretches->from = from;
    stretches->to = to;
}

/* Search the bytes of the buffer's `pages` pages (the last one ending at
 * `limit`) that lie outside live records. On a page without live records
 * that is every byte, and on a b-tree page the bytes around its cells. On
 * an overflow page it is the link, and on the last page of a chain every
 * byte, because its used part is known only at the end. */
static void search_pages_outside(struct worker *worker, uint32_t pages,
                                 size_t limit, size_t size)
{
    const struct layout *layout = worker->layout;
    size_t page_size = layout->page_size;
    struct stretches stretches = {.worker = worker, .size = size};
    for (uint32_t j = 0; j < pages; j++) {
        size_t base = (size_t)j * page_size;
        size_t end = base + page_size < limit ? base + page_size : limit;
        switch (worker->types[j]) {
        case PAGE_BTREE: {
            size_t at = base;
            for (size_t c = worker->cells_from[j];
                 c < worker->cells_from[j + 1]; c++) {
                add_stretch(&stretches, at, base + worker->cells[c].start);
                if (base + worker->cells[c].end > at)
                    at = base + worker->cells[c].end;
            }
            add_stretch(&stretches, at, end);
            break;
        }
        case PAGE_OVERFLOW:
            add_stretch(&stretches, base, base + 4);
            add_stretch(&stretches, base + layout->usable, end);
            break;
        default:
            add_stretch(&stretches, base, end);
            break;
        }
    }
    if (stretches.to > stretches.from)
        search_outside(worker, stretches.from, stretches.to, size,
                       &stretches.searched_to);
}

static void *search_part(void *argument)
{
    struct worker *worker = argument;
    const struct layout *layout = worker->layout;
    size_t page_size = layout->page_size;
    size_t per_read = READ_SIZE / page_size;
    index_unknown(worker);
    size_t longest = scan_index_longest(worker->index);
    size_t overlap = longest > 0 ? longest - 1 : 0;
    unsigned char *buffer = util_malloc(per_read * page_size + overlap);
    worker->buffer = buffer;
    worker->types = util_malloc(per_read);
    worker->cells_from = util_malloc((per_read + 1) *
                                     sizeof *worker->cells_from);
    for (uint32_t first = worker->first_page;
         first < worker->end_page && worker->searched_count > 0;
         first += (uint32_t)per_read) {
        uint32_t count = worker->end_page - first;
        if (count > per_read)
            count = (uint32_t)per_read;
        uint64_t offset = (uint64_t)(first - 1) * page_size;
        /* The part's bytes, and after them enough bytes to see a copy
         * that starts in the part and ends past it. */
        uint64_t end = offset + (uint64_t)count * page_size;
        if (end > layout->file_size)
            end = layout->file_size;
        uint64_t limit = end;
        end = end + overlap < layout->file_size ? end + overlap
                                                : layout->file_size;
        if (read_at(layout->descriptor, buffer, (size_t)(end - offset),
                    offset) != 0) {
            worker->status = util_fail(&worker->err, "cannot read the "
                                       "database file: %s",
                                       errno ? strerror(errno)
                                             : "it ended early");
            break;
        }
        worker->buffer_first = first;
        worker->cell_count = 0;
        for (uint32_t j = 0; j < count; j++) {
            uint64_t start = (uint64_t)j * page_size;
            worker->cells_from[j] = worker->cell_count;
            worker->types[j] = (unsigned char)page_type(
                worker, first + j, buffer + start,
                (size_t)(limit - offset - start < page_size
                             ? limit - offset - start
                             : page_size));
        }
        worker->cells_from[count] = worker->cell_count;
        if (worker->pass == PASS_OUTSIDE)
            search_pages_outside(worker, count, (size_t)(limit - offset),
                                 (size_t)(end - offset));
        else
            scan_index_find(worker->index, (const char *)buffer,
                            (size_t)(end - offset), (size_t)(limit - offset),
                            judge_inside, worker);
        if (worker->left * 8 > worker->searched_count)
            index_unknown(worker);
    }
    free(buffer);
    return NULL;
}

/* Bytes used on the last page of each chain, by page number (0 for a
 * page that ends no chain). */
static uint32_t *chain_ends(const struct layout *layout,
                            const struct worker *workers, int count)
{
    uint32_t *used = util_malloc(((size_t)layout->pages + 1) * sizeof *used);
    memset(used, 0, ((size_t)layout->pages + 1) * sizeof *used);
    uint32_t per_page = layout->usable - 4;
    for (int w = 0; w < count; w++) {
        for (size_t c = 0; c < workers[w].chain_count; c++) {
            uint32_t page = workers[w].chains[c].first;
            uint32_t left = workers[w].chains[c].bytes;
            for (uint32_t steps = 0; steps <= layout->pages; steps++) {
                if (page == 0 || page > layout->pages || layout->dead[page])
                    break;
                if (left <= per_page) {
                    if (layout->next[page] == 0)
                        used[page] = left;
                    break;
                }
                left -= per_page;
                page = layout->next[page];
            }
        }
    }
    return used;
}

static void free_workers(struct worker *workers, int threads)
{
    for (int w = 0; w < threads; w++) {
        free(workers[w].counts);
        free(workers[w].live);
        scan_index_free(workers[w].index);
        free(workers[w].searched);
        free(workers[w].origin);
        free(workers[w].chains);
        free(workers[w].pending);
        free(workers[w].types);
        free(workers[w].cells_from);
        free(workers[w].cells);
        free(workers[w].err);
    }
    free(workers);
}

/* Run `pass` on `threads` threads, each on its part of the file, with
 * the needles that live[] does not mark. Returns the workers, whose
 * counts and live flags contain the results (free them with
 * free_workers), and sets *status to 0, or to -1 with *err set. */
static struct worker *run_pass(struct layout *layout, enum pass pass,
                               const struct scan_needle *needles,
                               size_t count, const unsigned char *live,
                               int threads, const char *path, int *status,
                               char **err)
{
    struct worker *workers = util_malloc((size_t)threads * sizeof *workers);
    pthread_t *ids = util_malloc((size_t)threads * sizeof *ids);
    int *started = util_malloc((size_t)threads * sizeof *started);
    size_t size = count ? count : 1;
    for (int w = 0; w < threads; w++) {
        struct worker *worker = &workers[w];
        memset(worker, 0, sizeof *worker);
        worker->layout = layout;
        worker->pass = pass;
        worker->needles = needles;
        worker->count = count;
        worker->first_page =
            1 + (uint32_t)((uint64_t)layout->pages * (uint64_t)w / threads);
        worker->end_page = 1 + (uint32_t)((uint64_t)layout->pages *
                                          (uint64_t)(w + 1) / threads);
        worker->counts = util_malloc(size * sizeof *worker->counts);
        memset(worker->counts, 0, size * sizeof *worker->counts);
        worker->live = util_malloc(size);
        memcpy(worker->live, live, size);
        started[w] = w > 0 && pthread_create(&ids[w], NULL, search_part,
                                             worker) == 0;
    }
    for (int w = 0; w < threads; w++)
        if (!started[w])
            search_part(&workers[w]);
    for (int w = 1; w < threads; w++)
        if (started[w])
            pthread_join(ids[w], NULL);
    *status = 0;
    for (int w = 0; w < threads && *status == 0; w++)
        if (workers[w].status != 0)
            *status = util_fail(err, "%s: %s", path, workers[w].err);
    free(ids);
    free(started);
    return workers;
}

int page_scan(const char *path, struct scan_needle *needles, size_t count,
              const uint32_t *roots, size_t root_count, int threads,
              char **err)
{
    struct layout layout;
    int status = layout_open(&layout, path, err);
    if (status == 1 && !mark_internal(&layout, roots, root_count))
        status = 0;
    if (status != 1) {
        layout_close(&layout);
        return status;
    }
    if (threads < 1)
        threads = 1;
    /* A part of less than a read's worth is not worth a thread. */
    uint32_t min_part = READ_SIZE / layout.page_size;
    if ((uint32_t)threads > layout.pages / min_part + 1)
        threads = (int)(layout.pages / min_part + 1);
    size_t size = count ? count : 1;
    unsigned char *live = util_malloc(size);
    memset(live, 0, size);
    long *outside = util_malloc(size * sizeof *outside);
    memset(outside, 0, size * sizeof *outside);

    struct worker *workers = run_pass(&layout, PASS_OUTSIDE, needles, count,
                                      live, threads, path, &status, err);
    if (status == 0) {
        layout.used = chain_ends(&layout, workers, threads);
        for (int w = 0; w < threads; w++) {
            for (size_t i = 0; i < count; i++) {
                outside[i] += workers[w].counts[i];
                live[i] |= workers[w].live[i];
            }
            for (size_t p = 0; p < workers[w].pending_count; p++) {
                const struct end_copy *copy = &workers[w].pending[p];
                if ((uint64_t)copy->offset + copy->length <=
                    4 + (uint64_t)layout.used[copy->page])
                    live[copy->needle] = 1;
            }
        }
    }
    free_workers(workers, threads);

    /* The values with copies outside live records and no live copy found
     * yet: only they need the second pass. Every other value is left out
     * of it, and one without copies outside needs no count. */
    int open = 0;
    for (size_t i = 0; i < count && status == 0; i++) {
        if (outside[i] == 0)
            live[i] = 1;
        open |= !live[i];
    }
    unsigned char *known = NULL;
    if (status == 0 && open) {
        known = util_malloc(size);
        memcpy(known, live, size);
        workers = run_pass(&layout, PASS_INSIDE, needles, count, known,
                           threads, path, &status, err);
        for (int w = 0; w < threads && status == 0; w++)
            for (size_t i = 0; i < count; i++)
                live[i] |= workers[w].live[i];
        free_workers(workers, threads);
    }
    for (size_t i = 0; i < count && status == 0; i++)
        needles[i].count = live[i] ? 0 : outside[i];
    free(known);
    free(live);
    free(outside);
    layout_close(&layout);
    return status == 0 ? 1 : -1;
}
