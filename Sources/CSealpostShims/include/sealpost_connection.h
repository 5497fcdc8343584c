#ifndef SEALPOST_SHIMS_CONNECTION_H
#define SEALPOST_SHIMS_CONNECTION_H

/* Shims for running one TLS connection over memory BIOs: SNI, peer information, shutdown (connection.c). */

#include <openssl/ssl.h>

#endif
