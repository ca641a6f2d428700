/*
 * Crypto wrappers over libsodium: the deployment's keys, field encryption at
 * rest (XChaCha20-Poly1305), keyed hashes for blind indexes and token
 * storage (BLAKE2b), random tokens.
 *
 * Every function here calls (or requires that crypto_load_keys or
 * crypto_init has called) sodium_init().
 */
#ifndef GR_BASE_CRYPTO_H
#define GR_BASE_CRYPTO_H

#include "base/err.h"

#include <sodium.h>
#include <stddef.h>

/* Bytes of a random token, of a keyed hash, and of a token's base64url text
 * (43 characters and the NUL). */
#define CRYPTO_TOKEN_BYTES 32
#define CRYPTO_HASH_BYTES  32
#define CRYPTO_TOKEN_TEXT  44
/* What crypto_seal adds to the plaintext: the nonce in front, the tag behind. */
#define CRYPTO_SEAL_OVERHEAD                                                                       \
    (crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES)

/* sodium_init(), once; GR_EINTERNAL if libsodium cannot start. Idempotent. */
int crypto_init(gr_err *err);

/* Reads DIR/keys (0600), creating it with fresh random keys on first start.
 * The file holds 64 bytes: the field key, then the index key. A keys file
 * that group or others may read or write, that is not a regular file, or
 * whose size is not 64 bytes is refused with GR_EINVAL and a message that
 * says how to fix it. */
int crypto_load_keys(const char *dir, unsigned char field_key[32], unsigned char index_key[32],
                     gr_err *err);
/* crypto_load_keys also refuses (GR_EINVAL naming "keys") while DIR/keys.next
 * exists: a field-key rotation was interrupted, and some values are sealed
 * with the key in keys.next (src/privacy/keys.h, docs/privacy.md). */

/* Reads the keys file at path with crypto_load_keys's checks (never creates). */
int crypto_keys_read(const char *path, unsigned char field_key[32], unsigned char index_key[32],
                     gr_err *err);
/* Writes a new keys file at path (0600) crash-safely: into path.tmp, fsync,
 * rename over path, fsync of the directory. After it returns 0 the file is
 * durable and whole; after a crash, path is either absent (or the old file)
 * or complete. */
int crypto_keys_write(const char *path, const unsigned char field_key[32],
                      const unsigned char index_key[32], gr_err *err);

/* Encrypts len bytes of plain with key into out (out_cap must be at least
 * len + CRYPTO_SEAL_OVERHEAD): a fresh random nonce, then the ciphertext and
 * tag. ad (additional data, may be NULL) is authenticated, not stored: the
 * same ad must be given to crypto_open, which binds a ciphertext to its
 * place (e.g. "users.phone"). *out_len receives the sealed length. */
int crypto_seal(const unsigned char key[32], const void *plain, size_t len, const char *ad,
                unsigned char *out, size_t out_cap, size_t *out_len, gr_err *err);
/* Decrypts what crypto_seal made into out (out_cap at least
 * len - CRYPTO_SEAL_OVERHEAD + 1; the plaintext is NUL-terminated for text).
 * GR_EINVAL when the data was altered, the key or ad differ, or it is short. */
int crypto_open(const unsigned char key[32], const unsigned char *sealed, size_t len,
                const char *ad, unsigned char *out, size_t out_cap, size_t *out_len, gr_err *err);

/* BLAKE2b-256 of data keyed with key: blind indexes and stored token hashes. */
void crypto_hash_keyed(const unsigned char key[32], const void *data, size_t len,
                       unsigned char out[CRYPTO_HASH_BYTES]);

/* A new random token: its raw bytes and their base64url text (no padding). */
void crypto_token_new(unsigned char raw[CRYPTO_TOKEN_BYTES], char text[CRYPTO_TOKEN_TEXT]);
/* Decodes a token's base64url text; GR_EINVAL unless it is exactly a token. */
int crypto_token_parse(const char *text, unsigned char raw[CRYPTO_TOKEN_BYTES]);
/* The stored form of a token: crypto_hash_keyed(index_key, raw). */
void crypto_hash_token(const unsigned char index_key[32],
                       const unsigned char raw[CRYPTO_TOKEN_BYTES],
                       unsigned char out[CRYPTO_HASH_BYTES]);

/* 1 when the n bytes at a and b are equal; the time taken does not depend on
 * where they differ. */
int crypto_equal(const void *a, const void *b, size_t n);
/* The same for NUL-terminated strings (lengths are compared first: the
 * length of a secret token is not secret). NULL equals nothing. */
int crypto_streq(const char *a, const char *b);

#endif
