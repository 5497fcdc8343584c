#include "sealpost_connection.h"
