#include "sealpost_crypt.h"

#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

size_t sealpost_crypt_output_size(void) {
    return CRYPT_OUTPUT_SIZE;
}

int sealpost_crypt(const char *phrase, const char *setting, char *output, size_t output_size) {
    struct crypt_data *data = calloc(1, sizeof(struct crypt_data));
    if (data == NULL) return -1;
    int status = -1;
    const char *hash = crypt_rn(phrase, setting, data, (int)sizeof(struct crypt_data));
    /* crypt_rn returns NULL on failure; some methods signal a bad setting with a "*" result. */
    if (hash != NULL && hash[0] != '*') {
        size_t length = strlen(hash);
        if (length < output_size) {
            memcpy(output, hash, length + 1);
            status = 0;
        } else {
            errno = ERANGE;
        }
    }
    explicit_bzero(data, sizeof(struct crypt_data));
    free(data);
    return status;
}

int sealpost_crypt_gensalt(const char *prefix, unsigned long count, const unsigned char *random_bytes,
                           int random_count, char *output, size_t output_size) {
    if (output_size > CRYPT_GENSALT_OUTPUT_SIZE) output_size = CRYPT_GENSALT_OUTPUT_SIZE;
    const char *setting = crypt_gensalt_rn(prefix, count, (const char *)random_bytes, random_count,
                                           output, (int)output_size);
    return (setting == NULL || setting[0] == '*') ? -1 : 0;
}

const char *sealpost_crypt_preferred_method(void) {
#ifdef CRYPT_PREFERRED_METHOD_AVAILABLE
    return crypt_preferred_method();
#else
    return NULL;
#endif
}

int sealpost_crypt_checksalt(const char *setting) {
#ifdef CRYPT_CHECKSALT_AVAILABLE
    return crypt_checksalt(setting);
#else
    return CRYPT_SALT_OK;
#endif
}

int sealpost_crypt_salt_ok(void) { return CRYPT_SALT_OK; }
int sealpost_crypt_salt_invalid(void) { return CRYPT_SALT_INVALID; }
int sealpost_crypt_salt_method_disabled(void) { return CRYPT_SALT_METHOD_DISABLED; }
int sealpost_crypt_salt_method_legacy(void) { return CRYPT_SALT_METHOD_LEGACY; }
int sealpost_crypt_salt_too_cheap(void) { return CRYPT_SALT_TOO_CHEAP; }

int sealpost_getrandom(void *buffer, size_t count) {
    unsigned char *bytes = buffer;
    while (count > 0) {
        ssize_t got = getrandom(bytes, count, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        bytes += got;
        count -= (size_t)got;
    }
    return 0;
}

void sealpost_explicit_bzero(void *buffer, size_t count) {
    explicit_bzero(buffer, count);
}
