/*
 * ffi_signature.c: a recursive-descent parser for the C declarations of
 * plain C functions (see ffi_signature.h for the accepted forms).
 *
 * Grammar, over tokens (identifiers, '*', '(', ')', ',', ';', "..."):
 *
 *     signature  = type NAME '(' parameters ')' [';']
 *     parameters = 'void' | parameter { ',' parameter }
 *     parameter  = type [NAME]
 *     type       = 'bool' | 'int32_t' | 'int64_t' | 'uint32_t' | 'double'
 *                | 'float' | 'void' | ['const'] 'char' '*'
 *                | ['const'] 'lethe_idset' '*'
 *
 * Whether a type is allowed as a result or as a parameter is checked
 * after the type is read, so that the message can give the reason.
 */
#include "ffi_signature.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SUPPORTED_TYPES                                                     \
    "bool, int32_t, int64_t, uint32_t, double, float, const char *, "       \
    "char * (result), const lethe_idset *, lethe_idset * (result), void "   \
    "(result)"

enum token_kind {
    TOKEN_END,
    TOKEN_IDENTIFIER,
    TOKEN_STAR,
    TOKEN_OPEN,
    TOKEN_CLOSE,
    TOKEN_COMMA,
    TOKEN_SEMICOLON,
    TOKEN_ELLIPSIS,
    TOKEN_OTHER
};

struct token {
    enum token_kind kind;
    const char *start;
    size_t length;
};

struct parser {
    const char *text;
    const char *position;
    struct token token; /* the current token */
    char *message;
    size_t message_size;
};

static const char *const kind_names[] = {
    [FFI_VOID] = "void",
    [FFI_BOOL] = "bool",
    [FFI_INT32] = "int32_t",
    [FFI_INT64] = "int64_t",
    [FFI_UINT32] = "uint32_t",
    [FFI_DOUBLE] = "double",
    [FFI_FLOAT] = "float",
    [FFI_TEXT] = "const char *",
    [FFI_OWNED_TEXT] = "char *",
    [FFI_IDSET] = "const lethe_idset *",
    [FFI_NEW_IDSET] = "lethe_idset *",
};

const char *ffi_kind_name(enum ffi_kind kind)
{
    if ((size_t)kind >= sizeof kind_names / sizeof kind_names[0])
        return "?";
    return kind_names[kind];
}

/* ---------------------------------------------------------------------- */
/* Tokens                                                                  */
/* ---------------------------------------------------------------------- */

static int is_identifier_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_identifier_char(char c)
{
    return is_identifier_start(c) || (c >= '0' && c <= '9');
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Read the next token into parser->token. */
static void advance(struct parser *parser)
{
    const char *p = parser->position;
    while (is_space(*p))
        p++;
    struct token *token = &parser->token;
    token->start = p;
    token->length = 1;
    if (*p == '\0') {
        token->kind = TOKEN_END;
        token->length = 0;
    } else if (is_identifier_start(*p)) {
        const char *end = p;
        while (is_identifier_char(*end))
            end++;
        token->kind = TOKEN_IDENTIFIER;
        token->length = (size_t)(end - p);
    } else if (strncmp(p, "...", 3) == 0) {
        token->kind = TOKEN_ELLIPSIS;
        token->length = 3;
    } else {
        switch (*p) {
        case '*': token->kind = TOKEN_STAR; break;
        case '(': token->kind = TOKEN_OPEN; break;
        case ')': token->kind = TOKEN_CLOSE; break;
        case ',': token->kind = TOKEN_COMMA; break;
        case ';': token->kind = TOKEN_SEMICOLON; break;
        default: token->kind = TOKEN_OTHER;
        }
    }
    parser->position = p + token->length;
}

static int token_is(const struct parser *parser, const char *word)
{
    const struct token *token = &parser->token;
    return token->kind == TOKEN_IDENTIFIER &&
           token->length == strlen(word) &&
           memcmp(token->start, word, token->length) == 0;
}

static int fail(struct parser *parser, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* Write "MESSAGE at byte N" into the parser's message buffer and return
 * -1. N counts from 1; the end of the text is one past its length. */
static int fail(struct parser *parser, const char *format, ...)
{
    if (parser->message_size == 0)
        return -1;
    char text[192];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(text, sizeof text, format, arguments);
    va_end(arguments);
    size_t offset = (size_t)(parser->token.start - parser->text) + 1;
    snprintf(parser->message, parser->message_size, "%s at byte %zu", text,
             offset);
    return -1;
}

/* Describe the current token for messages: "'long'", "'['" or "the end". */
static void describe_token(const struct parser *parser, char *out,
                           size_t size)
{
    const struct token *token = &parser->token;
    if (token->kind == TOKEN_END) {
        snprintf(out, size, "the end");
        return;
    }
    int length = token->length > 40 ? 40 : (int)token->length;
    snprintf(out, size, "'%.*s'", length, token->start);
}

/* ---------------------------------------------------------------------- */
/* Types                                                                   */
/* ---------------------------------------------------------------------- */

static const struct {
    const char *word;
    enum ffi_kind kind;
} simple_types[] = {
    {"void", FFI_VOID},       {"bool", FFI_BOOL},
    {"int32_t", FFI_INT32},   {"int64_t", FFI_INT64},
    {"uint32_t", FFI_UINT32}, {"double", FFI_DOUBLE},
    {"float", FFI_FLOAT},
};

/* Words that are C types or qualifiers Lethe does not accept, with the
 * reason. */
static const struct {
    const char *word;
    const char *reason;
} rejected_words[] = {
    {"struct", "structs are not supported, by value or by pointer"},
    {"union", "unions are not supported"},
    {"enum", "enums are not supported; use int32_t"},
    {"unsigned", "'unsigned' is not supported; use uint32_t"},
    {"signed", "'signed' is not supported; use int32_t or int64_t"},
    {"int", "'int' is not supported; use int32_t or int64_t"},
    {"long", "'long' is not supported; use int64_t"},
    {"short", "'short' is not supported; use int32_t"},
    {"size_t", "'size_t' is not supported; use int64_t or uint32_t"},
    {"uint64_t", "'uint64_t' is not supported; use int64_t"},
    {"volatile", "'volatile' is not supported"},
    {"restrict", "'restrict' is not supported"},
};

/* Read `const char *` or `const lethe_idset *` after 'const'. */
static int parse_const_pointer(struct parser *parser, enum ffi_kind *kind)
{
    advance(parser);
    enum ffi_kind pointer_kind;
    if (token_is(parser, "char"))
        pointer_kind = FFI_TEXT;
    else if (token_is(parser, "lethe_idset"))
        pointer_kind = FFI_IDSET;
    else {
        char seen[64];
        describe_token(parser, seen, sizeof seen);
        return fail(parser, "expected 'char' or 'lethe_idset' after 'const', "
                            "not %s", seen);
    }
    advance(parser);
    if (parser->token.kind != TOKEN_STAR)
        return fail(parser, "%s by value is not supported; use a pointer",
                    pointer_kind == FFI_TEXT ? "char" : "lethe_idset");
    advance(parser);
    if (parser->token.kind == TOKEN_STAR)
        return fail(parser, "pointers to pointers are not supported");
    *kind = pointer_kind;
    return 0;
}

/* Read `char *` or `lethe_idset *`. */
static int parse_pointer(struct parser *parser, enum ffi_kind pointer_kind,
                         enum ffi_kind *kind)
{
    advance(parser);
    if (parser->token.kind != TOKEN_STAR)
        return fail(parser, "%s by value is not supported; use a pointer",
                    pointer_kind == FFI_OWNED_TEXT ? "char" : "lethe_idset");
    advance(parser);
    if (parser->token.kind == TOKEN_STAR)
        return fail(parser, "pointers to pointers are not supported");
    if (token_is(parser, "const"))
        return fail(parser, "'* const' is not supported; write 'const' "
                            "before the type");
    *kind = pointer_kind;
    return 0;
}

/* Read a type at the current token into *kind. */
static int parse_type(struct parser *parser, enum ffi_kind *kind)
{
    if (parser->token.kind == TOKEN_ELLIPSIS)
        return fail(parser, "variadic functions ('...') are not supported");
    if (parser->token.kind != TOKEN_IDENTIFIER) {
        char seen[64];
        describe_token(parser, seen, sizeof seen);
        return fail(parser, "expected a type, not %s", seen);
    }
    if (token_is(parser, "const"))
        return parse_const_pointer(parser, kind);
    if (token_is(parser, "char"))
        return parse_pointer(parser, FFI_OWNED_TEXT, kind);
    if (token_is(parser, "lethe_idset"))
        return parse_pointer(parser, FFI_NEW_IDSET, kind);
    for (size_t i = 0; i < sizeof simple_types / sizeof simple_types[0];
         i++) {
        if (token_is(parser, simple_types[i].word)) {
            advance(parser);
            if (parser->token.kind == TOKEN_STAR)
                return fail(parser, "pointers to %s are not supported",
                            simple_types[i].word);
            *kind = simple_types[i].kind;
            return 0;
        }
    }
    for (size_t i = 0; i < sizeof rejected_words / sizeof rejected_words[0];
         i++) {
        if (token_is(parser, rejected_words[i].word))
            return fail(parser, "%s", rejected_words[i].reason);
    }
    char seen[64];
    describe_token(parser, seen, sizeof seen);
    return fail(parser, "unknown type name %s; supported types: %s", seen,
                SUPPORTED_TYPES);
}

/* ---------------------------------------------------------------------- */
/* Names, parameters, the declaration                                      */
/* ---------------------------------------------------------------------- */

static int is_reserved(const struct parser *parser)
{
    static const char *const words[] = {
        "void",  "bool",   "int32_t",  "int64_t",  "uint32_t",
        "double", "float", "char",     "const",    "lethe_idset",
        "struct", "union", "enum",     "unsigned", "signed",
        "int",   "long",   "short",    "volatile", "restrict",
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (token_is(parser, words[i]))
            return 1;
    }
    return 0;
}

/* Copy the current identifier token into `out` (FFI_MAX_NAME + 1 bytes). */
static int read_name(struct parser *parser, char *out, const char *what)
{
    if (parser->token.kind != TOKEN_IDENTIFIER || is_reserved(parser)) {
        char seen[64];
        describe_token(parser, seen, sizeof seen);
        return fail(parser, "expected %s, not %s", what, seen);
    }
    if (parser->token.length > FFI_MAX_NAME)
        return fail(parser, "%s is longer than %d bytes", what, FFI_MAX_NAME);
    memcpy(out, parser->token.start, parser->token.length);
    out[parser->token.length] = '\0';
    advance(parser);
    return 0;
}

static int check_parameter_kind(struct parser *parser, enum ffi_kind kind,
                                const char *start)
{
    const char *here = parser->token.start;
    parser->token.start = start; /* point the message at the type */
    int status = 0;
    if (kind == FFI_VOID)
        status = fail(parser, "'void' is a parameter type only in f(void)");
    else if (kind == FFI_OWNED_TEXT)
        status = fail(parser, "'char *' is a result type only; use "
                              "'const char *' for a text argument");
    else if (kind == FFI_NEW_IDSET)
        status = fail(parser, "'lethe_idset *' is a result type only; use "
                              "'const lethe_idset *' for an id set "
                              "argument");
    parser->token.start = here;
    return status;
}

static int parse_parameter(struct parser *parser, struct ffi_signature *out)
{
    if (out->parameter_count == FFI_MAX_PARAMETERS)
        return fail(parser, "more than %d parameters", FFI_MAX_PARAMETERS);
    const char *start = parser->token.start;
    enum ffi_kind kind;
    if (parse_type(parser, &kind) != 0 ||
        check_parameter_kind(parser, kind, start) != 0)
        return -1;
    int index = out->parameter_count++;
    out->parameters[index] = kind;
    out->parameter_names[index][0] = '\0';
    if (parser->token.kind == TOKEN_IDENTIFIER)
        return read_name(parser, out->parameter_names[index],
                         "a parameter name");
    if (parser->token.kind == TOKEN_OPEN)
        return fail(parser, "function pointers are not supported");
    return 0;
}

static int parse_parameters(struct parser *parser,
                            struct ffi_signature *out)
{
    if (token_is(parser, "void")) {
        const char *after = parser->position;
        const char *p = after;
        while (is_space(*p))
            p++;
        if (*p == ')') {
            advance(parser);
            return 0;
        }
    }
    if (parser->token.kind == TOKEN_CLOSE)
        return 0; /* f() means no parameters here, as f(void) does */
    for (;;) {
        if (parse_parameter(parser, out) != 0)
            return -1;
        if (parser->token.kind == TOKEN_CLOSE)
            return 0;
        if (parser->token.kind == TOKEN_OPEN ||
            (parser->token.kind == TOKEN_OTHER && *parser->token.start == '['))
            return fail(parser, "arrays and function pointers are not "
                                "supported");
        if (parser->token.kind != TOKEN_COMMA) {
            char seen[64];
            describe_token(parser, seen, sizeof seen);
            return fail(parser, "expected ',' or ')', not %s", seen);
        }
        advance(parser);
    }
}

static int check_result_kind(struct parser *parser, enum ffi_kind kind)
{
    if (kind == FFI_IDSET)
        return fail(parser, "a result cannot be 'const lethe_idset *'; "
                            "return 'lethe_idset *' from idset_new");
    return 0;
}

int ffi_signature_parse(const char *text, struct ffi_signature *out,
                        char *message, size_t message_size)
{
    struct parser parser = {text, text, {TOKEN_END, text, 0}, message,
                            message_size};
    if (message_size > 0)
        message[0] = '\0';
    memset(out, 0, sizeof *out);
    advance(&parser);
    if (parser.token.kind == TOKEN_END)
        return fail(&parser, "the signature is empty");
    if (parse_type(&parser, &out->result) != 0)
        return -1;
    if (check_result_kind(&parser, out->result) != 0)
        return -1;
    if (parser.token.kind == TOKEN_OPEN)
        return fail(&parser, "function pointers are not supported");
    if (read_name(&parser, out->name, "the function name") != 0)
        return -1;
    if (parser.token.kind != TOKEN_OPEN) {
        char seen[64];
        describe_token(&parser, seen, sizeof seen);
        return fail(&parser, "expected '(' after the function name, not %s",
                    seen);
    }
    advance(&parser);
    if (parse_parameters(&parser, out) != 0)
        return -1;
    advance(&parser); /* past ')' */
    if (parser.token.kind == TOKEN_SEMICOLON)
        advance(&parser);
    if (parser.token.kind != TOKEN_END) {
        char seen[64];
        describe_token(&parser, seen, sizeof seen);
        return fail(&parser, "unexpected %s after the declaration", seen);
    }
    return 0;
}
