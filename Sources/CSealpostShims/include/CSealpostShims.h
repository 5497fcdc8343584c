#ifndef SEALPOST_SHIMS_H
#define SEALPOST_SHIMS_H

/*
 * Real C functions for the parts of OpenSSL that Swift cannot call directly: function-like macros,
 * variadic functions and macro constants built from other macros. Each wraps exactly one thing and
 * carries the `sealpost_` prefix. They are defined in .c files, never `static inline` here, so that
 * every module importing this header links one copy (swift-nio-ssl 1.x learned that the hard way).
 * One header and one .c file per area.
 */

#include "sealpost_credentials.h"
#include "sealpost_context.h"
#include "sealpost_connection.h"
#include "sealpost_crypt.h"
#include "sealpost_system.h"

#endif
