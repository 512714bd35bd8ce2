/*
 * sample_people.c: the companies and persons of the sample data, with
 * their users (associates), e-mail addresses, phones and postal addresses
 * (sample.c describes the whole data set).
 */
#include "sample_internal.h"

#include <assert.h>
#include <string.h>

/* ==== Shared by companies and persons =================================== */

static const struct sample_language *random_language(struct generator *g)
{
    uint32_t weights[16];
    assert(sample_language_count <= ARRAY_SIZE(weights));
    for (uint32_t i = 0; i < sample_language_count; i++)
        weights[i] = sample_languages[i].weight;
    return &sample_languages[sample_random_weighted(&g->random, weights,
                                                    sample_language_count)];
}

/* Return the latest time a company or private person of `category`,
 * registered at `registered`, has activities or sales. */
static int64_t pick_activity_end(struct generator *g, enum category category,
                                 int64_t registered)
{
    /* Per category: percent still active, and the years back that an
     * inactive one may have stopped. */
    static const uint32_t active_percent[CATEGORY_COUNT] = {50, 85, 0,
                                                            85, 85, 65};
    static const int stopped_years[CATEGORY_COUNT] = {9, 3, 9, 5, 5, 6};
    int64_t anchor = g->anchor;
    int64_t end;
    if (sample_random_chance(&g->random, active_percent[category]))
        end = anchor + sample_random_between(&g->random, 0, DAYS(120));
    else
        end = anchor - sample_random_between(&g->random,
                                             category == CATEGORY_LOST_CUSTOMER
                                                 ? DAYS(180)
                                                 : YEARS(1),
                                             YEARS(stopped_years[category]));
    if (end < registered)
        end = sample_random_between(&g->random, registered, anchor);
    return end;
}

/* Bind and insert an address row for a company or a person. */
static int insert_address(struct generator *g, int64_t company_id,
                          int64_t person_id,
                          const struct sample_language *language)
{
    sqlite3_stmt *target = g->statements[INSERT_ADDRESS];
    struct sample_text *street = &g->texts[0], *zipcode = &g->texts[1];
    sample_text_clear(street);
    sample_text_append_string(
        street, sample_random_item(&g->random, &language->streets));
    sample_text_append(street, " ", 1);
    sample_text_append_number(street, 1 + sample_random_below(&g->random, 250));
    sample_text_clear(zipcode);
    sample_text_append_pattern(zipcode, &g->random, language->zipcode_pattern);
    sqlite3_bind_int64(target, 1, ++g->last.address);
    sample_bind_key(target, 2, company_id);
    sample_bind_key(target, 3, person_id);
    sample_bind_string(target, 4, street->data);
    sample_bind_string(target, 5, zipcode->data);
    sample_bind_string(target, 6,
                       sample_random_item(&g->random, &language->cities));
    sample_bind_string(target, 7, language->country);
    return sample_insert_row(g, INSERT_ADDRESS);
}

/* Bind and insert a phone number made from `pattern`. */
static int insert_phone(struct generator *g, int64_t company_id,
                        int64_t person_id, const char *pattern, int rank)
{
    sqlite3_stmt *target = g->statements[INSERT_PHONE];
    struct sample_text *number = &g->texts[0];
    sample_text_clear(number);
    sample_text_append_pattern(number, &g->random, pattern);
    sqlite3_bind_int64(target, 1, ++g->last.phone);
    sample_bind_key(target, 2, company_id);
    sample_bind_key(target, 3, person_id);
    sample_bind_string(target, 4, number->data);
    sqlite3_bind_int(target, 5, rank);
    return sample_insert_row(g, INSERT_PHONE);
}

/* Bind and insert an e-mail address that is in `address`. */
static int insert_email(struct generator *g, int64_t company_id,
                        int64_t person_id, const struct sample_text *address,
                        int rank)
{
    sqlite3_stmt *target = g->statements[INSERT_EMAIL];
    sqlite3_bind_int64(target, 1, ++g->last.email);
    sample_bind_key(target, 2, company_id);
    sample_bind_key(target, 3, person_id);
    sample_bind_string(target, 4, address->data);
    sqlite3_bind_int(target, 5, rank);
    return sample_insert_row(g, INSERT_EMAIL);
}

/* ==== Companies ========================================================= */

/* Company categories, in percent of the regular companies. */
static const uint32_t company_category_weights[CATEGORY_COUNT] = {
    38, 30, 12, 6, 8, 6,
};

/* Activities and sales of a company that name no person. */
static const struct sample_bucket company_activity_buckets[] = {
    {40, 0, 0},
    {30, 1, 1},
    {20, 2, 3},
    {10, 4, 8},
};

static const struct sample_bucket company_sale_buckets[] = {
    {35, 0, 0}, {30, 1, 1}, {20, 2, 2}, {10, 3, 3}, {5, 4, 6},
};

static enum company_kind company_kind_of(const struct generator *g, long index)
{
    if (index == 0)
        return COMPANY_OWN;
    if (g->layout.fixed_cases && index == 1)
        return COMPANY_LOST_WITH_USER;
    if (g->layout.fixed_cases && index == 2)
        return COMPANY_LOST_DORMANT;
    return COMPANY_REGULAR;
}

/* Return the category of regular company `index`. The first regular
 * companies take the categories that the fixed ones leave out, so every
 * category has companies. */
static enum category pick_company_category(struct generator *g, long index)
{
    static const enum category first[] = {
        CATEGORY_PROSPECT,
        CATEGORY_CUSTOMER,
        CATEGORY_SUPPLIER,
        CATEGORY_PRESS,
    };
    long first_regular = g->layout.fixed_cases ? 3 : 1;
    if (index - first_regular < (long)ARRAY_SIZE(first))
        return first[index - first_regular];
    return (enum category)sample_random_weighted(
        &g->random, company_category_weights, CATEGORY_COUNT);
}

/* Fill the name and mail domain of the current company. */
static void name_company(struct generator *g)
{
    struct company_row *company = &g->company;
    const struct sample_language *language = company->language;
    struct sample_text *name = &company->name;
    sample_text_clear(name);
    sample_text_clear(&company->domain);
    if (company->kind == COMPANY_OWN) {
        sample_text_append_string(name, sample_own_company_name);
        sample_text_append_string(&company->domain, sample_own_company_domain);
        return;
    }
    uint32_t pattern = sample_random_below(&g->random, 100);
    const char *last = sample_random_item(&g->random, &language->last_names);
    const char *bar = strchr(last, '|');
    if (pattern < 35) {
        sample_text_append_string(
            name, sample_random_item(&g->random, &language->brand_words));
    } else if (bar) {
        sample_text_append(name, last, (size_t)(bar - last));
        sample_text_append(name, " ", 1);
        sample_text_append_string(name, bar + 1);
        if (name->data[0] >= 'a' && name->data[0] <= 'z')
            name->data[0] = (char)(name->data[0] - 'a' + 'A');
    } else {
        sample_text_append_string(name, last);
    }
    if (pattern >= 80) {
        const char *partner =
            sample_random_item(&g->random, &language->last_names);
        const char *partner_bar = strchr(partner, '|');
        sample_text_append(name, " & ", 3);
        sample_text_append_string(name,
                                  partner_bar ? partner_bar + 1 : partner);
    } else {
        sample_text_append(name, " ", 1);
        sample_text_append_string(
            name, sample_random_item(&g->random, &language->trade_words));
    }
    sample_text_append_folded(&company->domain, name->data, 1);
    sample_text_append_string(&company->domain, ".example");
    if (sample_random_chance(&g->random, 85)) {
        sample_text_append(name, " ", 1);
        sample_text_append_string(
            name, sample_random_item(&g->random, &language->legal_suffixes));
    }
}

/* Decide the current company's kind, category, dates and names. */
static void plan_company(struct generator *g, long index)
{
    struct company_row *company = &g->company;
    int64_t anchor = g->anchor;
    company->id = index + 1;
    company->kind = company_kind_of(g, index);
    company->language = random_language(g);
    switch (company->kind) {
    case COMPANY_OWN:
        company->category = CATEGORY_PARTNER;
        company->language = &sample_languages[0];
        company->registered =
            anchor - sample_random_between(&g->random, YEARS(10), YEARS(12));
        company->activity_end =
            anchor + sample_random_between(&g->random, DAYS(1), DAYS(120));
        break;
    case COMPANY_LOST_WITH_USER:
        company->category = CATEGORY_LOST_CUSTOMER;
        company->registered =
            anchor -
            sample_random_between(&g->random, YEARS(7) + DAYS(30), YEARS(12));
        company->activity_end =
            anchor - YEARS(6) -
            sample_random_between(&g->random, DAYS(30), DAYS(300));
        break;
    case COMPANY_LOST_DORMANT:
        company->category = CATEGORY_LOST_CUSTOMER;
        company->registered =
            anchor - sample_random_between(&g->random, YEARS(7), YEARS(12));
        company->activity_end =
            anchor - YEARS(5) -
            sample_random_between(&g->random, DAYS(60), YEARS(1));
        break;
    case COMPANY_REGULAR:
        company->category = pick_company_category(g, index);
        company->registered =
            anchor -
            sample_random_between(&g->random, SECONDS_PER_HOUR, YEARS(12));
        company->activity_end =
            pick_activity_end(g, company->category, company->registered);
        break;
    }
    g->layout.company_categories[index] = (unsigned char)company->category;
    name_company(g);
}

static int insert_company(struct generator *g)
{
    struct company_row *company = &g->company;
    const struct reference *reference = &g->reference;
    struct sample_text *orgnr = &g->texts[0];
    sample_text_clear(orgnr);
    sample_text_append_pattern(orgnr, &g->random,
                               company->language->orgnr_pattern);
    int64_t business = company->kind == COMPANY_OWN
                           ? reference->business_consulting
                           : reference->business[sample_random_below(
                                 &g->random, reference->business_count)];
    int64_t updated =
        sample_random_chance(&g->random, 92)
            ? sample_random_between(&g->random, company->registered, g->anchor)
            : 0;

    sqlite3_stmt *target = g->statements[INSERT_COMPANY];
    sqlite3_bind_int64(target, 1, company->id);
    sample_bind_string(target, 2, company->name.data);
    sample_bind_string(target, 3,
                       sample_random_chance(&g->random, 10)
                           ? sample_random_item(&g->random, &sample_departments)
                           : NULL);
    sample_bind_string(
        target, 4, sample_random_chance(&g->random, 80) ? orgnr->data : NULL);
    sqlite3_bind_int64(target, 5, reference->category[company->category]);
    sqlite3_bind_int64(target, 6, business);
    sample_bind_date(g, target, 7, 0, company->registered);
    sample_bind_date(g, target, 8, 1, updated);
    sqlite3_bind_int(target, 9, sample_random_chance(&g->random, 4));
    g->last.company = company->id;
    return sample_insert_row(g, INSERT_COMPANY);
}

/* Insert the company's general e-mail address, phone and address. */
static int insert_company_contacts(struct generator *g)
{
    struct company_row *company = &g->company;
    const struct sample_language *language = company->language;
    if (sample_random_chance(&g->random, 40)) {
        struct sample_text *address = &g->texts[0];
        sample_text_clear(address);
        sample_text_append_string(address, language->general_mailbox);
        sample_text_append(address, "@", 1);
        sample_text_append_string(address, company->domain.data);
        if (insert_email(g, company->id, 0, address, 1))
            return -1;
    }
    if (sample_random_chance(&g->random, 85) &&
        insert_phone(g, company->id, 0, language->phone_pattern, 1))
        return -1;
    if (sample_random_chance(&g->random, 90) &&
        insert_address(g, company->id, 0, language))
        return -1;
    return 0;
}

/* Insert the activities and sales of the current company that name no
 * person. */
static int insert_company_history(struct generator *g)
{
    struct company_row *company = &g->company;
    int64_t low = company->registered, high = company->activity_end;
    uint32_t activities =
        sample_random_bucket(&g->random, company_activity_buckets,
                             ARRAY_SIZE(company_activity_buckets));
    for (uint32_t i = 0; i < activities; i++) {
        int64_t time = sample_random_between(&g->random, low, high);
        if (sample_insert_activity(g, 1, 0, time, low, high))
            return -1;
    }
    uint32_t sales = sample_random_bucket(&g->random, company_sale_buckets,
                                          ARRAY_SIZE(company_sale_buckets));
    if (company->kind == COMPANY_OWN)
        sales = 0; /* the users do not sell to themselves */
    for (uint32_t i = 0; i < sales; i++)
        if (sample_insert_sale(g, 1, 0, low, high))
            return -1;
    return 0;
}

static enum person_role company_person_role(const struct generator *g,
                                            long index, uint32_t position)
{
    if (index == 0 && position < (uint32_t)g->layout.own_associates)
        return ROLE_ASSOCIATE;
    if (g->layout.fixed_cases && index == 1 && position == 0)
        return ROLE_LOST_USER;
    return ROLE_REGULAR;
}

/* ==== Persons =========================================================== */

/* Activities of a person who has any, and sales of such a person. */
static const struct sample_bucket person_activity_buckets[] = {
    {30, 1, 4}, {32, 5, 10}, {22, 11, 18}, {12, 19, 30}, {4, 31, 60},
};

static const struct sample_bucket person_sale_buckets[] = {
    {48, 0, 0}, {30, 1, 1}, {14, 2, 2}, {6, 3, 3}, {2, 4, 6},
};

/* Percent of persons with no activity at all, and of persons who went
 * quiet 3 to 10 years back. */
#define PERSONS_WITHOUT_ACTIVITY 12
#define PERSONS_GONE_QUIET 28

/* Category of a private person: Prospect, Customer or Lost customer. */
static const uint32_t private_category_weights[3] = {50, 35, 15};

/* Pick the current person's names from `language`. */
static void name_person(struct generator *g)
{
    struct person_row *person = &g->person;
    const struct sample_language *language = person->language;
    person->first_name = sample_random_item(&g->random, &language->first_names);
    const char *last = sample_random_item(&g->random, &language->last_names);
    const char *bar = strchr(last, '|');
    person->particle[0] = '\0';
    person->last_name = last;
    if (bar) {
        size_t length = (size_t)(bar - last);
        assert(length < sizeof person->particle);
        memcpy(person->particle, last, length);
        person->particle[length] = '\0';
        person->last_name = bar + 1;
    }
    struct sample_text *full = &person->full_name;
    sample_text_clear(full);
    sample_text_append_string(full, person->first_name);
    sample_text_append(full, " ", 1);
    if (bar) {
        sample_text_append_string(full, person->particle);
        sample_text_append(full, " ", 1);
    }
    sample_text_append_string(full, person->last_name);
}

/* Decide how long and how much the current person was active: none at
 * all, quiet for 3 to 10 years, or active up to `ceiling`. */
static void plan_person_activity(struct generator *g, int64_t ceiling)
{
    struct person_row *person = &g->person;
    int64_t anchor = g->anchor;
    int64_t quiet_latest = anchor - YEARS(3) - DAYS(30);
    uint32_t roll = sample_random_below(&g->random, 100);
    person->activity_end = ceiling;
    if (roll < PERSONS_WITHOUT_ACTIVITY) {
        person->activity_count = 0;
        person->sale_count = 0;
        return;
    }
    if (roll < PERSONS_WITHOUT_ACTIVITY + PERSONS_GONE_QUIET &&
        person->registered < quiet_latest) {
        int64_t low =
            sample_maximum(person->registered + DAYS(1), anchor - YEARS(10));
        person->activity_end = sample_minimum(
            ceiling, sample_random_between(&g->random, low, quiet_latest));
    }
    person->activity_count =
        sample_random_bucket(&g->random, person_activity_buckets,
                             ARRAY_SIZE(person_activity_buckets));
    int64_t span_days =
        (person->activity_end - person->registered) / SECONDS_PER_DAY;
    if (person->activity_count > 1 + span_days / 4)
        person->activity_count = 1 + (uint32_t)(span_days / 4);
    person->sale_count = sample_random_bucket(&g->random, person_sale_buckets,
                                              ARRAY_SIZE(person_sale_buckets));
}

/* Decide the current person's consents and e-marketing block. Out of 100
 * persons, 15 have no consent, 14 only STORE, 3 only EMARKETING and 68
 * both. A fifth of the EMARKETING consents are withdrawn, and 30% of the
 * persons who withdrew are blocked already. */
static void plan_person_consents(struct generator *g)
{
    struct person_row *person = &g->person;
    uint32_t roll = sample_random_below(&g->random, 100);
    int store_only = roll >= 15 && roll < 29;
    int emarketing_only = roll >= 29 && roll < 32;
    int both = roll >= 32;
    person->store_consent = store_only || both;
    person->emarketing = EMARKETING_NONE;
    if (emarketing_only || both)
        person->emarketing = sample_random_chance(&g->random, 20)
                                 ? EMARKETING_WITHDRAWN
                                 : EMARKETING_GIVEN;
    person->block_emarketing = person->emarketing == EMARKETING_WITHDRAWN
                                   ? sample_random_chance(&g->random, 30)
                                   : sample_random_chance(&g->random, 1);
}

/* Apply the fixed cases of the file comment to the current person. */
static void apply_person_role(struct generator *g)
{
    struct person_row *person = &g->person;
    int64_t anchor = g->anchor;
    switch (person->role) {
    case ROLE_DORMANT_USER:
        person->category = CATEGORY_PROSPECT;
        person->registered =
            anchor -
            sample_random_between(&g->random, YEARS(6) + DAYS(30), YEARS(10));
        person->activity_count = person->sale_count = 0;
        person->emarketing = EMARKETING_NONE;
        break;
    case ROLE_STALE_PROSPECT:
        person->category = CATEGORY_PROSPECT;
        person->registered =
            anchor - sample_random_between(&g->random, YEARS(4), YEARS(9));
        person->activity_end =
            sample_random_between(&g->random, person->registered + DAYS(1),
                                  anchor - YEARS(3) - DAYS(30));
        person->activity_count = 1 + sample_random_below(&g->random, 6);
        person->sale_count = 0;
        person->emarketing = EMARKETING_NONE;
        break;
    case ROLE_WITHDRAWN:
        person->emarketing = EMARKETING_WITHDRAWN;
        person->block_emarketing = 0;
        break;
    default:
        break;
    }
}

/* Decide everything about the current person before its first row. */
static void plan_person(struct generator *g, int has_company,
                        enum person_role role)
{
    struct person_row *person = &g->person;
    const struct company_row *company = &g->company;
    int64_t anchor = g->anchor;
    person->id = ++g->last.person;
    person->role = role;
    person->linked_sales = 0;
    if (has_company) {
        person->language = sample_random_chance(&g->random, 80)
                               ? company->language
                               : random_language(g);
        /* Otherwise Prospect or Customer, the first two categories. */
        person->category =
            sample_random_chance(&g->random, 90)
                ? company->category
                : (enum category)sample_random_below(&g->random, 2);
        person->registered = sample_random_between(
            &g->random, company->registered,
            sample_minimum(company->activity_end, anchor));
        plan_person_activity(g, company->activity_end);
        if (company->kind == COMPANY_OWN)
            person->sale_count = 0;
    } else {
        person->language = random_language(g);
        person->category = (enum category)sample_random_weighted(
            &g->random, private_category_weights, 3);
        if (role == ROLE_WITHDRAWN)
            person->category = CATEGORY_CUSTOMER;
        person->registered =
            anchor -
            sample_random_between(&g->random, SECONDS_PER_HOUR, YEARS(12));
        plan_person_activity(
            g, pick_activity_end(g, person->category, person->registered));
    }
    name_person(g);
    plan_person_consents(g);
    apply_person_role(g);
}

/* Bind the birth date parts of the current person: about a third have
 * them, some without the year. */
static void bind_birth_date(struct generator *g, sqlite3_stmt *target)
{
    sqlite3_bind_null(target, 7);
    sqlite3_bind_null(target, 8);
    sqlite3_bind_null(target, 9);
    if (!sample_random_chance(&g->random, 35))
        return;
    unsigned latest = sample_year_of(g->anchor) - 18;
    unsigned year = latest - sample_random_below(&g->random, 55);
    unsigned month = 1 + sample_random_below(&g->random, 12);
    unsigned day =
        1 + sample_random_below(&g->random, sample_days_in_month(year, month));
    if (sample_random_chance(&g->random, 85))
        sqlite3_bind_int(target, 7, (int)year);
    sqlite3_bind_int(target, 8, (int)month);
    sqlite3_bind_int(target, 9, (int)day);
}

static int insert_person(struct generator *g, int has_company)
{
    struct person_row *person = &g->person;
    int64_t updated =
        sample_random_chance(&g->random, 85)
            ? sample_random_between(&g->random, person->registered, g->anchor)
            : 0;
    const char *title = has_company && sample_random_chance(&g->random, 70)
                            ? sample_random_item(&g->random, &sample_job_titles)
                            : NULL;
    sqlite3_stmt *target = g->statements[INSERT_PERSON];
    sqlite3_bind_int64(target, 1, person->id);
    sample_bind_key(target, 2, has_company ? g->company.id : 0);
    sample_bind_string(target, 3, person->first_name);
    sample_bind_string(target, 4,
                       person->particle[0] ? person->particle : NULL);
    sample_bind_string(target, 5, person->last_name);
    sample_bind_string(target, 6, title);
    bind_birth_date(g, target);
    sqlite3_bind_int64(target, 10, g->reference.category[person->category]);
    sample_bind_date(g, target, 11, 0, person->registered);
    sample_bind_date(g, target, 12, 1, updated);
    sqlite3_bind_int(target, 13, sample_random_chance(&g->random, 3));
    sqlite3_bind_int(target, 14, person->block_emarketing);
    return sample_insert_row(g, INSERT_PERSON);
}

/* Cut `text` to its first character. */
static void keep_first_character(struct sample_text *text)
{
    if (text->length > 1) {
        text->length = 1;
        text->data[1] = '\0';
    }
}

/* Insert the user (associate) row of the current person. The login name
 * is the first initial and the last name, made unique with a number. */
static int insert_associate(struct generator *g)
{
    struct person_row *person = &g->person;
    int64_t id = ++g->last.associate;
    assert(id <= MAXIMUM_ASSOCIATES);
    struct sample_text *login = &g->texts[0];
    sample_text_clear(login);
    sample_text_append_folded(login, person->first_name, 0);
    keep_first_character(login);
    sample_text_append_folded(login, person->last_name, 0);
    for (int64_t i = 0; i + 1 < id; i++) {
        if (strcmp(g->associate_names[i], login->data) == 0) {
            sample_text_append_number(login, (unsigned)id);
            break;
        }
    }
    char *name = g->associate_names[id - 1];
    size_t length = sample_minimum((int64_t)login->length,
                                   (int64_t)sizeof g->associate_names[0] - 1);
    memcpy(name, login->data, length);
    name[length] = '\0';

    sqlite3_stmt *target = g->statements[INSERT_ASSOCIATE];
    sqlite3_bind_int64(target, 1, id);
    sample_bind_string(target, 2, name);
    sqlite3_bind_int64(target, 3, person->id);
    sample_bind_date(
        g, target, 4, 0,
        sample_minimum(g->anchor,
                       person->registered +
                           sample_random_between(&g->random, 0, DAYS(30))));
    return sample_insert_row(g, INSERT_ASSOCIATE);
}

/* Write an e-mail address of the current person into g->texts[0]. At the
 * company's domain it is first.last, flast or first. At a private mail
 * domain it is first.last, sometimes with two digits. */
static void compose_person_email(struct generator *g, int at_company)
{
    struct person_row *person = &g->person;
    struct sample_text *address = &g->texts[0];
    uint32_t style = sample_random_below(&g->random, 100);
    int first_only = at_company && style >= 90;
    int initial = at_company && style >= 70 && !first_only;
    sample_text_clear(address);
    sample_text_append_folded(address, person->first_name, 0);
    if (initial)
        keep_first_character(address);
    else if (!first_only)
        sample_text_append(address, ".", 1);
    if (!first_only) {
        sample_text_append_folded(address, person->particle, 0);
        sample_text_append_folded(address, person->last_name, 0);
    }
    if (!at_company && style < 30)
        sample_text_append_number(address,
                                  10 + sample_random_below(&g->random, 90));
    sample_text_append(address, "@", 1);
    sample_text_append_string(
        address, at_company ? g->company.domain.data
                            : sample_random_item(&g->random,
                                                 &sample_private_mail_domains));
}

/* Insert the current person's e-mail addresses, phones and address. */
static int insert_person_contacts(struct generator *g, int has_company)
{
    struct person_row *person = &g->person;
    const struct sample_language *language =
        has_company ? g->company.language : person->language;
    if (sample_random_chance(&g->random, 90)) {
        compose_person_email(g, has_company);
        if (insert_email(g, 0, person->id, &g->texts[0], 1))
            return -1;
        if (sample_random_chance(&g->random, 6)) {
            compose_person_email(g, 0);
            if (insert_email(g, 0, person->id, &g->texts[0], 2))
                return -1;
        }
    }
    if (sample_random_chance(&g->random, 55) &&
        insert_phone(g, 0, person->id, language->mobile_pattern, 1))
        return -1;
    if (sample_random_chance(&g->random, has_company ? 3 : 60) &&
        insert_address(g, 0, person->id, language))
        return -1;
    return 0;
}

/* Insert the current person's sales, then activities. The latest
 * activity falls within 90 days before the activity end. */
static int insert_person_history(struct generator *g, int has_company)
{
    struct person_row *person = &g->person;
    int64_t low = person->registered, high = person->activity_end;
    for (uint32_t i = 0; i < person->sale_count; i++)
        if (sample_insert_sale(g, has_company, 1, low, high))
            return -1;
    if (!person->activity_count)
        return 0;
    int64_t latest =
        high - sample_random_between(&g->random, 0,
                                     sample_minimum(DAYS(90), high - low));
    for (uint32_t i = 0; i < person->activity_count; i++) {
        int64_t time =
            i == 0 ? latest : sample_random_between(&g->random, low, latest);
        if (sample_insert_activity(g, has_company, 1, time, low, latest))
            return -1;
    }
    return 0;
}

/* ==== Entry points ====================================================== */

int sample_generate_person(struct generator *g, int has_company,
                           enum person_role role)
{
    plan_person(g, has_company, role);
    if (insert_person(g, has_company))
        return -1;
    if (role == ROLE_ASSOCIATE || role == ROLE_LOST_USER ||
        role == ROLE_DORMANT_USER) {
        if (insert_associate(g))
            return -1;
    }
    if (insert_person_contacts(g, has_company) ||
        insert_person_history(g, has_company) ||
        sample_insert_consents(g, has_company))
        return -1;
    sample_count_person(g);
    return 0;
}

int sample_generate_company(struct generator *g, long index)
{
    plan_company(g, index);
    if (insert_company(g) || insert_company_contacts(g) ||
        insert_company_history(g))
        return -1;
    uint32_t size = g->layout.company_sizes[index];
    for (uint32_t position = 0; position < size; position++) {
        if (sample_generate_person(g, 1,
                                   company_person_role(g, index, position)))
            return -1;
    }
    return 0;
}
