/* grpc_reader_feed against any byte stream, cut into DATA-sized chunks
 * anywhere, with a small message limit.
 *
 * Input: byte 0 picks the limit, byte 1 how many chunk sizes follow (0-15),
 * then the chunk sizes (one byte each, used in turn; 0 feeds an empty chunk),
 * then the stream itself. The same stream is also parsed whole by a plain
 * reference reader here; however it is cut, the reader must deliver the same
 * messages and fail (or not) the same way. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc.h"

#define MAX_SEEN 4096

struct seen {
  size_t n;
  size_t off[MAX_SEEN]; /* where each message starts in the stream */
  size_t len[MAX_SEEN];
  const uint8_t *stream;
  size_t stream_len;
  size_t next; /* stream offset the next message must start at */
  size_t max;
};

/* The callback refuses a message whose first byte is 0xee, so that the
 * error path out of the middle of a chunk is exercised too. */
static int
on_message(void *ud, const uint8_t *msg, size_t len, lc_error **err)
{
  struct seen *s = ud;
  if (len > s->max)
    abort();
  /* Read every byte: ASan reports a message that runs past the buffer. */
  uint8_t *copy = malloc(len ? len : 1);
  memcpy(copy, msg, len);
  size_t at = s->next + 5;
  if (at + len > s->stream_len || memcmp(copy, s->stream + at, len) != 0)
    abort(); /* not the bytes that followed its prefix in the stream */
  free(copy);
  if (s->n < MAX_SEEN) {
    s->off[s->n] = at;
    s->len[s->n] = len;
  }
  s->n++;
  s->next = at + len;
  if (len > 0 && msg[0] == 0xee)
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_CANCELLED, "refused by the test");
  return 0;
}

/* The reference: walks the whole stream at once. Returns 0, or -1 on the
 * first bad prefix or refused message; *n_msgs counts delivered messages. */
static int
reference(const uint8_t *p, size_t len, size_t max, size_t *n_msgs)
{
  size_t off = 0;
  *n_msgs = 0;
  while (len - off >= 5) {
    uint32_t mlen = (uint32_t)p[off + 1] << 24 | (uint32_t)p[off + 2] << 16 |
                    (uint32_t)p[off + 3] << 8 | p[off + 4];
    if (p[off] != 0 || mlen > max)
      return -1;
    if (len - off - 5 < mlen)
      return 0;
    (*n_msgs)++;
    if (mlen > 0 && p[off + 5] == 0xee)
      return -1;
    off += 5 + (size_t)mlen;
  }
  return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 2)
    return 0;
  size_t max = 1 + (size_t)data[0] * 4; /* 1 .. 1021 bytes */
  size_t n_sizes = data[1] % 16;
  if (size < 2 + n_sizes)
    return 0;
  const uint8_t *sizes = data + 2;
  const uint8_t *stream = data + 2 + n_sizes;
  size_t stream_len = size - 2 - n_sizes;

  struct seen *s = calloc(1, sizeof(*s));
  s->stream = stream;
  s->stream_len = stream_len;
  s->max = max;
  grpc_reader r = {.max_message = max};
  lc_error *err = NULL;
  int rv = 0;
  size_t off = 0, k = 0;
  while (rv == 0 && off < stream_len) {
    size_t chunk = n_sizes > 0 ? sizes[k++ % n_sizes] : stream_len;
    if (chunk > stream_len - off)
      chunk = stream_len - off;
    /* Each chunk in a buffer of its own size: reading past it is caught. */
    uint8_t *buf = malloc(chunk ? chunk : 1);
    memcpy(buf, stream + off, chunk);
    rv = grpc_reader_feed(&r, buf, chunk, on_message, s, &err);
    free(buf);
    off += chunk;
    if (chunk == 0 && k > 4 * n_sizes + 16)
      break; /* only empty chunks: enough of them */
  }
  if (rv == 0 && off < stream_len) {
    rv = grpc_reader_feed(&r, stream + off, stream_len - off, on_message, s, &err);
    off = stream_len;
  }
  if ((rv < 0) != (err != NULL))
    abort(); /* a failure always says why, and only a failure */

  size_t ref_n;
  int ref_rv = reference(stream, stream_len, max, &ref_n);
  if (ref_rv != rv || ref_n != s->n) {
    fprintf(stderr, "chunked: rv %d, %zu messages; whole: rv %d, %zu messages\n", rv, s->n, ref_rv,
            ref_n);
    abort();
  }
  /* What is kept is the unfinished tail, and no buffer once nothing is. */
  if (rv == 0 && r.len != stream_len - s->next)
    abort();
  if (rv == 0 && r.len == 0 && r.buf != NULL)
    abort();

  grpc_reader_clear(&r);
  lc_error_free(err);
  free(s);
  return 0;
}
