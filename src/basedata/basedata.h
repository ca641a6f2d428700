/*
 * The base data (一库): buildings, houses, people, organisations, facilities
 * and underground spaces, with stewards, history, masking and audited
 * reveals. The module's entry for the application; other modules use
 * bd_model.h (bd_prefill). See docs/basedata.md.
 */
#ifndef GR_BASEDATA_BASEDATA_H
#define GR_BASEDATA_BASEDATA_H

#include "http/http.h"

/* The routes of buildings, houses, people, their history, and prefill. */
void bd_api_register(http_router *r);

#endif
