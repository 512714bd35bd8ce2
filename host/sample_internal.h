/*
 * sample_internal.h: what the files of the sample data generator share
 * (sample.c, sample_people.c, sample_history.c, sample_values.c). Only
 * these files include it. The public interface is sample.h.
 */
#ifndef LETHE_SAMPLE_INTERNAL_H
#define LETHE_SAMPLE_INTERNAL_H

#include "sample_words.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(array) (sizeof(array) / sizeof((array)[0]))

#define SECONDS_PER_MINUTE INT64_C(60)
#define SECONDS_PER_HOUR INT64_C(3600)
#define SECONDS_PER_DAY INT64_C(86400)
#define SECONDS_PER_YEAR INT64_C(31557600) /* 365.25 days */
#define DAYS(n) ((int64_t)(n)*SECONDS_PER_DAY)
#define YEARS(n) ((int64_t)(n)*SECONDS_PER_YEAR)

#define MAXIMUM_ASSOCIATES 50
#define MAXIMUM_LINKED_SALES 4
#define MAXIMUM_BUSINESSES 64

/* ==== Random numbers, dates and text (sample_values.c) =============== */

/* xoshiro256** 1.0 (Blackman and Vigna), seeded through splitmix64. Only
 * integer arithmetic, so the output is the same on every platform. */
struct sample_random {
    uint64_t state[4];
};

/* A piecewise uniform distribution: `percent` of the draws fall evenly
 * in [low, high]. The percentages of a table add up to 100. */
struct sample_bucket {
    uint32_t percent;
    uint32_t low;
    uint32_t high;
};

void sample_random_seed(struct sample_random *random, uint64_t seed);

/* Return a number in [0, bound), or 0 when bound is 0. */
uint32_t sample_random_below(struct sample_random *random, uint32_t bound);

/* Return 1 with a probability of `percent` in 100, else 0. */
int sample_random_chance(struct sample_random *random, uint32_t percent);

/* Return a number in [low, high], or low when high is below low. */
int64_t sample_random_between(struct sample_random *random, int64_t low,
                              int64_t high);

const char *sample_random_item(struct sample_random *random,
                               const struct sample_list *list);

/* Return a number drawn from a table of `count` buckets. */
uint32_t sample_random_bucket(struct sample_random *random,
                              const struct sample_bucket *buckets,
                              size_t count);

/* Return the index of a weight drawn in proportion to the weights. */
uint32_t sample_random_weighted(struct sample_random *random,
                                const uint32_t *weights, size_t count);

#define SAMPLE_DATE_LENGTH 19 /* "YYYY-MM-DD HH:MM:SS" */

/* Write `time` (seconds since the epoch, at or after 1970) as
 * 'YYYY-MM-DD HH:MM:SS' UTC and a NUL. */
void sample_format_date(int64_t time, char out[SAMPLE_DATE_LENGTH + 1]);

unsigned sample_year_of(int64_t time);

unsigned sample_days_in_month(unsigned year, unsigned month);

#define SAMPLE_TEXT_CAPACITY 512

/* A NUL-terminated string in a fixed buffer. Text appended past the
 * capacity is cut off. */
struct sample_text {
    size_t length;
    char data[SAMPLE_TEXT_CAPACITY];
};

/* Values that the placeholders of a template ($F, $N, $C, $P, $Y) expand to. */
struct sample_text_context {
    const char *first_name;
    const char *full_name;
    const char *company_name;
    const char *product;
    unsigned year;
};

void sample_text_clear(struct sample_text *text);
void sample_text_append(struct sample_text *text, const char *source,
                        size_t length);
void sample_text_append_string(struct sample_text *text, const char *source);
void sample_text_append_number(struct sample_text *text, unsigned value);

/* Append `source` as lowercase ASCII letters and digits, for e-mail
 * addresses and domains. Latin-1 letters lose their accents (ø to o,
 * ß to ss). A run of spaces and punctuation becomes one '-' when
 * `separator` is nonzero, and is dropped otherwise. */
void sample_text_append_folded(struct sample_text *text, const char *source,
                               int separator);

/* Append `pattern` with each '#' replaced by a random digit and each '@'
 * by a random capital letter. */
void sample_text_append_pattern(struct sample_text *text,
                                struct sample_random *random,
                                const char *pattern);

/* Append `template` with its placeholders expanded from `context`. */
void sample_text_expand(struct sample_text *text, const char *template,
                        const struct sample_text_context *context);

/* ==== Generator state ================================================ */

enum category {
    CATEGORY_PROSPECT,
    CATEGORY_CUSTOMER,
    CATEGORY_LOST_CUSTOMER,
    CATEGORY_PARTNER,
    CATEGORY_SUPPLIER,
    CATEGORY_PRESS,
    CATEGORY_COUNT
};

enum legal_basis {
    BASIS_CONSENT,
    BASIS_LEGITIMATE_INTEREST,
    BASIS_CONTRACT,
    BASIS_WITHDRAWN,
    BASIS_EMPLOYMENT,
    BASIS_COUNT
};

enum consent_source { SOURCE_USER, SOURCE_WEBFORM, SOURCE_API, SOURCE_COUNT };

/* Ids of the reference rows that schema.sql inserts, looked up by name or
 * key. */
struct reference {
    int64_t category[CATEGORY_COUNT];
    int64_t legal_basis[BASIS_COUNT];
    int64_t source[SOURCE_COUNT];
    int64_t purpose_store;
    int64_t purpose_emarketing;
    int64_t business[MAXIMUM_BUSINESSES];
    uint32_t business_count;
    int64_t business_consulting; /* the own company's line of business */
};

/* The prepared insert statements, one per table. */
enum statement {
    INSERT_COMPANY,
    INSERT_PERSON,
    INSERT_ASSOCIATE,
    INSERT_PROJECT,
    INSERT_SALE,
    INSERT_ACTIVITY,
    INSERT_DOCUMENT,
    INSERT_CONSENT,
    INSERT_EMAIL,
    INSERT_PHONE,
    INSERT_ADDRESS,
    INSERT_SELECTION,
    INSERT_MEMBER,
    STATEMENT_COUNT
};

/* Roles of the companies and persons with fixed cases (listed in the
 * comment at the top of sample.c). */
enum company_kind {
    COMPANY_REGULAR,
    COMPANY_OWN,
    COMPANY_LOST_WITH_USER,
    COMPANY_LOST_DORMANT
};

enum person_role {
    ROLE_REGULAR,
    ROLE_ASSOCIATE,      /* a user in the own company */
    ROLE_LOST_USER,      /* a user in the lost customer company 2 */
    ROLE_DORMANT_USER,   /* a private user with no activity */
    ROLE_STALE_PROSPECT, /* a private prospect, quiet for 3+ years */
    ROLE_WITHDRAWN       /* withdrawn e-marketing, not yet blocked */
};

/* E-marketing consent of one person. */
enum emarketing { EMARKETING_NONE, EMARKETING_GIVEN, EMARKETING_WITHDRAWN };

/* The company being generated. */
struct company_row {
    int64_t id;
    enum company_kind kind;
    enum category category;
    const struct sample_language *language;
    int64_t registered;
    int64_t activity_end; /* no activity or sale after this time */
    struct sample_text name;
    struct sample_text domain; /* mail domain */
};

/* A sale of the current person, for linking activities to it. */
struct linked_sale {
    int64_t id;
    int64_t registered;
    int64_t saledate;
};

/* The person being generated. */
struct person_row {
    int64_t id;
    enum person_role role;
    enum category category;
    const struct sample_language *language;
    int64_t registered;
    int64_t activity_end; /* no activity or sale after this time */
    uint32_t activity_count;
    uint32_t sale_count;
    int store_consent;
    enum emarketing emarketing;
    int block_emarketing;
    const char *first_name;
    const char *last_name; /* without the particle */
    char particle[16];     /* Dutch "van der", or empty */
    struct sample_text full_name;
    struct linked_sale sales[MAXIMUM_LINKED_SALES];
    uint32_t linked_sales;
};

/* How many rows of each kind the run makes, decided before the first
 * insert. */
struct layout {
    long persons;
    long private_persons;
    long companies;
    long projects;
    int fixed_cases; /* companies 2-3 and privates 1-3 have their roles */
    int associates;
    int own_associates; /* associate ids 1..own_associates */
    uint32_t *company_sizes;
    unsigned char *company_categories; /* enum category per company */
    int64_t *project_starts;
    int64_t *project_ends;
};

/* An index or trigger of the schema, dropped while the rows go in and
 * created again from its SQL afterwards. */
struct deferred_object {
    int is_index;
    char *name;
    char *sql;
};

/* Last id used in each table. */
struct last_ids {
    int64_t company, person, associate, project, sale, activity, document,
        consent, email, phone, address, selection, member;
};

struct generator {
    sqlite3 *db;
    char **err;
    struct sample_random random;
    int64_t anchor;
    struct reference reference;
    struct layout layout;
    struct last_ids last;
    sqlite3_stmt *statements[STATEMENT_COUNT];
    int progress;
    long persons_done;
    long progress_next;
    long private_done;
    /* Buffers bound to statements (SQLITE_STATIC): they live as long as
     * the statements. */
    struct company_row company;
    struct person_row person;
    char dates[3][SAMPLE_DATE_LENGTH + 1];
    struct sample_text texts[4];
    char associate_names[MAXIMUM_ASSOCIATES][32];
    struct deferred_object *deferred;
    size_t deferred_count;
};

static inline int64_t sample_minimum(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static inline int64_t sample_maximum(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* ==== Binding and progress (sample.c) ================================ */

/* Bind a key, or NULL for 0. */
void sample_bind_key(sqlite3_stmt *target, int index, int64_t id);

/* Bind a string that stays valid while the statements exist, or NULL. */
void sample_bind_string(sqlite3_stmt *target, int index, const char *text);

/* Bind `time` as date text kept in g->dates[slot], or NULL for 0. A
 * statement that binds several dates gives each its own slot. */
void sample_bind_date(struct generator *g, sqlite3_stmt *target, int index,
                      int slot, int64_t time);

/* Execute one bound insert and reset it. On failure *g->err names the
 * table and SQLite's message. */
int sample_insert_row(struct generator *g, enum statement which);

/* Count a finished person and update the progress line when it is on. */
void sample_count_person(struct generator *g);

/* ==== Companies and persons (sample_people.c) ======================== */

/* Generate company `index` (counted from 0, so its id is index + 1) with its
 * contact details, its own activities and sales, and its persons. */
int sample_generate_company(struct generator *g, long index);

/* Generate one person and all rows that hang off them. With `has_company`
 * nonzero the person belongs to the current company (g->company). */
int sample_generate_person(struct generator *g, int has_company,
                           enum person_role role);

/* ==== Projects, sales, activities, consents (sample_history.c) ======= */

/* Return the id of an own-company user, who owns activities and sales. */
int64_t sample_random_owner(struct generator *g);

/* Insert project `index` (0-based) and note its run in g->layout. */
int sample_insert_project(struct generator *g, long index);

/* Insert a sale of the current company (when `company` is nonzero) and
 * person (when `person` is nonzero), dated in [low, high]. */
int sample_insert_sale(struct generator *g, int company, int person,
                       int64_t low, int64_t high);

/* Insert an activity at `time` of the current company (when `company` is
 * nonzero) and person (when `person` is nonzero). The activity's dates
 * stay within [low, high]. A document activity gets its document row. */
int sample_insert_activity(struct generator *g, int company, int person,
                           int64_t time, int64_t low, int64_t high);

/* Insert the consents planned for the current person (g->person). */
int sample_insert_consents(struct generator *g, int has_company);

#endif
