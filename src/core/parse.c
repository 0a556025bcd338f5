#define _GNU_SOURCE
#include "parse.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* Every parser here fails the same way: a usage error that names the input. */
static int
usage_error(lc_error **err, const char *what, const char *input, const char *why)
{
  return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, "invalid %s \"%s\": %s", what,
                      input, why);
}

static bool
is_digit(char c)
{
  return c >= '0' && c <= '9';
}

static bool
is_alnum_ascii(char c)
{
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A decimal number split into what the scaled parsers need: the whole part,
 * and the digits after the point, kept as text so scaling stays exact. */
struct decimal {
  uint64_t whole;
  const char *frac;
  size_t frac_len;
  bool has_point;
};

/* Reads DIGITS[.DIGITS] (at least one digit somewhere) from *p and advances
 * it. Returns false when there is no number or the whole part overflows. */
static bool
read_decimal(const char **p, struct decimal *d)
{
  const char *s = *p;
  size_t digits = 0;
  *d = (struct decimal){.whole = 0, .frac = "", .frac_len = 0, .has_point = false};
  for (; is_digit(*s); s++, digits++) {
    if (__builtin_mul_overflow(d->whole, 10, &d->whole) ||
        __builtin_add_overflow(d->whole, (uint64_t)(*s - '0'), &d->whole))
      return false;
  }
  if (*s == '.') {
    d->has_point = true;
    d->frac = ++s;
    for (; is_digit(*s); s++, digits++)
      d->frac_len++;
  }
  if (digits == 0)
    return false;
  *p = s;
  return true;
}

/* floor(unit * 0.DIGITS), exactly and without overflow: Horner's rule from
 * the last digit, floor(a + floor(x)) / 10 being floor((a + x) / 10). Every
 * step stays below 10 * unit. */
static uint64_t
scale_fraction(uint64_t unit, const char *digits, size_t len)
{
  uint64_t v = 0;
  while (len-- > 0)
    v = ((uint64_t)(digits[len] - '0') * unit + v) / 10;
  return v;
}

/* whole * unit + fraction * unit, or false past INT64_MAX. unit must be
 * below INT64_MAX / 10 so the fraction cannot overflow. */
static bool
scale_decimal(const struct decimal *d, uint64_t unit, uint64_t *out)
{
  uint64_t v;
  if (__builtin_mul_overflow(d->whole, unit, &v) ||
      __builtin_add_overflow(v, scale_fraction(unit, d->frac, d->frac_len), &v) || v > INT64_MAX)
    return false;
  *out = v;
  return true;
}

struct unit {
  const char *name;
  uint64_t ns;
};

/* Longer names first, so "ms" wins over "m". "µs" comes in both Unicode
 * spellings Go accepts (micro sign and Greek mu). */
static const struct unit duration_units[] = {
    {"ns", 1ULL},
    {"us", 1000ULL},
    {"\xc2\xb5s", 1000ULL},
    {"\xce\xbcs", 1000ULL},
    {"ms", 1000000ULL},
    {"s", 1000000000ULL},
    {"m", 60ULL * 1000000000ULL},
    {"h", 3600ULL * 1000000000ULL},
};

/* Matches a duration unit at *p, advancing past it; NULL when none fits. */
static const struct unit *
read_duration_unit(const char **p)
{
  for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
    size_t n = strlen(duration_units[i].name);
    if (strncmp(*p, duration_units[i].name, n) == 0) {
      *p += n;
      return &duration_units[i];
    }
  }
  return NULL;
}

/* Nanoseconds fit 292 years in an int64, so summing in nanoseconds keeps
 * "1.5us" exact; the final rounding up to milliseconds keeps 1us from
 * becoming "no timeout". */
int
parse_duration_ms(const char *s, int64_t *out_ms, lc_error **err)
{
  const char *what = "duration";
  if (s == NULL || *s == '\0')
    return usage_error(err, what, "", "empty value");
  if (*s == '-')
    return usage_error(err, what, s, "must not be negative");
  if (strcmp(s, "0") == 0) {
    *out_ms = 0;
    return 0;
  }
  uint64_t total_ns = 0;
  for (const char *p = s; *p != '\0';) {
    struct decimal d;
    uint64_t part;
    if (!is_digit(*p) && *p != '.')
      return usage_error(err, what, s, "expected a number such as 500ms, 10s, 2m or 1h30m");
    if (!read_decimal(&p, &d))
      return usage_error(err, what, s, "number malformed or too large");
    const struct unit *u = read_duration_unit(&p);
    if (u == NULL)
      return usage_error(err, what, s, "missing or unknown unit (use ns, us, ms, s, m or h)");
    if (!scale_decimal(&d, u->ns, &part) || __builtin_add_overflow(total_ns, part, &total_ns) ||
        total_ns > INT64_MAX)
      return usage_error(err, what, s, "too large");
  }
  *out_ms = (int64_t)(total_ns / 1000000 + (total_ns % 1000000 != 0));
  return 0;
}

/* The power of 1024 a size suffix stands for, or 0 if c is no suffix. */
static uint64_t
size_multiplier(char c)
{
  switch (c) {
  case 'k':
  case 'K':
    return 1ULL << 10;
  case 'm':
  case 'M':
    return 1ULL << 20;
  case 'g':
  case 'G':
    return 1ULL << 30;
  case 't':
  case 'T':
    return 1ULL << 40;
  case 'p':
  case 'P':
    return 1ULL << 50;
  default:
    return 0;
  }
}

/* Memory limits are what users write here; docker and ctr users expect
 * binary multiples, and "64MiB" or "1gb" to mean the same as "64m", "1g". */
int
parse_size_bytes(const char *s, int64_t *out, lc_error **err)
{
  const char *what = "size";
  const char *p = s;
  struct decimal d;
  uint64_t mult = 1, bytes;
  if (s == NULL || *s == '\0')
    return usage_error(err, what, "", "empty value");
  if (*s == '-')
    return usage_error(err, what, s, "must not be negative");
  if (!is_digit(*p) && *p != '.')
    return usage_error(err, what, s, "expected a number with an optional k, m, g or t suffix");
  if (!read_decimal(&p, &d))
    return usage_error(err, what, s, "number malformed or too large");
  if (size_multiplier(*p) != 0) {
    mult = size_multiplier(*p++);
    if (*p == 'i' || *p == 'I')
      p++;
  }
  if (*p == 'b' || *p == 'B')
    p++;
  if (*p != '\0')
    return usage_error(err, what, s, "unknown suffix (use k, m, g or t, optionally with b or ib)");
  if (d.has_point && mult == 1)
    return usage_error(err, what, s, "a fraction of a byte makes no sense; add a k, m or g suffix");
  if (!scale_decimal(&d, mult, &bytes))
    return usage_error(err, what, s, "too large");
  *out = (int64_t)bytes;
  return 0;
}

struct signal_entry {
  const char *name; /* with the "SIG" prefix, as signal_name() returns it */
  int signo;
};

/* Standard Linux signals, aliases after the canonical name so that
 * signal_name() finds the canonical one first. */
static const struct signal_entry signal_table[] = {
    {"SIGHUP", SIGHUP},   {"SIGINT", SIGINT},       {"SIGQUIT", SIGQUIT}, {"SIGILL", SIGILL},
    {"SIGTRAP", SIGTRAP}, {"SIGABRT", SIGABRT},     {"SIGBUS", SIGBUS},   {"SIGFPE", SIGFPE},
    {"SIGKILL", SIGKILL}, {"SIGUSR1", SIGUSR1},     {"SIGSEGV", SIGSEGV}, {"SIGUSR2", SIGUSR2},
    {"SIGPIPE", SIGPIPE}, {"SIGALRM", SIGALRM},     {"SIGTERM", SIGTERM}, {"SIGSTKFLT", SIGSTKFLT},
    {"SIGCHLD", SIGCHLD}, {"SIGCONT", SIGCONT},     {"SIGSTOP", SIGSTOP}, {"SIGTSTP", SIGTSTP},
    {"SIGTTIN", SIGTTIN}, {"SIGTTOU", SIGTTOU},     {"SIGURG", SIGURG},   {"SIGXCPU", SIGXCPU},
    {"SIGXFSZ", SIGXFSZ}, {"SIGVTALRM", SIGVTALRM}, {"SIGPROF", SIGPROF}, {"SIGWINCH", SIGWINCH},
    {"SIGIO", SIGIO},     {"SIGPWR", SIGPWR},       {"SIGSYS", SIGSYS},   {"SIGIOT", SIGIOT},
    {"SIGCLD", SIGCHLD},  {"SIGPOLL", SIGPOLL},
};

/* Real-time signals as a container's libc sees them: glibc and musl keep 32
 * and 33 for themselves, so SIGRTMIN is 34 inside the container whatever our
 * own libc says. SIGRTMAX is the kernel's last signal, 64. */
#define RT_SIGNAL_MIN 34
#define RT_SIGNAL_MAX 64

/* Names for 34..64 in the form docker and ctr print: counting up from RTMIN
 * for the first half and down from RTMAX for the second. */
static const char *const rt_signal_names[RT_SIGNAL_MAX - RT_SIGNAL_MIN + 1] = {
    "SIGRTMIN",    "SIGRTMIN+1",  "SIGRTMIN+2",  "SIGRTMIN+3",  "SIGRTMIN+4",  "SIGRTMIN+5",
    "SIGRTMIN+6",  "SIGRTMIN+7",  "SIGRTMIN+8",  "SIGRTMIN+9",  "SIGRTMIN+10", "SIGRTMIN+11",
    "SIGRTMIN+12", "SIGRTMIN+13", "SIGRTMIN+14", "SIGRTMIN+15", "SIGRTMAX-14", "SIGRTMAX-13",
    "SIGRTMAX-12", "SIGRTMAX-11", "SIGRTMAX-10", "SIGRTMAX-9",  "SIGRTMAX-8",  "SIGRTMAX-7",
    "SIGRTMAX-6",  "SIGRTMAX-5",  "SIGRTMAX-4",  "SIGRTMAX-3",  "SIGRTMAX-2",  "SIGRTMAX-1",
    "SIGRTMAX",
};

/* Digits only, within [0, max]; used for signal numbers and RT offsets. */
static bool
read_small_number(const char *s, int max, int *out)
{
  int v = 0;
  if (*s == '\0')
    return false;
  for (; *s != '\0'; s++) {
    if (!is_digit(*s))
      return false;
    v = v * 10 + (*s - '0');
    if (v > max)
      return false;
  }
  *out = v;
  return true;
}

/* "RTMIN", "RTMIN+N", "RTMAX", "RTMAX-N" (prefix already stripped). */
static bool
lookup_rt_signal(const char *name, int *signo)
{
  const int span = RT_SIGNAL_MAX - RT_SIGNAL_MIN;
  int offset = 0;
  if (strncasecmp(name, "RTMIN", 5) == 0) {
    if (name[5] != '\0' && (name[5] != '+' || !read_small_number(name + 6, span, &offset)))
      return false;
    *signo = RT_SIGNAL_MIN + offset;
    return true;
  }
  if (strncasecmp(name, "RTMAX", 5) == 0) {
    if (name[5] != '\0' && (name[5] != '-' || !read_small_number(name + 6, span, &offset)))
      return false;
    *signo = RT_SIGNAL_MAX - offset;
    return true;
  }
  return false;
}

/* A signal name without "SIG", any case, to its number. */
static bool
lookup_signal_name(const char *name, int *signo)
{
  for (size_t i = 0; i < sizeof(signal_table) / sizeof(signal_table[0]); i++) {
    if (strcasecmp(name, signal_table[i].name + 3) == 0) {
      *signo = signal_table[i].signo;
      return true;
    }
  }
  return lookup_rt_signal(name, signo);
}

/* kill -s takes what users type at kill(1) and docker kill: names with or
 * without SIG, any case, or plain numbers. */
int
parse_signal(const char *s, int *out_signo, lc_error **err)
{
  const char *what = "signal";
  int signo;
  if (s == NULL || *s == '\0')
    return usage_error(err, what, "", "empty value");
  if (is_digit(*s)) {
    if (!read_small_number(s, LC_SIGNAL_MAX, &signo) || signo == 0)
      return usage_error(err, what, s, "signal numbers go from 1 to 64");
    *out_signo = signo;
    return 0;
  }
  const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
  if (!lookup_signal_name(name, &signo))
    return usage_error(err, what, s, "unknown signal name (try TERM, KILL, HUP, INT, USR1)");
  *out_signo = signo;
  return 0;
}

/* Output and error messages show the name users know, not the number. */
const char *
signal_name(int signo)
{
  if (signo >= RT_SIGNAL_MIN && signo <= RT_SIGNAL_MAX)
    return rt_signal_names[signo - RT_SIGNAL_MIN];
  for (size_t i = 0; i < sizeof(signal_table) / sizeof(signal_table[0]); i++) {
    if (signal_table[i].signo == signo)
      return signal_table[i].name;
  }
  return NULL;
}

/* --cpus becomes a CFS quota of cpus * 100ms per 100ms; below 0.01 the
 * kernel's 1ms minimum quota is not met, and exponents or "inf" would only
 * hide typos. */
int
parse_cpus(const char *s, double *out, lc_error **err)
{
  const char *what = "CPU count";
  const char *p = s;
  struct decimal d;
  if (s == NULL || *s == '\0')
    return usage_error(err, what, "", "empty value");
  if (*s == '-')
    return usage_error(err, what, s, "must not be negative");
  if (!read_decimal(&p, &d) || *p != '\0')
    return usage_error(err, what, s, "expected a decimal number such as 0.5 or 2");
  if (d.whole > (uint64_t)LC_CPUS_MAX)
    return usage_error(err, what, s, "at most 10000 CPUs");
  /* one rounding only: whole and billionths are exact in a double */
  uint64_t billionths = d.whole * 1000000000ULL + scale_fraction(1000000000ULL, d.frac, d.frac_len);
  double v = (double)billionths / 1e9;
  if (v < LC_CPUS_MIN)
    return usage_error(err, what, s, "must be at least 0.01");
  if (v > LC_CPUS_MAX)
    return usage_error(err, what, s, "at most 10000 CPUs");
  *out = v;
  return 0;
}

/* Digits only into *out, refusing overflow and values above max. */
static bool
read_uint(const char *s, uint64_t max, uint64_t *out)
{
  uint64_t v = 0;
  if (*s == '\0')
    return false;
  for (; *s != '\0'; s++) {
    if (!is_digit(*s) || __builtin_mul_overflow(v, 10, &v) ||
        __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v) || v > max)
      return false;
  }
  *out = v;
  return true;
}

/* strtoull would accept "-1", " 5" and "0x10"; counts and limits should be
 * exactly the digits the user meant. */
int
parse_uint_arg(const char *s, const char *what, uint64_t max, uint64_t *out, lc_error **err)
{
  uint64_t v;
  if (s == NULL || *s == '\0')
    return usage_error(err, what, "", "empty value");
  if (*s == '-')
    return usage_error(err, what, s, "must not be negative");
  if (!read_uint(s, max, &v)) {
    bool digits_only = strspn(s, "0123456789") == strlen(s);
    if (!digits_only)
      return usage_error(err, what, s, "expected a whole number");
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                        "invalid %s \"%s\": at most %llu", what, s, (unsigned long long)max);
  }
  *out = v;
  return 0;
}

/* containerd refuses bad IDs only after a round trip and in its own words;
 * checking here gives a usage error before anything is sent. */
int
validate_identifier(const char *what, const char *id, lc_error **err)
{
  const char *why = "use letters, digits and single '.', '_' or '-' between them";
  if (id == NULL || *id == '\0')
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, "%s must not be empty", what);
  size_t len = strlen(id);
  if (len > LC_ID_MAX_LEN)
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT,
                        "invalid %s \"%s\": longer than %d characters", what, id, LC_ID_MAX_LEN);
  if (!is_alnum_ascii(id[0]) || !is_alnum_ascii(id[len - 1]))
    return usage_error(err, what, id, "must start and end with a letter or digit");
  for (size_t i = 1; i < len; i++) {
    bool sep = strchr("._-", id[i]) != NULL;
    bool prev_sep = strchr("._-", id[i - 1]) != NULL;
    if ((!sep && !is_alnum_ascii(id[i])) || (sep && prev_sep))
      return usage_error(err, what, id, why);
  }
  return 0;
}

int
validate_container_id(const char *id, lc_error **err)
{
  return validate_identifier("container ID", id, err);
}

/* --env and --label both take KEY=VALUE; a value may itself contain '='. */
/* The length of the UTF-8 sequence at s (1-4) and its code point, or 0 when
 * the bytes there are not one (overlong forms and surrogates included). */
size_t
lc_utf8_decode(const unsigned char *s, uint32_t *cp)
{
  size_t len = s[0] < 0x80                   ? 1
               : s[0] >= 0xc2 && s[0] < 0xe0 ? 2
               : s[0] >= 0xe0 && s[0] < 0xf0 ? 3
               : s[0] >= 0xf0 && s[0] < 0xf5 ? 4
                                             : 0;
  if (len == 0)
    return 0;
  uint32_t c = len == 1 ? s[0] : (uint32_t)(s[0] & (0x7f >> len));
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    c = (c << 6) | (s[i] & 0x3f);
  }
  static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
  if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
    return 0;
  *cp = c;
  return len;
}

/* Protobuf strings are UTF-8 by definition, and containerd 2.x refuses
 * others outright, so text the user gives for the wire is checked here. */
bool
lc_utf8_valid(const char *s)
{
  const unsigned char *p = (const unsigned char *)s;
  uint32_t c;
  while (*p != '\0') {
    size_t len = lc_utf8_decode(p, &c);
    if (len == 0)
      return false;
    p += len;
  }
  return true;
}

int
parse_key_value(const char *s, char **key, char **value, lc_error **err)
{
  const char *what = "KEY=VALUE";
  if (s == NULL)
    return usage_error(err, what, "", "empty value");
  const char *eq = strchr(s, '=');
  if (eq == NULL)
    return usage_error(err, what, s, "missing '='");
  if (eq == s)
    return usage_error(err, what, s, "empty key");
  if (!lc_utf8_valid(s))
    return usage_error(err, what, s, "not valid UTF-8 (containerd takes only UTF-8 text)");
  *key = xstrndup(s, (size_t)(eq - s));
  *value = xstrdup(eq + 1);
  return 0;
}

/* The shim parses a file:// URI as a URL and opens its decoded path, so a
 * '#', '?' or '%' in a file name must be escaped or the name is cut short
 * (or refused). Letters, digits, '/' and "-._~" go as they are. */
char *
lc_file_uri(const char *abs_path)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t len = strlen(abs_path);
  char *out = xmalloc(7 + 3 * len + 1), *o = out;
  memcpy(o, "file://", 7);
  o += 7;
  for (const unsigned char *p = (const unsigned char *)abs_path; *p; p++) {
    if (is_alnum_ascii((char)*p) || strchr("/-._~", *p) != NULL) {
      *o++ = (char)*p;
    } else {
      *o++ = '%';
      *o++ = hex[*p >> 4];
      *o++ = hex[*p & 15];
    }
  }
  *o = '\0';
  return out;
}

char *
lc_file_uri_path(const char *uri)
{
  if (strncmp(uri, "file://", 7) != 0 || uri[7] != '/')
    return NULL;
  const char *p = uri + 7;
  size_t len = strlen(p);
  char *out = xmalloc(len + 1);
  out[lc_percent_decode(out, p, len)] = '\0';
  return out;
}
