/* grpc_percent_decode on any grpc-message value. The input is not
 * NUL-terminated, as a header value from nghttp2 is not required to be. The
 * result is checked against a decoder written the obvious way. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grpc.h"

static int
hex(uint8_t c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  c |= 0x20;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  /* A copy of exactly size bytes, so that ASan sees any read past it. */
  char *in = malloc(size ? size : 1);
  memcpy(in, data, size);
  char *out = grpc_percent_decode(in, size);
  if (out == NULL)
    abort();

  char *want = malloc(size + 1);
  size_t j = 0;
  for (size_t i = 0; i < size; i++) {
    /* %00 stays as it is: decoded, it would cut the message short. */
    if (data[i] == '%' && i + 2 < size && hex(data[i + 1]) >= 0 && hex(data[i + 2]) >= 0 &&
        (hex(data[i + 1]) | hex(data[i + 2])) != 0) {
      want[j++] = (char)(hex(data[i + 1]) * 16 + hex(data[i + 2]));
      i += 2;
    } else {
      want[j++] = (char)data[i];
    }
  }
  want[j] = '\0';
  if (memcmp(out, want, j + 1) != 0)
    abort();

  free(want);
  free(out);
  free(in);
  return 0;
}
