#ifndef SEALPOST_CPCRE2_H
#define SEALPOST_CPCRE2_H

/* The 8-bit library; call the pcre2_*_8 functions directly (the unsuffixed names are macros). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#endif
