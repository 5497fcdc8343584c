#include "sealpost_credentials.h"

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>

void sealpost_openssl_free(void *ptr) {
    OPENSSL_free(ptr);
}

long sealpost_bio_get_mem_data(BIO *bio, const char **data) {
    char *bytes = NULL;
    long count = BIO_get_mem_data(bio, &bytes);
    *data = bytes;
    return count;
}

unsigned long sealpost_xn_flags_rfc2253(void) {
    return XN_FLAG_RFC2253;
}

int sealpost_sk_GENERAL_NAME_num(const GENERAL_NAMES *names) {
    return sk_GENERAL_NAME_num(names);
}

GENERAL_NAME *sealpost_sk_GENERAL_NAME_value(const GENERAL_NAMES *names, int index) {
    return sk_GENERAL_NAME_value(names, index);
}

GENERAL_NAMES *sealpost_sk_GENERAL_NAME_new_null(void) {
    return sk_GENERAL_NAME_new_null();
}

int sealpost_sk_GENERAL_NAME_push(GENERAL_NAMES *names, GENERAL_NAME *name) {
    return sk_GENERAL_NAME_push(names, name);
}

int sealpost_evp_pkey_keypair_selection(void) {
    return EVP_PKEY_KEYPAIR;
}

int sealpost_evp_pkey_key_parameters_selection(void) {
    return EVP_PKEY_KEY_PARAMETERS;
}

EVP_PKEY *sealpost_evp_rsa_gen(unsigned int bits) {
    return EVP_RSA_gen(bits);
}

EVP_PKEY *sealpost_evp_ec_gen(const char *curve) {
    return EVP_EC_gen(curve);
}
