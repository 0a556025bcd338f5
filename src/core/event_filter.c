/* Event filters (see event.h): a check of the user's own containerd filter
 * expressions, the filter strings sent with Events.Subscribe, and the same
 * filter applied again to what arrives. */
#include "config.h"

#include "event.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- checking a user's filter expression -------------------------------- */

/* The grammar is containerd's (filters/parser.go):
 *   selectors := selector ("," selector)*
 *   selector  := fieldpath operator value
 *   fieldpath := field ("." field)*       field := [A-Za-z0-9_]+ | "quoted"
 *   operator  := "==" | "!=" | "~="
 *   value     := quoted | a run of bytes other than ',' and white space
 * where a quoted value is "..." with Go escapes, or /.../ and |...| after ~=.
 * A selector without operator is a presence test in containerd; we refuse it
 * because a lone word ("exit") is far more often a mistake than a wish. */
struct filter_scan {
  const char *expr;
  const char *p;
  lc_error **err;
};

static int
scan_fail(struct filter_scan *s, const char *why)
{
  return lc_error_set(s->err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                      "malformed filter '%s' at offset %d: %s", s->expr, (int)(s->p - s->expr),
                      why);
}

static void
skip_space(struct filter_scan *s)
{
  while (*s->p != '\0' && isspace((unsigned char)*s->p))
    s->p++;
}

static bool
is_field_char(char c)
{
  return isalnum((unsigned char)c) || c == '_';
}

static int
count_digits(const char *p, int base, int want)
{
  int n = 0;
  while (n < want && p[n] != '\0' &&
         (base == 8 ? (p[n] >= '0' && p[n] <= '7') : isxdigit((unsigned char)p[n]) != 0))
    n++;
  return n;
}

/* One escape after a backslash, as Go's string syntax has them. */
static int
scan_escape(struct filter_scan *s, char quote)
{
  char c = *s->p;
  int digits = 0, base = 16;
  if (c != '\0' && (strchr("abfnrtv\\", c) != NULL || c == quote)) {
    s->p++;
    return 0;
  }
  if (c >= '0' && c <= '7')
    base = 8, digits = 3;
  else if (c == 'x')
    digits = 2, s->p++;
  else if (c == 'u')
    digits = 4, s->p++;
  else if (c == 'U')
    digits = 8, s->p++;
  else
    return scan_fail(s, "illegal escape sequence in a quoted string");
  if (count_digits(s->p, base, digits) != digits)
    return scan_fail(s, "illegal numeric escape sequence in a quoted string");
  s->p += digits;
  return 0;
}

static int
scan_quoted(struct filter_scan *s)
{
  char quote = *s->p++;
  while (*s->p != quote) {
    if (*s->p == '\0' || *s->p == '\n')
      return scan_fail(s, "unterminated quoted string");
    if (*s->p++ == '\\' && scan_escape(s, quote) < 0)
      return -1;
  }
  s->p++;
  return 0;
}

/* Only these exist on an envelope; any other field would never match. */
static bool
known_top_field(const char *name, size_t len)
{
  static const char *const fields[] = {"namespace", "topic", "event"};
  for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
    if (strlen(fields[i]) == len && memcmp(fields[i], name, len) == 0)
      return true;
  return false;
}

static int
scan_field(struct filter_scan *s, bool first)
{
  const char *start = s->p;
  if (*s->p == '"')
    return scan_quoted(s);
  while (is_field_char(*s->p))
    s->p++;
  if (s->p == start)
    return scan_fail(s, "expected a field name (namespace, topic or event.FIELD)");
  if (first && !known_top_field(start, (size_t)(s->p - start))) {
    s->p = start;
    return scan_fail(s, "unknown field; an event has namespace, topic and event.FIELD");
  }
  return 0;
}

static int
scan_fieldpath(struct filter_scan *s)
{
  skip_space(s);
  if (scan_field(s, true) < 0)
    return -1;
  for (skip_space(s); *s->p == '.'; skip_space(s)) {
    s->p++;
    skip_space(s);
    if (scan_field(s, false) < 0)
      return -1;
  }
  return 0;
}

/* 1 for "~=", whose value may also be quoted /like this/ or |like this|;
 * 0 for "==" and "!="; -1 when there is no valid operator. */
static int
scan_operator(struct filter_scan *s)
{
  skip_space(s);
  const char *start = s->p;
  while (*s->p != '\0' && strchr("=!~", *s->p) != NULL)
    s->p++;
  size_t len = (size_t)(s->p - start);
  if (len == 2 && (memcmp(start, "==", 2) == 0 || memcmp(start, "!=", 2) == 0))
    return 0;
  if (len == 2 && memcmp(start, "~=", 2) == 0)
    return 1;
  s->p = start;
  return scan_fail(s, len == 0 ? "expected an operator (==, != or ~=); a field alone is not "
                                 "accepted, use FIELD~=\".\" to test that it is set"
                               : "unsupported operator; use ==, != or ~=");
}

static int
scan_value(struct filter_scan *s, bool regex)
{
  skip_space(s);
  char c = *s->p;
  if (c == '"' || (regex && (c == '/' || c == '|')))
    return scan_quoted(s);
  if (c == '/' || c == '|')
    return scan_fail(s, "a value starting with / or | must be quoted: FIELD==\"/value\"");
  if (c == '\0' || c == ',' || isspace((unsigned char)c))
    return scan_fail(s, "expected a value after the operator");
  if (c == '.' || strchr("=!~", c) != NULL)
    return scan_fail(s, "a value starting with this character must be quoted");
  while (*s->p != '\0' && *s->p != ',' && !isspace((unsigned char)*s->p)) {
    if (iscntrl((unsigned char)*s->p))
      return scan_fail(s, "control character in a value");
    s->p++;
  }
  return 0;
}

int
lc_event_filter_check(const char *expr, lc_error **err)
{
  struct filter_scan s = {expr, expr, err};
  skip_space(&s);
  if (*s.p == '\0')
    return scan_fail(&s, "empty filter");
  for (;;) {
    int regex;
    if (scan_fieldpath(&s) < 0 || (regex = scan_operator(&s)) < 0 || scan_value(&s, regex == 1) < 0)
      return -1;
    skip_space(&s);
    if (*s.p == '\0')
      return 0;
    if (*s.p != ',')
      return scan_fail(&s, "expected ',' or the end after a value");
    s.p++;
  }
}

/* ---- building the daemon's filters --------------------------------------- */

/* A growing string. */
struct strbuf {
  char *s;
  size_t len, cap;
};

static void
sb_add(struct strbuf *b, const char *s, size_t n)
{
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 128;
    while (cap < b->len + n + 1)
      cap *= 2;
    b->s = xrealloc(b->s, cap);
    b->cap = cap;
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

static void
sb_puts(struct strbuf *b, const char *s)
{
  sb_add(b, s, strlen(s));
}

/* Values go out as Go string literals, so no ID or namespace, whatever it
 * holds, can end the literal early and change the filter's meaning. */
static void
sb_quoted(struct strbuf *b, const char *v)
{
  sb_add(b, "\"", 1);
  for (; *v != '\0'; v++) {
    unsigned char c = (unsigned char)*v;
    char esc[8];
    if (c == '"' || c == '\\') {
      esc[0] = '\\', esc[1] = (char)c;
      sb_add(b, esc, 2);
    } else if (c < 0x20 || c == 0x7f) {
      snprintf(esc, sizeof(esc), "\\x%02x", c);
      sb_add(b, esc, 4);
    } else {
      sb_add(b, v, 1);
    }
  }
  sb_add(b, "\"", 1);
}

/* Besides the types: "any type" (the field naming the container is then
 * container_id), and "any event of the containers service" (where it is id). */
enum { ANY_TYPE = -1, ANY_CONTAINER_RECORD = -2 };

/* "unknown" is every topic that is not one of the known types'. */
static void
sb_type(struct strbuf *b, int type)
{
  if (type == ANY_CONTAINER_RECORD)
    sb_puts(b, ",topic~=\"^/containers/\"");
  if (type < 0)
    return;
  if (type != LC_EVENT_UNKNOWN) {
    sb_puts(b, ",topic==");
    sb_quoted(b, lc_event_type_topic((enum lc_event_type)type));
    return;
  }
  for (int t = 0; t < LC_EVENT_N_TYPES; t++) {
    if (t == LC_EVENT_UNKNOWN)
      continue;
    sb_puts(b, ",topic!=");
    sb_quoted(b, lc_event_type_topic((enum lc_event_type)t));
  }
}

/* One filter: everything in it must hold (comma is AND in containerd). */
static char *
build_one(const char *ns, int type, const char *container, const char *expr)
{
  struct strbuf b = {0};
  sb_puts(&b, "namespace==");
  sb_quoted(&b, ns);
  sb_type(&b, type);
  if (container != NULL) {
    bool record = type == ANY_CONTAINER_RECORD ||
                  (type >= 0 && lc_event_type_is_container_record((enum lc_event_type)type));
    sb_puts(&b, record ? ",event.id==" : ",event.container_id==");
    sb_quoted(&b, container);
  }
  if (expr != NULL) {
    sb_puts(&b, ",");
    sb_puts(&b, expr);
  }
  return b.s;
}

/* The wanted types as a list. No type stands for any type; with
 * containers, the containers service's events need a filter of their own,
 * since they name the container in another field. */
static size_t
wanted_types(unsigned mask, bool containers, int types[LC_EVENT_N_TYPES])
{
  size_t n = 0;
  for (int t = 0; t < LC_EVENT_N_TYPES; t++)
    if (mask & (1u << t))
      types[n++] = t;
  if (n == 0) {
    types[n++] = ANY_TYPE;
    if (containers)
      types[n++] = ANY_CONTAINER_RECORD;
  }
  return n;
}

int
lc_event_filters_build(const struct lc_event_filter *f, const char *ns, char ***out, size_t *n,
                       lc_error **err)
{
  int types[LC_EVENT_N_TYPES];
  size_t nt = wanted_types(f->types, f->n_containers > 0, types);
  size_t nc = f->n_containers ? f->n_containers : 1;
  size_t ne = f->n_exprs ? f->n_exprs : 1;
  if (nc > LC_EVENT_MAX_FILTERS || ne > LC_EVENT_MAX_FILTERS || nt * nc * ne > LC_EVENT_MAX_FILTERS)
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                        "too many combinations of types, containers and filters (at most %d)",
                        LC_EVENT_MAX_FILTERS);
  char **list = xcalloc(nt * nc * ne, sizeof(*list));
  size_t k = 0;
  for (size_t t = 0; t < nt; t++)
    for (size_t c = 0; c < nc; c++)
      for (size_t e = 0; e < ne; e++) {
        list[k++] =
            build_one(ns != NULL ? ns : "", types[t], f->n_containers ? f->containers[c] : NULL,
                      f->n_exprs ? f->exprs[e] : NULL);
      }
  *out = list;
  *n = k;
  return 0;
}

void
lc_event_filters_free(char **filters, size_t n)
{
  for (size_t i = 0; filters != NULL && i < n; i++)
    free(filters[i]);
  free(filters);
}

bool
lc_event_filter_match(const struct lc_event_filter *f, const struct lc_event *ev)
{
  if (f->types != 0 && !(f->types & (1u << ev->type)))
    return false;
  if (f->n_containers == 0)
    return true;
  for (size_t i = 0; ev->container_id != NULL && i < f->n_containers; i++)
    if (strcmp(f->containers[i], ev->container_id) == 0)
      return true;
  return false;
}
