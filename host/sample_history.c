/*
 * sample_history.c: the projects, sales, activities, documents and
 * consents of the sample data (sample.c describes the whole data set).
 */
#include "sample_internal.h"

int64_t sample_random_owner(struct generator *g)
{
    return 1 +
           sample_random_below(&g->random, (uint32_t)g->layout.own_associates);
}

/* Return a project whose run contains `time`, or 0 (no project). */
static int64_t find_project(struct generator *g, int64_t time)
{
    const struct layout *layout = &g->layout;
    for (int attempt = 0; attempt < 4; attempt++) {
        uint32_t i =
            sample_random_below(&g->random, (uint32_t)layout->projects);
        if (time >= layout->project_starts[i] &&
            time <= layout->project_ends[i] + DAYS(90))
            return i + 1;
    }
    return 0;
}

/* ==== Projects ========================================================== */

int sample_insert_project(struct generator *g, long index)
{
    struct layout *layout = &g->layout;
    int64_t anchor = g->anchor;
    int64_t registered =
        anchor - sample_random_between(&g->random, DAYS(30), YEARS(10));
    int64_t end =
        registered + sample_random_between(&g->random, DAYS(30), YEARS(2));
    /* status_idx: 1 planned, 2 in progress, 3 completed, 4 stopped. */
    int done = end < anchor && sample_random_chance(&g->random, 90);
    int status = done           ? 3
                 : end < anchor ? 4
                                : 1 + (int)sample_random_below(&g->random, 2);
    layout->project_starts[index] = registered;
    layout->project_ends[index] = end;

    struct sample_text_context context = {
        .product = sample_random_item(&g->random, &sample_products),
        .year = sample_year_of(registered),
    };
    struct sample_text *name = &g->texts[0];
    sample_text_clear(name);
    sample_text_expand(
        name, sample_random_item(&g->random, &sample_project_names), &context);
    sqlite3_stmt *target = g->statements[INSERT_PROJECT];
    sqlite3_bind_int64(target, 1, ++g->last.project);
    sample_bind_string(target, 2, name->data);
    sqlite3_bind_int(target, 3, status);
    sqlite3_bind_int(target, 4, done);
    sample_bind_date(g, target, 5, 0, end);
    sqlite3_bind_int64(target, 6, sample_random_owner(g));
    sample_bind_date(g, target, 7, 1, registered);
    return sample_insert_row(g, INSERT_PROJECT);
}

/* ==== Sales ============================================================= */

/* Amount of a sale in whole hundreds, from 500 to 250,000. */
static const struct sample_bucket sale_amount_buckets[] = {
    {50, 5, 50},
    {35, 51, 500},
    {15, 501, 2500},
};

/* Return the status of a sale dated `saledate`: open when it is still to
 * come, mostly closed (sold, lost, stalled) when it is long past. */
static int pick_sale_status(struct generator *g, int64_t saledate)
{
    static const uint32_t recent[4] = {35, 35, 20, 10};
    static const uint32_t old[4] = {0, 50, 35, 15};
    if (saledate > g->anchor)
        return 1;
    const uint32_t *weights = saledate > g->anchor - DAYS(180) ? recent : old;
    return 1 + (int)sample_random_weighted(&g->random, weights, 4);
}

int sample_insert_sale(struct generator *g, int company, int person,
                       int64_t low, int64_t high)
{
    struct person_row *row = &g->person;
    int64_t saledate = sample_random_between(&g->random, low, high);
    int64_t registered = sample_maximum(
        low, sample_minimum(saledate, g->anchor) -
                 sample_random_between(&g->random, 0, DAYS(120)));
    uint32_t hundreds = sample_random_bucket(&g->random, sale_amount_buckets,
                                             ARRAY_SIZE(sale_amount_buckets));
    struct sample_text_context context = {
        .product = sample_random_item(&g->random, &sample_products),
        .year = sample_year_of(saledate),
    };
    struct sample_text *heading = &g->texts[0];
    sample_text_clear(heading);
    sample_text_expand(heading,
                       sample_random_item(&g->random, &sample_sale_headings),
                       &context);
    int64_t project =
        sample_random_chance(&g->random, 8) ? find_project(g, saledate) : 0;

    sqlite3_stmt *target = g->statements[INSERT_SALE];
    sqlite3_bind_int64(target, 1, ++g->last.sale);
    sample_bind_key(target, 2, company ? g->company.id : 0);
    sample_bind_key(target, 3, person ? row->id : 0);
    sample_bind_key(target, 4, project);
    sqlite3_bind_int64(target, 5, sample_random_owner(g));
    sample_bind_string(target, 6, heading->data);
    sample_bind_date(g, target, 7, 0, saledate);
    sqlite3_bind_double(target, 8, 100.0 * hundreds);
    sqlite3_bind_int(target, 9, pick_sale_status(g, saledate));
    sample_bind_date(g, target, 10, 1, registered);
    if (person && row->linked_sales < MAXIMUM_LINKED_SALES) {
        struct linked_sale *sale = &row->sales[row->linked_sales++];
        sale->id = g->last.sale;
        sale->registered = registered;
        sale->saledate = saledate;
    }
    return sample_insert_row(g, INSERT_SALE);
}

/* ==== Activities and documents ========================================== */

/* Return a sale of the current person that an activity at `time` may
 * belong to, or 0. */
static int64_t find_person_sale(struct generator *g, int64_t time)
{
    const struct person_row *person = &g->person;
    if (!person->linked_sales)
        return 0;
    const struct linked_sale *sale =
        &person->sales[sample_random_below(&g->random, person->linked_sales)];
    if (time >= sale->registered - DAYS(60) &&
        time <= sale->saledate + DAYS(60))
        return sale->id;
    return 0;
}

/* Activity types 1..5 (meeting, call, task, e-mail, document). */
static const uint32_t activity_type_weights[5] = {18, 28, 20, 26, 8};

/* Return the activity's status: 1 not started, 2 started, 3 completed. */
static int pick_activity_status(struct generator *g, int64_t time)
{
    static const uint32_t future[3] = {85, 15, 0};
    static const uint32_t past[3] = {5, 3, 92};
    const uint32_t *weights = time > g->anchor ? future : past;
    return 1 + (int)sample_random_weighted(&g->random, weights, 3);
}

/* Move a meeting, call or task at `time` to a quarter hour in office
 * hours (08:00 to 17:00) of its day, unless that leaves [low, high]. */
static int64_t office_hours(struct generator *g, int64_t time, int64_t low,
                            int64_t high)
{
    int64_t day = time / SECONDS_PER_DAY * SECONDS_PER_DAY;
    int64_t moved =
        day + 8 * SECONDS_PER_HOUR +
        15 * SECONDS_PER_MINUTE * sample_random_below(&g->random, 37);
    return moved >= low && moved <= high ? moved : time;
}

/* Insert the document of the activity inserted last, with `header` and a
 * body made from a template. */
static int insert_document(struct generator *g,
                           const struct sample_text *header,
                           const struct sample_text_context *context,
                           int64_t registered)
{
    struct sample_text *body = &g->texts[2];
    sample_text_clear(body);
    sample_text_expand(
        body, sample_random_item(&g->random, &sample_document_bodies), context);
    sqlite3_stmt *target = g->statements[INSERT_DOCUMENT];
    sqlite3_bind_int64(target, 1, ++g->last.document);
    sqlite3_bind_int64(target, 2, g->last.activity);
    sample_bind_string(target, 3, header->data);
    sample_bind_string(target, 4, body->data);
    sample_bind_date(g, target, 5, 2, registered);
    return sample_insert_row(g, INSERT_DOCUMENT);
}

/* Write the description of an activity of `type` into g->texts[1]. About
 * one in three of a person's activities names the person. */
static void describe_activity(struct generator *g, int type, int person,
                              const struct sample_text_context *context)
{
    const struct sample_list *texts = &sample_activity_texts[type - 1];
    if (person && sample_random_chance(&g->random, 35))
        texts = &sample_personal_activity_texts[type - 1];
    sample_text_clear(&g->texts[1]);
    sample_text_expand(&g->texts[1], sample_random_item(&g->random, texts),
                       context);
}

int sample_insert_activity(struct generator *g, int company, int person,
                           int64_t time, int64_t low, int64_t high)
{
    int type =
        1 + (int)sample_random_weighted(&g->random, activity_type_weights, 5);
    if (type >= 4 && time > g->anchor)
        type = 3; /* e-mails and documents are not dated ahead */
    if (type <= 3)
        time = office_hours(g, time, low, high);
    int64_t registered =
        time <= g->anchor
            ? time - sample_random_between(&g->random, 0, DAYS(14))
            : g->anchor - sample_random_between(&g->random, 0, DAYS(30));
    registered = sample_maximum(registered, low);

    struct sample_text_context context = {
        .first_name = person ? g->person.first_name : "",
        .full_name = person ? g->person.full_name.data : "",
        .company_name =
            company ? g->company.name.data : g->person.full_name.data,
        .product = sample_random_item(&g->random, &sample_products),
        .year = sample_year_of(time),
    };
    describe_activity(g, type, person, &context);
    int64_t sale = person && sample_random_chance(&g->random, 25)
                       ? find_person_sale(g, time)
                       : 0;
    int64_t project =
        sample_random_chance(&g->random, 4) ? find_project(g, time) : 0;

    sqlite3_stmt *target = g->statements[INSERT_ACTIVITY];
    sqlite3_bind_int64(target, 1, ++g->last.activity);
    sample_bind_key(target, 2, company ? g->company.id : 0);
    sample_bind_key(target, 3, person ? g->person.id : 0);
    sample_bind_key(target, 4, project);
    sample_bind_key(target, 5, sale);
    sqlite3_bind_int64(target, 6, sample_random_owner(g));
    sqlite3_bind_int(target, 7, type);
    sqlite3_bind_int(target, 8, pick_activity_status(g, time));
    sample_bind_date(g, target, 9, 0, type <= 3 ? time : 0);
    sample_bind_date(g, target, 10, 1, time);
    sample_bind_string(target, 11, g->texts[1].data);
    sample_bind_date(g, target, 12, 2, registered);
    if (sample_insert_row(g, INSERT_ACTIVITY))
        return -1;
    if (type == 5)
        return insert_document(g, &g->texts[1], &context, registered);
    return 0;
}

/* ==== Consents ========================================================== */

/* Return the legal basis for storing the current person's data. */
static enum legal_basis pick_store_basis(struct generator *g, int has_company)
{
    /* Per category: percent consent, legitimate interest, contract. */
    static const uint32_t weights[CATEGORY_COUNT][3] = {
        {45, 55, 0}, {10, 30, 60}, {10, 40, 50},
        {0, 50, 50}, {0, 50, 50},  {20, 80, 0},
    };
    if (has_company && g->company.kind == COMPANY_OWN)
        return BASIS_EMPLOYMENT;
    return (enum legal_basis)sample_random_weighted(
        &g->random, weights[g->person.category], 3);
}

static int insert_consent(struct generator *g, int64_t purpose,
                          enum legal_basis basis)
{
    static const uint32_t source_weights[SOURCE_COUNT] = {50, 35, 15};
    struct person_row *person = &g->person;
    int64_t anchor = g->anchor;
    int64_t registered =
        person->registered +
        sample_random_between(
            &g->random, 0,
            sample_random_chance(&g->random, 70)
                ? sample_minimum(DAYS(60), anchor - person->registered)
                : anchor - person->registered);
    int64_t updated = 0;
    const char *comment = NULL;
    if (basis == BASIS_WITHDRAWN) {
        updated = sample_random_between(&g->random, registered, anchor);
        if (sample_random_chance(&g->random, 60))
            comment =
                sample_random_item(&g->random, &sample_withdrawal_comments);
    } else {
        if (sample_random_chance(&g->random, 20))
            updated = sample_random_between(&g->random, registered, anchor);
        if (sample_random_chance(&g->random, 25))
            comment = sample_random_item(&g->random, &sample_consent_comments);
    }
    sqlite3_stmt *target = g->statements[INSERT_CONSENT];
    sqlite3_bind_int64(target, 1, ++g->last.consent);
    sqlite3_bind_int64(target, 2, person->id);
    sqlite3_bind_int64(target, 3, purpose);
    sqlite3_bind_int64(target, 4, g->reference.legal_basis[basis]);
    sqlite3_bind_int64(target, 5,
                       g->reference.source[sample_random_weighted(
                           &g->random, source_weights, SOURCE_COUNT)]);
    sample_bind_string(target, 6, comment);
    sample_bind_date(g, target, 7, 0, registered);
    sample_bind_date(g, target, 8, 1, updated);
    return sample_insert_row(g, INSERT_CONSENT);
}

int sample_insert_consents(struct generator *g, int has_company)
{
    struct person_row *person = &g->person;
    if (person->store_consent &&
        insert_consent(g, g->reference.purpose_store,
                       pick_store_basis(g, has_company)))
        return -1;
    if (person->emarketing == EMARKETING_NONE)
        return 0;
    return insert_consent(g, g->reference.purpose_emarketing,
                          person->emarketing == EMARKETING_WITHDRAWN
                              ? BASIS_WITHDRAWN
                              : BASIS_CONSENT);
}
