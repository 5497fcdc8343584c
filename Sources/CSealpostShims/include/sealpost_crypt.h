#ifndef SEALPOST_SHIMS_CRYPT_H
#define SEALPOST_SHIMS_CRYPT_H

/*
 * Shims for libcrypt (libxcrypt) password hashing, and the two system calls that hashing needs that
 * Swift's Glibc module does not expose: getrandom(2) for salts and explicit_bzero(3) for wiping
 * passwords (crypt.c).
 */

#include <stddef.h>

/* The size of a buffer that holds any hash or setting libcrypt produces (CRYPT_OUTPUT_SIZE). */
size_t sealpost_crypt_output_size(void);

/*
 * crypt_rn(phrase, setting, ...): hashes `phrase` with the method, cost and salt of `setting` (a
 * full hash works as its own setting) and writes the NUL-terminated result into `output`. The
 * crypt_data work area lives on the heap and is wiped before it is freed. Returns 0 on success, -1
 * when the setting is malformed or names a method this libcrypt lacks, or on allocation failure.
 */
int sealpost_crypt(const char *phrase, const char *setting, char *output, size_t output_size);

/*
 * crypt_gensalt_rn(prefix, count, random_bytes, random_count, ...): a setting for a new hash with
 * `prefix` ("$6$", "$y$", ...), `count` (0 for the method's default cost) and the caller's random
 * bytes. Returns 0 on success, -1 when the prefix is unknown or the random bytes too few.
 */
int sealpost_crypt_gensalt(const char *prefix, unsigned long count, const unsigned char *random_bytes,
                           int random_count, char *output, size_t output_size);

/* crypt_preferred_method(): the prefix libcrypt recommends for new hashes ("$y$" on Debian 12), or NULL. */
const char *sealpost_crypt_preferred_method(void);

/* crypt_checksalt(setting): one of the SEALPOST_CRYPT_SALT_* values below. */
int sealpost_crypt_checksalt(const char *setting);

/* The CRYPT_SALT_* results of crypt_checksalt. */
int sealpost_crypt_salt_ok(void);
int sealpost_crypt_salt_invalid(void);
int sealpost_crypt_salt_method_disabled(void);
int sealpost_crypt_salt_method_legacy(void);
int sealpost_crypt_salt_too_cheap(void);

/* getrandom(buffer, count, 0) until `count` bytes are filled; returns 0, or -1 with errno set. */
int sealpost_getrandom(void *buffer, size_t count);

/* explicit_bzero(buffer, count): zeroes memory in a way the optimiser may not remove. */
void sealpost_explicit_bzero(void *buffer, size_t count);

#endif
