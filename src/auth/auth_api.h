/* The HTTP routes of accounts and sessions. */
#ifndef GR_AUTH_AUTH_API_H
#define GR_AUTH_AUTH_API_H

#include "http/http.h"

void auth_api_register(http_router *r);

#endif
