/* The registry of sealed columns (sealed.h). */
#include "privacy/sealed.h"

#define HISTORY(label, cond, ad_)                                                                  \
    {                                                                                              \
        "bd_history_sealed.old_enc[" label "]", "bd_history_sealed", "id", "old_enc", ad_, cond,   \
            "bd_history_sealed_no_update"                                                          \
    }

const sealed_column sealed_columns[] = {
    /* src/auth/auth_model.c PHONE_AD */
    {"users.phone_enc", "users", "id", "phone_enc", "users.phone", NULL, NULL},
    /* src/cases/case_model.h CASE_CONTACT_AD; case_reporters copies the case's blob */
    {"cases.contact_enc", "cases", "id", "contact_enc", "cases.contact", NULL, NULL},
    {"case_reporters.contact_enc", "case_reporters", "id", "contact_enc", "cases.contact", NULL,
     NULL},
    /* src/notify/notify_model.h NOTIFY_SECRET_AD */
    {"webhooks.secret_enc", "webhooks", "id", "secret_enc", "webhooks.secret", NULL, NULL},
    /* src/basedata/bd_model.h BD_AD_NAME, BD_AD_ID_NUMBER, BD_AD_PHONE */
    {"bd_people.name_enc", "bd_people", "id", "name_enc", "bd_people.name", NULL, NULL},
    {"bd_people.id_number_enc", "bd_people", "id", "id_number_enc", "bd_people.id_number", NULL,
     NULL},
    {"bd_people.phone_enc", "bd_people", "id", "phone_enc", "bd_people.phone", NULL, NULL},
    /* src/basedata/bd_units.h BD_AD_LEGAL_REP */
    {"bd_orgs.legal_rep_enc", "bd_orgs", "id", "legal_rep_enc", "bd_orgs.legal_rep", NULL, NULL},
    /* The ciphertexts a change replaced (bd_history_seal_keep), under their
     * column's ad: the entity and field name the column. */
    HISTORY("person.name", "entity = 'person' AND field = 'name'", "bd_people.name"),
    HISTORY("person.id_number", "entity = 'person' AND field = 'id_number'", "bd_people.id_number"),
    HISTORY("person.phone", "entity = 'person' AND field = 'phone'", "bd_people.phone"),
    HISTORY("org.legal_rep", "entity = 'org' AND field = 'legal_rep'", "bd_orgs.legal_rep"),
};

const size_t sealed_ncolumns = sizeof(sealed_columns) / sizeof(sealed_columns[0]);
