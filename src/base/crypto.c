/* Crypto wrappers over libsodium (see crypto.h). */
#include "base/crypto.h"
#include "base/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEYS_FILE_BYTES 64

int crypto_init(gr_err *err)
{
    /* sodium_init is idempotent and thread-safe: 1 means "already done". */
    if (sodium_init() < 0)
        return err_set(err, GR_EINTERNAL, "", "libsodium cannot be initialised");
    return 0;
}

static int read_full(int fd, unsigned char *p, size_t n)
{
    size_t got = 0;
    ssize_t r;

    while (got < n) {
        r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static int write_full(int fd, const unsigned char *p, size_t n)
{
    size_t put = 0;
    ssize_t w;

    while (put < n) {
        w = write(fd, p + put, n - put);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        put += (size_t)w;
    }
    return 0;
}

/* Makes a new keys file; EEXIST is left for the caller (another process won the race). */
static int create_keys(const char *path, unsigned char keys[KEYS_FILE_BYTES], gr_err *err)
{
    int fd, rc = 0;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return 1;
        return err_set(err, GR_EINVAL, "keys", "cannot create %s: %s", path, strerror(errno));
    }
    randombytes_buf(keys, KEYS_FILE_BYTES);
    /* Durable before anything is encrypted with it: losing the keys loses the data. */
    if (write_full(fd, keys, KEYS_FILE_BYTES) != 0 || fsync(fd) != 0) {
        rc = err_set(err, GR_EINVAL, "keys", "cannot write %s: %s", path, strerror(errno));
        unlink(path);
    }
    close(fd);
    return rc;
}

static int read_keys(const char *path, unsigned char keys[KEYS_FILE_BYTES], gr_err *err)
{
    struct stat st;
    int fd, rc = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(err, GR_EINVAL, "keys", "cannot open %s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0) {
        rc = err_set(err, GR_EINVAL, "keys", "cannot stat %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = err_set(err, GR_EINVAL, "keys", "%s is not a regular file", path);
        goto out;
    }
    /* Whoever can read the keys can read every encrypted field. */
    if (st.st_mode & 077) {
        rc = err_set(err, GR_EINVAL, "keys",
                     "%s may be read or written by group or others (mode %03o); "
                     "run chmod 600 on it",
                     path, (unsigned)(st.st_mode & 0777));
        goto out;
    }
    if (st.st_size != KEYS_FILE_BYTES) {
        rc = err_set(err, GR_EINVAL, "keys",
                     "%s has %lld bytes, expected %d: it is not a grassroots keys file "
                     "(restore the right one from the backup)",
                     path, (long long)st.st_size, KEYS_FILE_BYTES);
        goto out;
    }
    if (read_full(fd, keys, KEYS_FILE_BYTES) != 0)
        rc = err_set(err, GR_EINVAL, "keys", "cannot read %s", path);
out:
    close(fd);
    return rc;
}

int crypto_load_keys(const char *dir, unsigned char field_key[32], unsigned char index_key[32],
                     gr_err *err)
{
    unsigned char keys[KEYS_FILE_BYTES];
    char path[4096];
    int rc;

    rc = crypto_init(err);
    if (rc)
        return rc;
    if ((size_t)snprintf(path, sizeof(path), "%s/keys.next", dir) >= sizeof(path))
        return err_set(err, GR_EINVAL, "data", "the data directory's path is too long");
    /* Some values may already be sealed with the next key: starting with
     * either key alone would fail to open them. */
    if (access(path, F_OK) == 0)
        return err_set(err, GR_EINVAL, "keys",
                       "%s exists: a key rotation was interrupted; finish it with "
                       "'grassroots keys rotate --resume --data %s' before starting",
                       path, dir);
    snprintf(path, sizeof(path), "%s/keys", dir);
    rc = access(path, F_OK) == 0 ? 1 : create_keys(path, keys, err);
    if (rc == 1)
        rc = read_keys(path, keys, err);
    if (rc == 0) {
        memcpy(field_key, keys, 32);
        memcpy(index_key, keys + 32, 32);
    }
    sodium_memzero(keys, sizeof(keys));
    return rc;
}

int crypto_keys_read(const char *path, unsigned char field_key[32], unsigned char index_key[32],
                     gr_err *err)
{
    unsigned char keys[KEYS_FILE_BYTES];
    int rc = crypto_init(err);

    if (!rc)
        rc = read_keys(path, keys, err);
    if (!rc) {
        memcpy(field_key, keys, 32);
        memcpy(index_key, keys + 32, 32);
    }
    sodium_memzero(keys, sizeof(keys));
    return rc;
}

int crypto_keys_write(const char *path, const unsigned char field_key[32],
                      const unsigned char index_key[32], gr_err *err)
{
    unsigned char keys[KEYS_FILE_BYTES];
    char tmp[4096], dir[4096], *slash;
    int fd = -1, rc = 0;

    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
        return err_set(err, GR_EINVAL, "data", "the data directory's path is too long");
    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof(dir), ".");
    memcpy(keys, field_key, 32);
    memcpy(keys + 32, index_key, 32);
    /* A leftover .tmp is from a write that never got renamed: nothing used it. */
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = err_set(err, GR_EINVAL, "keys", "cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (write_full(fd, keys, KEYS_FILE_BYTES) != 0 || fsync(fd) != 0 || rename(tmp, path) != 0) {
        rc = err_set(err, GR_EINVAL, "keys", "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    /* The rename is durable only once the directory is. */
    if (fs_sync_dir(dir) != 0)
        rc = err_set(err, GR_EINVAL, "keys", "cannot sync the directory %s: %s", dir,
                     strerror(errno));
out:
    if (fd >= 0)
        close(fd);
    sodium_memzero(keys, sizeof(keys));
    return rc;
}

int crypto_seal(const unsigned char key[32], const void *plain, size_t len, const char *ad,
                unsigned char *out, size_t out_cap, size_t *out_len, gr_err *err)
{
    const size_t nb = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    unsigned long long clen = 0;

    if (out_cap < len + CRYPTO_SEAL_OVERHEAD)
        return err_set(err, GR_EINTERNAL, "", "seal: output buffer too small");
    /* 192-bit random nonces: no counter to keep, no realistic chance of reuse. */
    randombytes_buf(out, nb);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + nb, &clen, plain, len,
                                               (const unsigned char *)ad, ad ? strlen(ad) : 0, NULL,
                                               out, key);
    *out_len = nb + (size_t)clen;
    return 0;
}

int crypto_open(const unsigned char key[32], const unsigned char *sealed, size_t len,
                const char *ad, unsigned char *out, size_t out_cap, size_t *out_len, gr_err *err)
{
    const size_t nb = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    unsigned long long plen = 0;

    if (!sealed || len < CRYPTO_SEAL_OVERHEAD)
        return err_set(err, GR_EINVAL, "", "sealed data is too short");
    if (out_cap < len - CRYPTO_SEAL_OVERHEAD + 1)
        return err_set(err, GR_EINTERNAL, "", "open: output buffer too small");
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &plen, NULL, sealed + nb, len - nb,
                                                   (const unsigned char *)ad, ad ? strlen(ad) : 0,
                                                   sealed, key) != 0)
        return err_set(err, GR_EINVAL, "", "sealed data failed authentication");
    out[plen] = '\0';
    if (out_len)
        *out_len = (size_t)plen;
    return 0;
}

void crypto_hash_keyed(const unsigned char key[32], const void *data, size_t len,
                       unsigned char out[CRYPTO_HASH_BYTES])
{
    crypto_generichash(out, CRYPTO_HASH_BYTES, data, len, key, 32);
}

void crypto_token_new(unsigned char raw[CRYPTO_TOKEN_BYTES], char text[CRYPTO_TOKEN_TEXT])
{
    randombytes_buf(raw, CRYPTO_TOKEN_BYTES);
    sodium_bin2base64(text, CRYPTO_TOKEN_TEXT, raw, CRYPTO_TOKEN_BYTES,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int crypto_token_parse(const char *text, unsigned char raw[CRYPTO_TOKEN_BYTES])
{
    size_t n = 0;
    const char *end = NULL;

    if (!text || strlen(text) != CRYPTO_TOKEN_TEXT - 1)
        return GR_EINVAL;
    if (sodium_base642bin(raw, CRYPTO_TOKEN_BYTES, text, CRYPTO_TOKEN_TEXT - 1, NULL, &n, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        n != CRYPTO_TOKEN_BYTES || *end != '\0')
        return GR_EINVAL;
    return 0;
}

void crypto_hash_token(const unsigned char index_key[32],
                       const unsigned char raw[CRYPTO_TOKEN_BYTES],
                       unsigned char out[CRYPTO_HASH_BYTES])
{
    crypto_hash_keyed(index_key, raw, CRYPTO_TOKEN_BYTES, out);
}

int crypto_equal(const void *a, const void *b, size_t n)
{
    return sodium_memcmp(a, b, n) == 0;
}

int crypto_streq(const char *a, const char *b)
{
    size_t n;

    if (!a || !b)
        return 0;
    n = strlen(a);
    return n == strlen(b) && sodium_memcmp(a, b, n) == 0;
}
