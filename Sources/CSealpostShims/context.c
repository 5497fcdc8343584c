#include "sealpost_context.h"
