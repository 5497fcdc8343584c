#ifndef SEALPOST_SHIMS_CONTEXT_H
#define SEALPOST_SHIMS_CONTEXT_H

/* Shims for building SSL_CTX objects from settings: ciphers, protocols, groups, DH, sessions, verification (context.c). */

#include <openssl/ssl.h>

#endif
