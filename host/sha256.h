/*
 * sha256.h: SHA-256 (FIPS 180-4), for plan digests, id-set digests and the
 * audit hash chain. Not used for secrets.
 */
#ifndef LETHE_SHA256_H
#define LETHE_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
    uint32_t state[8];
    uint64_t length; /* bytes hashed so far */
    unsigned char block[64];
    size_t used; /* bytes waiting in block */
};

void sha256_init(struct sha256 *context);
void sha256_update(struct sha256 *context, const void *data, size_t size);
void sha256_final(struct sha256 *context, unsigned char digest[32]);

/* HMAC-SHA-256 (RFC 2104) of `message` under `key`. */
void sha256_hmac(const void *key, size_t key_size, const void *message,
                 size_t message_size, unsigned char digest[32]);

/* Write the 64 lowercase hex digits of `digest` and a NUL to `hex`. */
void sha256_hex(const unsigned char digest[32], char hex[65]);

#endif
