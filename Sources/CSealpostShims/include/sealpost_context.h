#ifndef SEALPOST_SHIMS_CONTEXT_H
#define SEALPOST_SHIMS_CONTEXT_H

/* Shims for building SSL_CTX objects from settings: ciphers, protocols, groups, DH, sessions, verification (context.c).
 * Every name here starts with sealpost_ctx_ (the SSL_CTX and its callbacks) or sealpost_session_ (what a finished
 * handshake tells), so that they never collide with the connection shims in sealpost_connection.h. */

#include <stdint.h>
#include <openssl/ssl.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* SSL_OP_* bits */

/* The SSL_OP_* bit called `name` without the prefix ("NO_TICKET", "NO_TLSv1_1", "CIPHER_SERVER_PREFERENCE", ...):
 * *found is set to 1 and the bit (0 for options this OpenSSL has retired) returned, or *found is 0 for unknown names. */
uint64_t sealpost_ctx_ssl_option(const char *name, int *found);
/* SSL_OP_ALL: the bug work-arounds OpenSSL recommends. */
uint64_t sealpost_ctx_ssl_op_all(void);

/* SSL_CTX_set_options / SSL_CTX_clear_options / SSL_CTX_get_options; each returns the options now in effect. */
uint64_t sealpost_ctx_set_options(SSL_CTX *ctx, uint64_t options);
uint64_t sealpost_ctx_clear_options(SSL_CTX *ctx, uint64_t options);
uint64_t sealpost_ctx_get_options(const SSL_CTX *ctx);
/* SSL_set_options / SSL_clear_options on one connection. */
uint64_t sealpost_ctx_ssl_set_options(SSL *ssl, uint64_t options);
uint64_t sealpost_ctx_ssl_clear_options(SSL *ssl, uint64_t options);

/* Protocol versions (0 means "no bound") */

int sealpost_ctx_set_min_proto_version(SSL_CTX *ctx, int version);
int sealpost_ctx_set_max_proto_version(SSL_CTX *ctx, int version);
int sealpost_ctx_get_min_proto_version(SSL_CTX *ctx);
int sealpost_ctx_get_max_proto_version(SSL_CTX *ctx);
int sealpost_ctx_ssl_set_min_proto_version(SSL *ssl, int version);
int sealpost_ctx_ssl_set_max_proto_version(SSL *ssl, int version);

/* Key exchange */

/* SSL_CTX_set1_groups: the groups (EC curves and FFDHE groups) by NID, most preferred first. */
int sealpost_ctx_set1_groups(SSL_CTX *ctx, const int *nids, int count);
/* SSL_CTX_set1_groups_list: the groups by name, colon-separated. */
int sealpost_ctx_set1_groups_list(SSL_CTX *ctx, const char *list);
/* SSL_CTX_set_dh_auto: let OpenSSL pick the FFDHE group by the certificate's strength. */
long sealpost_ctx_set_dh_auto(SSL_CTX *ctx, int onoff);

/* Sessions */

long sealpost_ctx_set_session_cache_mode(SSL_CTX *ctx, long mode);
long sealpost_ctx_get_session_cache_mode(SSL_CTX *ctx);
long sealpost_ctx_sess_set_cache_size(SSL_CTX *ctx, long size);
long sealpost_ctx_sess_number(SSL_CTX *ctx);

/* The RFC 5077 ticket key callback as OpenSSL 3 calls it. */
typedef int (*sealpost_ticket_key_cb)(SSL *ssl, unsigned char *name, unsigned char *iv, EVP_CIPHER_CTX *cipher,
                                      EVP_MAC_CTX *mac, int encrypt);
int sealpost_ctx_set_ticket_key_cb(SSL_CTX *ctx, sealpost_ticket_key_cb callback);
/* EVP_MAC_CTX_set_params with OSSL_MAC_PARAM_DIGEST = digest and OSSL_MAC_PARAM_KEY = key (HMAC set-up). */
int sealpost_ctx_ticket_mac_init(EVP_MAC_CTX *mac, const char *digest, const unsigned char *key, size_t key_length);
/* EVP_CIPHER_get_mode(cipher) == EVP_CIPH_CBC_MODE. */
int sealpost_ctx_cipher_is_cbc(const EVP_CIPHER *cipher);

/* Ex-data indexes (the SSL_CTX_get_ex_new_index / SSL_get_ex_new_index macros); `free_func` runs when the
 * owning object is freed. */
typedef void (*sealpost_ex_free)(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int index, long argl, void *argp);
int sealpost_ctx_ex_new_index(sealpost_ex_free free_func);
int sealpost_ctx_ssl_ex_new_index(sealpost_ex_free free_func);

/* STACK_OF(X509) */

STACK_OF(X509) *sealpost_ctx_sk_X509_new_null(void);
/* Takes a reference to `certificate` (X509_up_ref) on success; returns the new count, 0 on failure. */
int sealpost_ctx_sk_X509_push_ref(STACK_OF(X509) *stack, X509 *certificate);
/* Frees the stack and drops the references it holds. */
void sealpost_ctx_sk_X509_free_all(STACK_OF(X509) *stack);
int sealpost_ctx_sk_X509_num(const STACK_OF(X509) *stack);
X509 *sealpost_ctx_sk_X509_value(const STACK_OF(X509) *stack, int index);
int sealpost_ctx_sk_X509_NAME_num(const STACK_OF(X509_NAME) *stack);

/* Callback plumbing for logging */

/* BIO_set_callback_ex / BIO_set_callback_arg; the callback type as OpenSSL 3 declares it. */
int sealpost_ctx_bio_set_dump_callback(BIO *bio, BIO_callback_fn_ex callback, void *argument);
void *sealpost_ctx_bio_get_callback_arg(const BIO *bio);
/* BIO_CB_READ, BIO_CB_WRITE, BIO_CB_RETURN, BIO_CB_FREE. */
int sealpost_ctx_bio_cb_read(void);
int sealpost_ctx_bio_cb_write(void);
int sealpost_ctx_bio_cb_return(void);
int sealpost_ctx_bio_cb_free(void);

/* What a finished handshake tells */

/* SSL_get_peer_tmp_key: the peer's ephemeral key share (the server sees the client's and vice versa); owned by the
 * caller. */
int sealpost_session_get_peer_tmp_key(SSL *ssl, EVP_PKEY **key);
/* SSL_get_tmp_key: this side's ephemeral key (owned by the caller). */
int sealpost_session_get_tmp_key(SSL *ssl, EVP_PKEY **key);
/* SSL_get_signature_nid / SSL_get_peer_signature_nid: the digest of this side's / the peer's handshake signature. */
int sealpost_session_get_signature_nid(SSL *ssl, int *nid);
int sealpost_session_get_peer_signature_nid(SSL *ssl, int *nid);
/* SSL_get_negotiated_group: the NID of the key-exchange group, or 0. */
int sealpost_session_get_negotiated_group(SSL *ssl);

/* Client connections */

/* SSL_set_tlsext_host_name: the SNI name a client sends. */
int sealpost_ctx_client_set_sni(SSL *ssl, const char *name);

/* The server-side SNI callback (SSL_CTX_set_tlsext_servername_callback); it answers SSL_TLSEXT_ERR_OK, _NOACK or
 * _ALERT_FATAL. The alert is set through *alert. */
typedef int (*sealpost_servername_cb)(SSL *ssl, int *alert, void *argument);
long sealpost_ctx_set_servername_callback(SSL_CTX *ctx, sealpost_servername_cb callback);
/* The answers a servername callback gives, which are macros in OpenSSL's headers. */
int sealpost_ctx_servername_ok(void);
int sealpost_ctx_servername_noack(void);
int sealpost_ctx_servername_alert_fatal(void);
/* SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name): the SNI name the client sent, or NULL. */
const char *sealpost_ctx_get_servername(const SSL *ssl);

#endif
