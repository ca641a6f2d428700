/* The HTTP routes of the org tree, departments and the point → grid lookup. */
#ifndef GR_ORG_ORG_API_H
#define GR_ORG_ORG_API_H

#include "http/http.h"

void org_api_register(http_router *r);

#endif
