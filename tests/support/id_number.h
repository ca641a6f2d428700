/* Synthetic 公民身份号码 for tests: no real person's. */
#ifndef GR_TEST_ID_NUMBER_H
#define GR_TEST_ID_NUMBER_H

/* The 17 digits given and their GB 11643 MOD 11-2 check character. */
void gr_test_id_number(const char *first17, char out[19]);

#endif
