/*
 * erasure_receipt.c: a JSON receipt after each erasure.
 *
 * Example of a hook. After every apply that deleted rows, the plugin
 * writes a receipt. It contains the policy's name and digest, the plan
 * digest, the rows changed per table and operation, the keyed digest of
 * each rule's ids, and whether the erasure check found the erased values
 * gone. It contains no personal data and no record ids, so it can be kept
 * or sent as proof of an erasure.
 *
 * Receipts are written only into the directory the user configured with
 * --plugin-option erasure_receipt.directory=DIR (an existing directory,
 * absolute path); without one the plugin does not load. Each receipt is
 * a new file, receipt-YYYYMMDDTHHMMSSZ-DIGEST.json, created with mode
 * 0600; an existing file is never overwritten and a symbolic link in its
 * place is not followed.
 */
#define _POSIX_C_SOURCE 200809L

#include <lethe/plugin.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

LETHE_PLUGIN_DECLARE();

static const struct lethe_host *host;
static lethe_plugin *self;
static char directory[4096];

/* A growing text buffer; `failed` is set when memory runs out. */
struct buffer {
    char *text;
    size_t length, capacity;
    int failed;
};

static void append(struct buffer *buffer, const char *text, size_t length)
{
    if (buffer->failed)
        return;
    if (buffer->length + length + 1 > buffer->capacity) {
        size_t capacity = buffer->capacity ? 2 * buffer->capacity : 1024;
        while (capacity < buffer->length + length + 1)
            capacity *= 2;
        char *grown = realloc(buffer->text, capacity);
        if (!grown) {
            buffer->failed = 1;
            return;
        }
        buffer->text = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->text + buffer->length, text, length);
    buffer->length += length;
    buffer->text[buffer->length] = '\0';
}

static void append_format(struct buffer *buffer, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void append_format(struct buffer *buffer, const char *format, ...)
{
    char text[256];
    va_list arguments;
    va_start(arguments, format);
    int length = vsnprintf(text, sizeof text, format, arguments);
    va_end(arguments);
    if (length > 0)
        append(buffer, text, (size_t)length < sizeof text
                                 ? (size_t)length
                                 : sizeof text - 1);
}

/* Append `text` as a JSON string (RFC 8259 escapes). */
static void append_string(struct buffer *buffer, const char *text)
{
    if (!text) {
        append(buffer, "null", 4);
        return;
    }
    append(buffer, "\"", 1);
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (*c == '"' || *c == '\\') {
            char escaped[2] = {'\\', (char)*c};
            append(buffer, escaped, 2);
        } else if (*c < 0x20) {
            append_format(buffer, "\\u%04x", *c);
        } else {
            append(buffer, (const char *)c, 1);
        }
    }
    append(buffer, "\"", 1);
}

static void append_time(struct buffer *buffer, int64_t seconds)
{
    time_t value = (time_t)seconds;
    struct tm parts;
    char text[32];
    if (!gmtime_r(&value, &parts) ||
        strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts) == 0) {
        append(buffer, "null", 4);
        return;
    }
    append_string(buffer, text);
}

/* The receipt of `event` as JSON text, or NULL when memory ran out. */
static char *receipt_text(const struct lethe_event *event)
{
    struct buffer out = {0};
    append_format(&out, "{\n  \"receipt\": \"lethe erasure receipt\",\n"
                        "  \"version\": 1,\n  \"at\": ");
    append_time(&out, event->at);
    append_format(&out, ",\n  \"reference_time\": ");
    append_time(&out, event->now);
    append_format(&out, ",\n  \"command\": ");
    append_string(&out, event->command);
    append_format(&out, ",\n  \"policy\": ");
    append_string(&out, event->policy);
    append_format(&out, ",\n  \"policy_digest\": ");
    append_string(&out, event->policy_digest);
    append_format(&out, ",\n  \"plan_digest\": ");
    append_string(&out, event->plan_digest);
    append_format(&out, ",\n  \"counts\": {");
    for (size_t i = 0; i < event->count_count; i++) {
        append_format(&out, "%s\n    ", i ? "," : "");
        append_string(&out, event->counts[i].name);
        append_format(&out, ": %lld", (long long)event->counts[i].value);
    }
    append_format(&out, "\n  },\n  \"digests\": {");
    for (size_t i = 0; i < event->digest_count; i++) {
        append_format(&out, "%s\n    ", i ? "," : "");
        append_string(&out, event->digests[i].name);
        append_format(&out, ": ");
        append_string(&out, event->digests[i].hex);
    }
    append_format(&out, "\n  },\n  \"erasure_verified\": %s\n}\n",
                  event->verified < 0   ? "null"
                  : event->verified > 0 ? "true"
                                        : "false");
    if (out.failed) {
        free(out.text);
        return NULL;
    }
    return out.text;
}

/* Create a new receipt file; returns its descriptor and its name in
 * `path`, or -1 with errno set. */
static int create_receipt(const struct lethe_event *event, char *path,
                          size_t size)
{
    time_t now = (time_t)event->at;
    struct tm parts;
    char stamp[32] = "unknown-time";
    if (gmtime_r(&now, &parts))
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &parts);
    char digest[17] = "none";
    if (event->plan_digest)
        snprintf(digest, sizeof digest, "%.16s", event->plan_digest);
    for (int attempt = 1; attempt <= 100; attempt++) {
        if (attempt == 1)
            snprintf(path, size, "%s/receipt-%s-%s.json", directory, stamp,
                     digest);
        else
            snprintf(path, size, "%s/receipt-%s-%s-%d.json", directory,
                     stamp, digest, attempt);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

static int write_all(int fd, const char *text, size_t length)
{
    while (length > 0) {
        ssize_t written = write(fd, text, length);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0)
            return -1;
        text += written;
        length -= (size_t)written;
    }
    return 0;
}

static int after_erasure(void *user, const struct lethe_event *event)
{
    (void)user;
    char *text = receipt_text(event);
    if (!text) {
        host->set_error(self, "out of memory while writing the receipt");
        return LETHE_ERROR;
    }
    char path[sizeof directory + 96];
    int fd = create_receipt(event, path, sizeof path);
    if (fd < 0) {
        host->set_error(self, "cannot create a receipt in %s: %s",
                        directory, strerror(errno));
        free(text);
        return LETHE_ERROR;
    }
    int failed = write_all(fd, text, strlen(text)) != 0 || fsync(fd) != 0;
    int saved_errno = errno;
    free(text);
    if (close(fd) != 0 && !failed) {
        failed = 1;
        saved_errno = errno;
    }
    if (failed) {
        host->set_error(self, "cannot write the receipt %s: %s", path,
                        strerror(saved_errno));
        return LETHE_ERROR;
    }
    host->log(self, LETHE_LOG_INFO, "wrote the receipt %s", path);
    return LETHE_OK;
}

/* Check and copy the directory option. */
static int read_directory(void)
{
    const char *option = host->option(self, "directory");
    if (!option || !option[0]) {
        host->set_error(self, "no receipt directory is configured; pass "
                        "--plugin-option erasure_receipt.directory=DIR");
        return LETHE_ERROR;
    }
    struct stat status;
    if (option[0] != '/') {
        host->set_error(self, "the receipt directory %s is not an absolute "
                        "path", option);
        return LETHE_ERROR;
    }
    if (stat(option, &status) != 0 || !S_ISDIR(status.st_mode)) {
        host->set_error(self, "the receipt directory %s does not exist or "
                        "is not a directory; create it first", option);
        return LETHE_ERROR;
    }
    if (strlen(option) >= sizeof directory) {
        host->set_error(self, "the receipt directory path is too long");
        return LETHE_ERROR;
    }
    strcpy(directory, option);
    return LETHE_OK;
}

LETHE_PLUGIN_EXPORT int lethe_plugin_init(const struct lethe_host *h,
                                          struct lethe_plugin_info *info)
{
    host = h;
    self = info->plugin;
    info->name = "erasure_receipt";
    info->version = "1.0.0";
    info->description = "writes a JSON receipt with counts and digests "
                        "after each erasure";
    if (read_directory() != LETHE_OK)
        return LETHE_ERROR;
    return host->register_hook(self, LETHE_AFTER_ERASURE, after_erasure,
                               NULL);
}
