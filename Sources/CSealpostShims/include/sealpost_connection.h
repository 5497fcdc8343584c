#ifndef SEALPOST_SHIMS_CONNECTION_H
#define SEALPOST_SHIMS_CONNECTION_H

/* Shims for running one TLS connection over memory BIOs: SNI, peer information, shutdown (connection.c). */

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* SSL */

/* SSL_set_tlsext_host_name(ssl, name): the server name (SNI) a client sends; returns 1 on success. */
int sealpost_ssl_set_tlsext_host_name(SSL *ssl, const char *name);

/* SSL_set_mode(ssl, mode): adds mode bits (SSL_MODE_*); returns the connection's new mode. */
long sealpost_ssl_set_mode(SSL *ssl, long mode);

/* sk_X509_num(SSL_get_peer_cert_chain(ssl)): how many certificates the peer sent (0 when none).
 * A client sees the server's leaf in this chain; a server does not see the client's. */
int sealpost_ssl_peer_chain_count(const SSL *ssl);

/* sk_X509_value(SSL_get_peer_cert_chain(ssl), index) with its reference count raised: the caller owns
 * the result and frees it with X509_free. NULL when index is out of range. */
X509 *sealpost_ssl_peer_chain_get1(const SSL *ssl, int index);

/* BIO */

/* BIO_set_mem_eof_return(bio, value): what an empty memory BIO returns on read; a negative value
 * means "retry later" (more data will come), 0 means end of file. */
long sealpost_bio_set_mem_eof_return(BIO *bio, int value);
/* Frees a memory BIO's buffer when it holds no bytes, an empty one taking its place; 1 when it did.
 * A memory BIO keeps the largest buffer it ever needed (the handshake's flight) for its life. */
int sealpost_bio_mem_release_empty(BIO *bio);

#endif
