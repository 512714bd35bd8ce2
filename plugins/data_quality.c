/*
 * data_quality.c: two criteria for finding records that are not real
 * contacts.
 *
 * Example of criteria, one of each kind:
 *
 *   criterion("duplicate_email" [, n])
 *       compiled to SQL: persons with an e-mail address that at least n
 *       persons have (n >= 2, default 2), ignoring ASCII case
 *   criterion("placeholder_name")
 *       tested per row in C: persons whose first or last name is a
 *       placeholder such as "test", "xxx", "asdf", "dummy" or "unknown",
 *       or one character repeated (three times or more), ignoring ASCII
 *       case and surrounding spaces
 *
 * Both apply to the entity person of the default CRM model; the first
 * reads the table email (person_id, address).
 */
#include <lethe/plugin.h>

#include <string.h>

LETHE_PLUGIN_DECLARE();

static const struct lethe_host *host;
static lethe_plugin *self;

static int compile_duplicate_email(void *user,
                                   const struct lethe_criterion_call *call,
                                   lethe_sql *sql)
{
    (void)user;
    struct lethe_value minimum = {0};
    minimum.type = LETHE_INTEGER;
    minimum.integer = 2;
    if (call->arg_count == 1) {
        if (call->args[0].type != LETHE_INTEGER || call->args[0].integer < 2) {
            host->set_error(self, "duplicate_email takes a whole number of "
                            "persons, 2 or more");
            return LETHE_ERROR;
        }
        minimum.integer = call->args[0].integer;
    }
    int status = host->sql_append(
        sql, "(SELECT count(DISTINCT other.person_id) FROM email own "
             "JOIN email other ON lower(other.address) = lower(own.address) "
             "WHERE own.person_id = ");
    status |= host->sql_append_identifier(sql, call->alias);
    status |= host->sql_append(sql, ".");
    status |= host->sql_append_identifier(sql, call->key);
    status |= host->sql_append(sql, " AND other.person_id IS NOT NULL) >= ");
    status |= host->sql_bind(sql, &minimum);
    return status == LETHE_OK ? LETHE_OK : LETHE_ERROR;
}

static const char *const placeholders[] = {
    "test", "testing", "tester", "asdf", "qwerty", "xxx", "dummy", "foo",
    "bar", "unknown", "n/a", "na", "none", "noname", "nobody", "sample",
};

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Whether `text` (`length` bytes) is a placeholder name. */
static int is_placeholder(const char *text, size_t length)
{
    while (length > 0 && *text == ' ') {
        text++;
        length--;
    }
    while (length > 0 && text[length - 1] == ' ')
        length--;
    if (length == 0)
        return 0;
    int repeated = length >= 3;
    for (size_t i = 1; i < length && repeated; i++)
        repeated = lower(text[i]) == lower(text[0]);
    if (repeated)
        return 1;
    for (size_t p = 0; p < sizeof placeholders / sizeof placeholders[0];
         p++) {
        const char *word = placeholders[p];
        if (strlen(word) != length)
            continue;
        size_t i = 0;
        while (i < length && lower(text[i]) == word[i])
            i++;
        if (i == length)
            return 1;
    }
    return 0;
}

static int match_placeholder_name(void *user, const struct lethe_row *row,
                                  int *matches)
{
    (void)user;
    *matches = 0;
    for (int i = 0; i < row->field_count; i++) {
        const struct lethe_value *field = &row->fields[i];
        if (field->type == LETHE_TEXT &&
            is_placeholder(field->text, field->length))
            *matches = 1;
    }
    return LETHE_OK;
}

static const char *const name_fields[] = {"firstname", "lastname", NULL};

LETHE_PLUGIN_EXPORT int lethe_plugin_init(const struct lethe_host *h,
                                          struct lethe_plugin_info *info)
{
    host = h;
    self = info->plugin;
    info->name = "data_quality";
    info->version = "1.0.0";
    info->description = "criteria for duplicate e-mail addresses and "
                        "placeholder names";
    struct lethe_criterion duplicate = {0};
    duplicate.name = "duplicate_email";
    duplicate.description = "an e-mail address that n persons share "
                            "(default 2)";
    duplicate.entity = "person";
    duplicate.min_args = 0;
    duplicate.max_args = 1;
    duplicate.compile = compile_duplicate_email;
    struct lethe_criterion placeholder = {0};
    placeholder.name = "placeholder_name";
    placeholder.description = "a first or last name such as test or xxx";
    placeholder.entity = "person";
    placeholder.match = match_placeholder_name;
    placeholder.fields = name_fields;
    if (host->register_criterion(self, &duplicate) != LETHE_OK)
        return LETHE_ERROR;
    return host->register_criterion(self, &placeholder);
}
