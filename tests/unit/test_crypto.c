/* base/crypto: the keys file, sealing personal fields, keyed hashes, tokens. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tmpdir.h"

#include "base/crypto.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static int setup(void **state)
{
    (void)state;
    assert_int_equal(gr_tmpdir_make(dir, sizeof(dir), "crypto"), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return gr_tmpdir_remove(dir);
}

static void keys_path(char *out, size_t len)
{
    snprintf(out, len, "%s/keys", dir);
}

static void test_keys_created_once(void **state)
{
    unsigned char f1[32], i1[32], f2[32], i2[32], zero[32] = {0};
    char path[128];
    struct stat st;
    gr_err err = {0};

    (void)state;
    assert_int_equal(crypto_load_keys(dir, f1, i1, &err), 0);
    keys_path(path, sizeof(path));
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 64);
    /* Two independent random keys. */
    assert_memory_not_equal(f1, zero, 32);
    assert_memory_not_equal(f1, i1, 32);
    /* The second start reads the same keys back. */
    assert_int_equal(crypto_load_keys(dir, f2, i2, &err), 0);
    assert_memory_equal(f1, f2, 32);
    assert_memory_equal(i1, i2, 32);
}

static void test_keys_refused_when_readable(void **state)
{
    unsigned char f[32], i[32];
    char path[128];
    gr_err err = {0};

    (void)state;
    assert_int_equal(crypto_load_keys(dir, f, i, &err), 0);
    keys_path(path, sizeof(path));
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(crypto_load_keys(dir, f, i, &err), GR_EINVAL);
    assert_string_equal(err.field, "keys");
    assert_non_null(strstr(err.msg, "chmod 600"));
    assert_int_equal(chmod(path, 0604), 0);
    assert_int_equal(crypto_load_keys(dir, f, i, &err), GR_EINVAL);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(crypto_load_keys(dir, f, i, &err), 0);
}

static void test_keys_refused_wrong_size(void **state)
{
    unsigned char f[32], i[32];
    char path[128];
    gr_err err = {0};
    int fd;

    (void)state;
    keys_path(path, sizeof(path));
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "short", 5), 5);
    close(fd);
    assert_int_equal(crypto_load_keys(dir, f, i, &err), GR_EINVAL);
    assert_non_null(strstr(err.msg, "expected 64"));
    /* The broken file is left alone: it may be the only copy of real keys. */
    assert_int_equal(access(path, F_OK), 0);
}

static void test_keys_missing_dir(void **state)
{
    unsigned char f[32], i[32];
    char path[128];
    gr_err err = {0};

    (void)state;
    snprintf(path, sizeof(path), "%s/nope", dir);
    assert_int_equal(crypto_load_keys(path, f, i, &err), GR_EINVAL);
    assert_string_equal(err.field, "keys");
}

static void test_seal_round_trip(void **state)
{
    unsigned char key[32], sealed[64 + CRYPTO_SEAL_OVERHEAD], sealed2[64 + CRYPTO_SEAL_OVERHEAD];
    unsigned char plain[65];
    size_t n = 0, n2 = 0, pn = 0;
    gr_err err = {0};

    (void)state;
    assert_int_equal(crypto_init(&err), 0);
    randombytes_buf(key, sizeof(key));
    assert_int_equal(
        crypto_seal(key, "13812345678", 11, "users.phone", sealed, sizeof(sealed), &n, &err), 0);
    assert_int_equal(n, 11 + CRYPTO_SEAL_OVERHEAD);
    /* The plaintext does not appear in the sealed bytes. */
    assert_null(memmem(sealed, n, "12345678", 8));
    assert_int_equal(crypto_open(key, sealed, n, "users.phone", plain, sizeof(plain), &pn, &err),
                     0);
    assert_int_equal(pn, 11);
    assert_string_equal((char *)plain, "13812345678");
    /* A fresh nonce each time: equal plaintexts do not give equal ciphertexts. */
    assert_int_equal(
        crypto_seal(key, "13812345678", 11, "users.phone", sealed2, sizeof(sealed2), &n2, &err), 0);
    assert_int_equal(n, n2);
    assert_memory_not_equal(sealed, sealed2, n);
    /* An empty plaintext and no additional data work too. */
    assert_int_equal(crypto_seal(key, "", 0, NULL, sealed, sizeof(sealed), &n, &err), 0);
    assert_int_equal(crypto_open(key, sealed, n, NULL, plain, sizeof(plain), &pn, &err), 0);
    assert_int_equal(pn, 0);
    /* A too small output buffer is refused, not overrun. */
    assert_int_equal(crypto_seal(key, "13812345678", 11, NULL, sealed, 11, &n, &err), GR_EINTERNAL);
}

static void test_seal_tamper_detected(void **state)
{
    unsigned char key[32], other[32], sealed[64], plain[64];
    size_t n = 0, i;
    gr_err err = {0};

    (void)state;
    assert_int_equal(crypto_init(&err), 0);
    randombytes_buf(key, sizeof(key));
    randombytes_buf(other, sizeof(other));
    assert_int_equal(
        crypto_seal(key, "13812345678", 11, "users.phone", sealed, sizeof(sealed), &n, &err), 0);
    /* Any flipped bit anywhere (nonce, ciphertext, tag) is caught. */
    for (i = 0; i < n; i++) {
        sealed[i] ^= 0x01;
        assert_int_equal(
            crypto_open(key, sealed, n, "users.phone", plain, sizeof(plain), NULL, &err),
            GR_EINVAL);
        sealed[i] ^= 0x01;
    }
    /* Another key, another place (ad), a truncated value: all refused. */
    assert_int_equal(crypto_open(other, sealed, n, "users.phone", plain, sizeof(plain), NULL, &err),
                     GR_EINVAL);
    assert_int_equal(crypto_open(key, sealed, n, "people.phone", plain, sizeof(plain), NULL, &err),
                     GR_EINVAL);
    assert_int_equal(crypto_open(key, sealed, n, NULL, plain, sizeof(plain), NULL, &err),
                     GR_EINVAL);
    assert_int_equal(
        crypto_open(key, sealed, n - 1, "users.phone", plain, sizeof(plain), NULL, &err),
        GR_EINVAL);
    assert_int_equal(crypto_open(key, sealed, 10, "users.phone", plain, sizeof(plain), NULL, &err),
                     GR_EINVAL);
    /* And the untouched value still opens. */
    assert_int_equal(crypto_open(key, sealed, n, "users.phone", plain, sizeof(plain), NULL, &err),
                     0);
}

static void test_keyed_hash(void **state)
{
    unsigned char k1[32], k2[32], a[32], b[32], c[32];
    gr_err err = {0};

    (void)state;
    assert_int_equal(crypto_init(&err), 0);
    memset(k1, 1, sizeof(k1));
    memset(k2, 2, sizeof(k2));
    crypto_hash_keyed(k1, "110101199003077777", 18, a);
    crypto_hash_keyed(k1, "110101199003077777", 18, b);
    crypto_hash_keyed(k2, "110101199003077777", 18, c);
    assert_memory_equal(a, b, 32);     /* deterministic: usable as an index */
    assert_memory_not_equal(a, c, 32); /* keyed: useless without the key */
    crypto_hash_keyed(k1, "110101199003077778", 18, b);
    assert_memory_not_equal(a, b, 32);
}

static void test_tokens(void **state)
{
    unsigned char raw[CRYPTO_TOKEN_BYTES], back[CRYPTO_TOKEN_BYTES], raw2[CRYPTO_TOKEN_BYTES];
    unsigned char key[32], h1[32], h2[32];
    char text[CRYPTO_TOKEN_TEXT], text2[CRYPTO_TOKEN_TEXT], bad[CRYPTO_TOKEN_TEXT + 1];
    gr_err err = {0};
    size_t i;

    (void)state;
    assert_int_equal(crypto_init(&err), 0);
    crypto_token_new(raw, text);
    assert_int_equal(strlen(text), CRYPTO_TOKEN_TEXT - 1);
    for (i = 0; text[i]; i++)
        assert_non_null(
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", text[i]));
    assert_int_equal(crypto_token_parse(text, back), 0);
    assert_memory_equal(raw, back, sizeof(raw));
    crypto_token_new(raw2, text2);
    assert_string_not_equal(text, text2);
    /* Not a token: wrong length, a character outside base64url, NULL. */
    assert_int_equal(crypto_token_parse("", back), GR_EINVAL);
    assert_int_equal(crypto_token_parse(NULL, back), GR_EINVAL);
    snprintf(bad, sizeof(bad), "%s", text);
    bad[5] = '+';
    assert_int_equal(crypto_token_parse(bad, back), GR_EINVAL);
    snprintf(bad, sizeof(bad), "%sA", text);
    assert_int_equal(crypto_token_parse(bad, back), GR_EINVAL);
    /* The stored form depends on the index key. */
    memset(key, 7, sizeof(key));
    crypto_hash_token(key, raw, h1);
    crypto_hash_token(key, raw, h2);
    assert_memory_equal(h1, h2, 32);
    key[0] ^= 1;
    crypto_hash_token(key, raw, h2);
    assert_memory_not_equal(h1, h2, 32);
}

static void test_constant_time_compare(void **state)
{
    (void)state;
    assert_true(crypto_equal("abcdef", "abcdef", 6));
    assert_false(crypto_equal("abcdef", "abcdeg", 6));
    assert_true(crypto_streq("token", "token"));
    assert_false(crypto_streq("token", "token2"));
    assert_false(crypto_streq("token", "tokeN"));
    assert_false(crypto_streq(NULL, "token"));
    assert_false(crypto_streq("token", NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keys_created_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_refused_when_readable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_refused_wrong_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_missing_dir, setup, teardown),
        cmocka_unit_test(test_seal_round_trip),
        cmocka_unit_test(test_seal_tamper_detected),
        cmocka_unit_test(test_keyed_hash),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_constant_time_compare),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
