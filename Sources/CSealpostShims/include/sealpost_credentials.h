#ifndef SEALPOST_SHIMS_CREDENTIALS_H
#define SEALPOST_SHIMS_CREDENTIALS_H

/* Shims for loading, inspecting and generating keys and certificates (credentials.c). */

#include <stddef.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* Memory */

/* OPENSSL_free(ptr): frees memory that OpenSSL allocated (PEM_read_bio names, BN_bn2hex, ...). */
void sealpost_openssl_free(void *ptr);

/* BIO */

/* BIO_get_mem_data(bio, &data): the bytes held by a memory BIO; returns their count. */
long sealpost_bio_get_mem_data(BIO *bio, const char **data);

/* X509_NAME */

/* XN_FLAG_RFC2253: X509_NAME_print_ex flags for the RFC 2253 one-line form. */
unsigned long sealpost_xn_flags_rfc2253(void);

/* STACK_OF(GENERAL_NAME) (GENERAL_NAMES): the sk_GENERAL_NAME_* macros. */
int sealpost_sk_GENERAL_NAME_num(const GENERAL_NAMES *names);
GENERAL_NAME *sealpost_sk_GENERAL_NAME_value(const GENERAL_NAMES *names, int index);
GENERAL_NAMES *sealpost_sk_GENERAL_NAME_new_null(void);
/* Takes ownership of `name` on success (returns the new count, > 0); returns 0 on failure. */
int sealpost_sk_GENERAL_NAME_push(GENERAL_NAMES *names, GENERAL_NAME *name);

/* EVP_PKEY */

/* EVP_PKEY_KEYPAIR: the OSSL_DECODER selection for a private key with its public half. */
int sealpost_evp_pkey_keypair_selection(void);
/* EVP_PKEY_KEY_PARAMETERS: the OSSL_DECODER selection for domain parameters (DH). */
int sealpost_evp_pkey_key_parameters_selection(void);

/* EVP_RSA_gen(bits): a new RSA key pair (variadic EVP_PKEY_Q_keygen underneath). */
EVP_PKEY *sealpost_evp_rsa_gen(unsigned int bits);
/* EVP_EC_gen(curve): a new EC key pair on the named curve ("prime256v1", "secp384r1", ...). */
EVP_PKEY *sealpost_evp_ec_gen(const char *curve);

/* libcrypt is linked into this target for the password-hash shims that come later. */

#endif
