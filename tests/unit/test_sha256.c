/*
 * test_sha256.c: SHA-256 against the FIPS 180-4 examples and HMAC-SHA-256
 * against RFC 4231's test cases.
 */
#include "sha256.h"

#include <stdio.h>
#include <string.h>

static int passed, failed;

static void check_hex(const char *what, const unsigned char digest[32],
                      const char *expected, int line)
{
    char hex[65];
    sha256_hex(digest, hex);
    if (strcmp(hex, expected) == 0) {
        passed++;
        return;
    }
    failed++;
    fprintf(stderr, "%s:%d: %s: expected %s, got %s\n", __FILE__, line, what,
            expected, hex);
}

static void check_sha(const char *what, const char *message, size_t repeat,
                      const char *expected, int line)
{
    struct sha256 context;
    unsigned char digest[32];
    sha256_init(&context);
    for (size_t i = 0; i < repeat; i++)
        sha256_update(&context, message, strlen(message));
    sha256_final(&context, digest);
    check_hex(what, digest, expected, line);
}

int main(void)
{
    check_sha("empty", "", 1,
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
              __LINE__);
    check_sha("abc", "abc", 1,
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
              __LINE__);
    check_sha("two blocks",
              "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
              __LINE__);
    check_sha("a million a", "a", 1000000,
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
              __LINE__);

    /* RFC 4231, test cases 1, 2 and 6. */
    unsigned char digest[32];
    unsigned char key1[20];
    memset(key1, 0x0b, sizeof key1);
    sha256_hmac(key1, sizeof key1, "Hi There", 8, digest);
    check_hex("hmac case 1", digest,
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
              __LINE__);
    sha256_hmac("Jefe", 4, "what do ya want for nothing?", 28, digest);
    check_hex("hmac case 2", digest,
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
              __LINE__);
    unsigned char key6[131];
    memset(key6, 0xaa, sizeof key6);
    const char *message6 =
        "Test Using Larger Than Block-Size Key - Hash Key First";
    sha256_hmac(key6, sizeof key6, message6, strlen(message6), digest);
    check_hex("hmac case 6", digest,
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
              __LINE__);

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
