/*
 * sample_words.h: the invented names, places and phrases that the sample
 * data generator (sample.c and its helper files) draws from.
 *
 * Text templates may contain placeholders that the generator expands:
 * $F the person's first name, $N the person's full name, $C the company
 * name, $P a product name and $Y the year of the row's date.
 *
 * Patterns for numbers and postal codes: '#' becomes a random digit, '@'
 * a random capital letter, and every other character stays as it is.
 */
#ifndef LETHE_SAMPLE_WORDS_H
#define LETHE_SAMPLE_WORDS_H

#include <stdint.h>

struct sample_list {
    const char *const *items;
    uint32_t count;
};

/* The names and formats of one country. A last name may carry a Dutch
 * name particle before a '|' ("van der|Meer"), which goes into
 * person.middlename. */
struct sample_language {
    const char *country;
    uint32_t weight; /* share of companies, in percent */
    struct sample_list first_names;
    struct sample_list last_names;
    struct sample_list streets;
    struct sample_list cities;
    struct sample_list brand_words;   /* invented words for company names */
    struct sample_list trade_words;   /* "Logistics", "Bouw", ... */
    struct sample_list legal_suffixes; /* "B.V.", "AS", "GmbH", ... */
    const char *general_mailbox;       /* local part of a company address */
    const char *zipcode_pattern;
    const char *phone_pattern;
    const char *mobile_pattern;
    const char *orgnr_pattern;
};

extern const struct sample_language sample_languages[];
extern const uint32_t sample_language_count;

/* The CRM users' own company, a CRM consultancy. */
extern const char sample_own_company_name[];
extern const char sample_own_company_domain[];

extern const struct sample_list sample_job_titles;
extern const struct sample_list sample_departments;
extern const struct sample_list sample_products;
extern const struct sample_list sample_private_mail_domains;

/* Activity descriptions by type (index 0 is type 1, a meeting). The
 * personal ones mention the person by name. */
extern const struct sample_list sample_activity_texts[5];
extern const struct sample_list sample_personal_activity_texts[5];

extern const struct sample_list sample_document_bodies;
extern const struct sample_list sample_sale_headings;
extern const struct sample_list sample_project_names;
extern const struct sample_list sample_consent_comments;
extern const struct sample_list sample_withdrawal_comments;

#endif
