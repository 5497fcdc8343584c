#include "sealpost_context.h"

#include <string.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/tls1.h>

/* SSL_OP_* bits */

#define SEALPOST_OPTION(x) { #x, SSL_OP_##x }

static const struct {
    const char *name;
    uint64_t bit;
} sealpost_ssl_options[] = {
    /* Postfix's tls_disable_workarounds names (tls_misc.c ssl_bug_tweaks); retired ones are 0 in OpenSSL 3. */
    SEALPOST_OPTION(MICROSOFT_SESS_ID_BUG),
    SEALPOST_OPTION(NETSCAPE_CHALLENGE_BUG),
    SEALPOST_OPTION(LEGACY_SERVER_CONNECT),
    SEALPOST_OPTION(NETSCAPE_REUSE_CIPHER_CHANGE_BUG),
    { "CVE-2010-4180", SSL_OP_NETSCAPE_REUSE_CIPHER_CHANGE_BUG },
    SEALPOST_OPTION(SSLREF2_REUSE_CERT_TYPE_BUG),
    SEALPOST_OPTION(MICROSOFT_BIG_SSLV3_BUFFER),
    SEALPOST_OPTION(MSIE_SSLV2_RSA_PADDING),
    { "CVE-2005-2969", SSL_OP_MSIE_SSLV2_RSA_PADDING },
    SEALPOST_OPTION(SSLEAY_080_CLIENT_DH_BUG),
    SEALPOST_OPTION(TLS_D5_BUG),
    SEALPOST_OPTION(TLS_BLOCK_PADDING_BUG),
    SEALPOST_OPTION(TLS_ROLLBACK_BUG),
    SEALPOST_OPTION(DONT_INSERT_EMPTY_FRAGMENTS),
    SEALPOST_OPTION(CRYPTOPRO_TLSEXT_BUG),
    SEALPOST_OPTION(TLSEXT_PADDING),
    SEALPOST_OPTION(SAFARI_ECDHE_ECDSA_BUG),
    /* Postfix's tls_ssl_options names (ssl_op_tweaks). */
    SEALPOST_OPTION(NO_TICKET),
    SEALPOST_OPTION(NO_COMPRESSION),
    SEALPOST_OPTION(NO_RENEGOTIATION),
    SEALPOST_OPTION(NO_SESSION_RESUMPTION_ON_RENEGOTIATION),
    SEALPOST_OPTION(PRIORITIZE_CHACHA),
    SEALPOST_OPTION(ENABLE_MIDDLEBOX_COMPAT),
    /* What Sealpost sets itself. */
    SEALPOST_OPTION(NO_SSLv2),
    SEALPOST_OPTION(NO_SSLv3),
    SEALPOST_OPTION(NO_TLSv1),
    SEALPOST_OPTION(NO_TLSv1_1),
    SEALPOST_OPTION(NO_TLSv1_2),
    SEALPOST_OPTION(NO_TLSv1_3),
    SEALPOST_OPTION(CIPHER_SERVER_PREFERENCE),
    SEALPOST_OPTION(IGNORE_UNEXPECTED_EOF),
    SEALPOST_OPTION(SINGLE_ECDH_USE),
    SEALPOST_OPTION(SINGLE_DH_USE),
};

uint64_t sealpost_ctx_ssl_option(const char *name, int *found) {
    size_t i;
    for (i = 0; i < sizeof(sealpost_ssl_options) / sizeof(sealpost_ssl_options[0]); i++) {
        if (strcasecmp(name, sealpost_ssl_options[i].name) == 0) {
            *found = 1;
            return sealpost_ssl_options[i].bit;
        }
    }
    *found = 0;
    return 0;
}

uint64_t sealpost_ctx_ssl_op_all(void) {
    return SSL_OP_ALL;
}

uint64_t sealpost_ctx_set_options(SSL_CTX *ctx, uint64_t options) {
    return SSL_CTX_set_options(ctx, options);
}

uint64_t sealpost_ctx_clear_options(SSL_CTX *ctx, uint64_t options) {
    return SSL_CTX_clear_options(ctx, options);
}

uint64_t sealpost_ctx_get_options(const SSL_CTX *ctx) {
    return SSL_CTX_get_options(ctx);
}

uint64_t sealpost_ctx_ssl_set_options(SSL *ssl, uint64_t options) {
    return SSL_set_options(ssl, options);
}

uint64_t sealpost_ctx_ssl_clear_options(SSL *ssl, uint64_t options) {
    return SSL_clear_options(ssl, options);
}

/* Protocol versions */

int sealpost_ctx_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int) SSL_CTX_set_min_proto_version(ctx, version);
}

int sealpost_ctx_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int) SSL_CTX_set_max_proto_version(ctx, version);
}

int sealpost_ctx_get_min_proto_version(SSL_CTX *ctx) {
    return (int) SSL_CTX_get_min_proto_version(ctx);
}

int sealpost_ctx_get_max_proto_version(SSL_CTX *ctx) {
    return (int) SSL_CTX_get_max_proto_version(ctx);
}

int sealpost_ctx_ssl_set_min_proto_version(SSL *ssl, int version) {
    return (int) SSL_set_min_proto_version(ssl, version);
}

int sealpost_ctx_ssl_set_max_proto_version(SSL *ssl, int version) {
    return (int) SSL_set_max_proto_version(ssl, version);
}

/* Key exchange */

int sealpost_ctx_set1_groups(SSL_CTX *ctx, const int *nids, int count) {
    return (int) SSL_CTX_set1_groups(ctx, nids, count);
}

int sealpost_ctx_set1_groups_list(SSL_CTX *ctx, const char *list) {
    return (int) SSL_CTX_set1_groups_list(ctx, list);
}

long sealpost_ctx_set_dh_auto(SSL_CTX *ctx, int onoff) {
    return SSL_CTX_set_dh_auto(ctx, onoff);
}

/* Sessions */

long sealpost_ctx_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}

long sealpost_ctx_get_session_cache_mode(SSL_CTX *ctx) {
    return SSL_CTX_get_session_cache_mode(ctx);
}

long sealpost_ctx_sess_set_cache_size(SSL_CTX *ctx, long size) {
    return SSL_CTX_sess_set_cache_size(ctx, size);
}

long sealpost_ctx_sess_number(SSL_CTX *ctx) {
    return SSL_CTX_sess_number(ctx);
}

int sealpost_ctx_set_ticket_key_cb(SSL_CTX *ctx, sealpost_ticket_key_cb callback) {
    return SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, callback);
}

int sealpost_ctx_ticket_mac_init(EVP_MAC_CTX *mac, const char *digest, const unsigned char *key, size_t key_length) {
    OSSL_PARAM params[3];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) digest, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *) key, key_length);
    params[2] = OSSL_PARAM_construct_end();
    return EVP_MAC_CTX_set_params(mac, params);
}

int sealpost_ctx_cipher_is_cbc(const EVP_CIPHER *cipher) {
    return EVP_CIPHER_get_mode(cipher) == EVP_CIPH_CBC_MODE;
}

int sealpost_ctx_ex_new_index(sealpost_ex_free free_func) {
    return SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, free_func);
}

int sealpost_ctx_ssl_ex_new_index(sealpost_ex_free free_func) {
    return SSL_get_ex_new_index(0, NULL, NULL, NULL, free_func);
}

/* STACK_OF(X509) */

STACK_OF(X509) *sealpost_ctx_sk_X509_new_null(void) {
    return sk_X509_new_null();
}

int sealpost_ctx_sk_X509_push_ref(STACK_OF(X509) *stack, X509 *certificate) {
    if (!X509_up_ref(certificate))
        return 0;
    int count = sk_X509_push(stack, certificate);
    if (count <= 0) {
        X509_free(certificate);
        return 0;
    }
    return count;
}

void sealpost_ctx_sk_X509_free_all(STACK_OF(X509) *stack) {
    sk_X509_pop_free(stack, X509_free);
}

int sealpost_ctx_sk_X509_num(const STACK_OF(X509) *stack) {
    return sk_X509_num(stack);
}

X509 *sealpost_ctx_sk_X509_value(const STACK_OF(X509) *stack, int index) {
    return sk_X509_value(stack, index);
}

int sealpost_ctx_sk_X509_NAME_num(const STACK_OF(X509_NAME) *stack) {
    return sk_X509_NAME_num(stack);
}

/* Callback plumbing for logging */

int sealpost_ctx_bio_set_dump_callback(BIO *bio, BIO_callback_fn_ex callback, void *argument) {
    BIO_set_callback_ex(bio, callback);
    BIO_set_callback_arg(bio, (char *) argument);
    return 1;
}

void *sealpost_ctx_bio_get_callback_arg(const BIO *bio) {
    return BIO_get_callback_arg(bio);
}

int sealpost_ctx_bio_cb_read(void) {
    return BIO_CB_READ;
}

int sealpost_ctx_bio_cb_write(void) {
    return BIO_CB_WRITE;
}

int sealpost_ctx_bio_cb_return(void) {
    return BIO_CB_RETURN;
}

int sealpost_ctx_bio_cb_free(void) {
    return BIO_CB_FREE;
}

/* What a finished handshake tells */

int sealpost_session_get_peer_tmp_key(SSL *ssl, EVP_PKEY **key) {
    return (int) SSL_get_peer_tmp_key(ssl, key);
}

int sealpost_session_get_tmp_key(SSL *ssl, EVP_PKEY **key) {
    return (int) SSL_get_tmp_key(ssl, key);
}

int sealpost_session_get_signature_nid(SSL *ssl, int *nid) {
    return (int) SSL_get_signature_nid(ssl, nid);
}

int sealpost_session_get_peer_signature_nid(SSL *ssl, int *nid) {
    return (int) SSL_get_peer_signature_nid(ssl, nid);
}

int sealpost_session_get_negotiated_group(SSL *ssl) {
    return (int) SSL_get_negotiated_group(ssl);
}

/* Client connections */

int sealpost_ctx_client_set_sni(SSL *ssl, const char *name) {
    return (int) SSL_set_tlsext_host_name(ssl, name);
}

long sealpost_ctx_set_servername_callback(SSL_CTX *ctx, sealpost_servername_cb callback) {
    return SSL_CTX_set_tlsext_servername_callback(ctx, callback);
}

int sealpost_ctx_servername_ok(void) { return SSL_TLSEXT_ERR_OK; }
int sealpost_ctx_servername_noack(void) { return SSL_TLSEXT_ERR_NOACK; }
int sealpost_ctx_servername_alert_fatal(void) { return SSL_TLSEXT_ERR_ALERT_FATAL; }

const char *sealpost_ctx_get_servername(const SSL *ssl) {
    return SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
}
