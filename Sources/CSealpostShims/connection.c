#include "sealpost_connection.h"

#include <openssl/buffer.h>
#include <openssl/tls1.h>

int sealpost_ssl_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int) SSL_set_tlsext_host_name(ssl, name);
}

long sealpost_ssl_set_mode(SSL *ssl, long mode) {
    return SSL_set_mode(ssl, mode);
}

int sealpost_ssl_peer_chain_count(const SSL *ssl) {
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
    return chain == NULL ? 0 : sk_X509_num(chain);
}

X509 *sealpost_ssl_peer_chain_get1(const SSL *ssl, int index) {
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
    if (chain == NULL || index < 0 || index >= sk_X509_num(chain))
        return NULL;
    X509 *certificate = sk_X509_value(chain, index);
    if (certificate == NULL || X509_up_ref(certificate) != 1)
        return NULL;
    return certificate;
}

long sealpost_bio_set_mem_eof_return(BIO *bio, int value) {
    return BIO_set_mem_eof_return(bio, value);
}

int sealpost_bio_mem_release_empty(BIO *bio) {
    BUF_MEM *current = NULL;
    if (BIO_ctrl_pending(bio) != 0 || BIO_get_mem_ptr(bio, &current) <= 0 || current == NULL || current->max == 0)
        return 0;
    BUF_MEM *empty = BUF_MEM_new();
    if (empty == NULL)
        return 0;
    /* The BIO owns its buffer (BIO_CLOSE): setting another frees the old one. */
    BIO_set_mem_buf(bio, empty, BIO_CLOSE);
    return 1;
}
