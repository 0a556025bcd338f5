/* The WWW-Authenticate parser on any header value (not NUL-terminated, as
 * curl hands it over), and the reference parser on any string: neither may
 * read out of bounds, and what they accept must be well formed. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "reference.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *in = malloc(size ? size : 1);
  memcpy(in, data, size);
  struct lc_challenge ch;
  if (lc_challenge_parse(in, size, &ch) == 0) {
    if (ch.scheme == NULL || *ch.scheme == '\0')
      abort();
    lc_challenge_clear(&ch);
  }
  char *s = malloc(size + 1);
  memcpy(s, data, size);
  s[size] = '\0';
  struct lc_ref ref;
  lc_error *e = NULL;
  if (lc_ref_parse(s, &ref, &e) == 0) {
    if (ref.name == NULL || ref.host == NULL || (ref.tag == NULL && ref.digest == NULL))
      abort();
    /* a normalised name parses to itself */
    struct lc_ref again;
    lc_error *e2 = NULL;
    if (lc_ref_parse(ref.name, &again, &e2) != 0 || strcmp(again.name, ref.name) != 0)
      abort();
    lc_ref_clear(&again);
    lc_ref_clear(&ref);
  }
  lc_error_free(e);
  free(s);
  free(in);
  return 0;
}
