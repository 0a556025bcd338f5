#define _GNU_SOURCE
#include "logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "parse.h"
#include "util.h"

/* The shim's pipes and ready signal (containerd's NewBinaryIO). */
#define LOGGER_FD_STDOUT 3
#define LOGGER_FD_STDERR 4
#define LOGGER_FD_READY 5
/* After SIGTERM the shim has closed its ends; what is left is drained for at
 * most this long (the shim kills us after 12 s). */
#define LOGGER_DRAIN_MS 2000
#define CHUNK 65536

#define log_usage(err, ...) lc_error_set((err), LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, __VA_ARGS__)

/* ---- URIs ---- */

char *
lc_log_binary_uri(const char *self_exe, const char *log_path, int64_t max_size, bool indexed)
{
  /* lc_file_uri escapes everything but letters, digits and "/-._~", which is
   * also what a query value needs. */
  cleanup_free char *exe = lc_file_uri(self_exe), *log = lc_file_uri(log_path);
  return xasprintf("binary://%s?%s=%s&%s=%lld%s", exe + 7, LC_LOGGER_ARG_PATH, log + 7,
                   LC_LOGGER_ARG_MAX_SIZE, (long long)max_size,
                   indexed ? "" : "&" LC_LOGGER_ARG_INDEX "=0");
}

char *
lc_log_path_of_uri(const char *uri)
{
  if (strncmp(uri, "file://", 7) == 0)
    return lc_file_uri_path(uri);
  if (strncmp(uri, "binary://", 9) != 0)
    return NULL;
  const char *q = strchr(uri, '?');
  for (const char *p = q; p != NULL; p = strchr(p + 1, '&')) {
    size_t klen = strlen(LC_LOGGER_ARG_PATH);
    if (strncmp(p + 1, LC_LOGGER_ARG_PATH, klen) == 0 && p[1 + klen] == '=') {
      const char *v = p + 2 + klen;
      cleanup_free char *file = xasprintf("file://%.*s", (int)strcspn(v, "&"), v);
      return lc_file_uri_path(file);
    }
  }
  return NULL;
}

/* ---- the logger ---- */

struct logger {
  const char *path;
  int64_t max_size;
  bool indexed; /* false: no PATH.idx (idx is -1) */
  int raw, idx;
  off_t size;
  bool at_line_start;
};

static volatile sig_atomic_t logger_terminating;

static void
on_term(int sig)
{
  (void)sig;
  logger_terminating = 1;
}

bool
lc_logger_invoked(int argc, char **argv)
{
  /* The shim passes the query's keys in any order (Go's map order). */
  return argc >= 3 && getenv("CONTAINER_ID") != NULL &&
         (strcmp(argv[1], LC_LOGGER_ARG_PATH) == 0 ||
          strcmp(argv[1], LC_LOGGER_ARG_MAX_SIZE) == 0 ||
          strcmp(argv[1], LC_LOGGER_ARG_INDEX) == 0);
}

static int
write_all(int fd, const char *buf, size_t len)
{
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Opens PATH and PATH.idx for appending; a log that ends mid-line continues
 * that line. */
static int
logger_open(struct logger *l, lc_error **err)
{
  cleanup_free char *idx = xasprintf("%s.idx", l->path);
  struct stat st;
  char last = '\n';
  l->raw = open(l->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (l->raw < 0)
    return lc_error_errno(err, errno, "log %s", l->path);
  l->idx = l->indexed ? open(idx, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640) : -1;
  if (l->indexed && l->idx < 0)
    return lc_error_errno(err, errno, "log index %s", idx);
  if (fstat(l->raw, &st) != 0)
    return lc_error_errno(err, errno, "log %s", l->path);
  l->size = st.st_size;
  if (l->size > 0 && pread(l->raw, &last, 1, l->size - 1) != 1)
    last = '\n';
  l->at_line_start = last == '\n';
  return 0;
}

/* PATH becomes PATH.1 (the older PATH.1 goes), and a new PATH begins. */
static int
logger_rotate(struct logger *l, lc_error **err)
{
  cleanup_free char *idx = xasprintf("%s.idx", l->path), *old = xasprintf("%s.1", l->path),
                    *old_idx = xasprintf("%s.1.idx", l->path);
  close(l->raw);
  if (l->indexed)
    close(l->idx);
  if (rename(l->path, old) != 0 || (l->indexed && rename(idx, old_idx) != 0))
    return lc_error_errno(err, errno, "rotating log %s", l->path);
  return logger_open(l, err);
}

/* Bytes to the current file: their line starts go to the index first, so
 * that a reader never sees bytes whose time is not written yet. */
static int
logger_append(struct logger *l, const char *buf, size_t n, const struct timespec ts, lc_error **err)
{
  size_t cap = 64, len = 0;
  cleanup_free char *idx = xmalloc(cap);
  for (size_t i = 0; i <= n; i++) {
    bool start = i == 0 ? l->at_line_start : (i < n && buf[i - 1] == '\n');
    if (!start)
      continue;
    if (cap - len < 48)
      idx = xrealloc(idx, cap *= 2);
    len += (size_t)snprintf(idx + len, cap - len, "%lld %lld.%09ld\n",
                            (long long)(l->size + (off_t)i), (long long)ts.tv_sec, ts.tv_nsec);
  }
  if ((l->indexed && write_all(l->idx, idx, len) != 0) || write_all(l->raw, buf, n) != 0)
    return lc_error_errno(err, errno, "writing log %s", l->path);
  l->size += (off_t)n;
  l->at_line_start = buf[n - 1] == '\n';
  return 0;
}

/* One chunk as read. A log past its size rotates at the next line start, so
 * that no line is split between two files. */
static int
logger_write(struct logger *l, const char *buf, size_t n, lc_error **err)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (l->max_size > 0 && l->size >= l->max_size) {
    const char *nl = l->at_line_start ? NULL : memchr(buf, '\n', n);
    size_t head = l->at_line_start ? 0 : nl != NULL ? (size_t)(nl - buf) + 1 : n;
    if (head > 0 && logger_append(l, buf, head, ts, err) != 0)
      return -1;
    if (head == n)
      return 0;
    if (logger_rotate(l, err) != 0)
      return -1;
    buf += head;
    n -= head;
  }
  return logger_append(l, buf, n, ts, err);
}

/* KEY VALUE pairs, as the shim passes the URI's query. */
static int
logger_args(int argc, char **argv, struct logger *l, lc_error **err)
{
  l->max_size = LC_LOG_DEFAULT_MAX_SIZE;
  l->indexed = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], LC_LOGGER_ARG_PATH) == 0)
      l->path = argv[i + 1];
    else if (strcmp(argv[i], LC_LOGGER_ARG_MAX_SIZE) == 0)
      l->max_size = strtoll(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], LC_LOGGER_ARG_INDEX) == 0)
      l->indexed = strcmp(argv[i + 1], "0") != 0;
  }
  if (l->path == NULL || l->path[0] != '/')
    return log_usage(err, "logger: no absolute %s argument", LC_LOGGER_ARG_PATH);
  return 0;
}

/* Reads whatever fd has; 0 at its end. */
static ssize_t
logger_read(struct logger *l, int fd, lc_error **err)
{
  char buf[CHUNK];
  ssize_t n = read(fd, buf, sizeof(buf));
  if (n < 0)
    return errno == EINTR || errno == EAGAIN ? 1 : 0;
  if (n > 0 && logger_write(l, buf, (size_t)n, err) != 0)
    return -1;
  return n;
}

int
lc_logger_run(int argc, char **argv, lc_error **err)
{
  struct logger l = {0};
  struct sigaction sa = {.sa_handler = on_term};
  sigaction(SIGTERM, &sa, NULL);
  if (logger_args(argc, argv, &l, err) != 0 || logger_open(&l, err) != 0)
    return -1;
  close(LOGGER_FD_READY);
  struct pollfd fds[2] = {{LOGGER_FD_STDOUT, POLLIN, 0}, {LOGGER_FD_STDERR, POLLIN, 0}};
  int open_fds = 2;
  int64_t deadline = -1;
  while (open_fds > 0) {
    if (logger_terminating && deadline < 0)
      deadline = lc_monotonic_ms() + LOGGER_DRAIN_MS;
    int timeout = deadline < 0 ? -1 : (int)(deadline - lc_monotonic_ms());
    if (deadline >= 0 && timeout <= 0)
      break;
    if (poll(fds, 2, timeout) < 0 && errno != EINTR)
      return lc_error_errno(err, errno, "logger poll");
    for (int i = 0; i < 2; i++) {
      if (fds[i].fd < 0 || fds[i].revents == 0)
        continue;
      ssize_t n = logger_read(&l, fds[i].fd, err);
      if (n < 0)
        return -1;
      if (n == 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        open_fds--;
      }
    }
  }
  if (l.indexed && write_all(l.idx, "end\n", 4) != 0)
    return lc_error_errno(err, errno, "writing log index");
  return 0;
}

/* ---- reading ---- */

/* PATH.1 (file 0) or PATH (file 1), and their indexes. */
static char *
file_path(const struct lc_log *log, int file, bool index)
{
  return xasprintf("%s%s%s", log->path, file == 0 ? ".1" : "", index ? ".idx" : "");
}

int
lc_log_open(const char *path, struct lc_log *log, lc_error **err)
{
  struct stat st;
  memset(log, 0, sizeof(*log));
  cleanup_free char *older = xasprintf("%s.1", path);
  /* A rotation renames PATH to PATH.1 before it makes a new PATH. */
  if (stat(path, &st) != 0 && (errno != ENOENT || stat(older, &st) != 0))
    return lc_error_errno(err, errno, "log %s", path);
  if (!S_ISREG(st.st_mode))
    return lc_error_set(err, LC_ERR_LOCAL, LC_GRPC_FAILED_PRECONDITION,
                        "log %s is not a regular file", path);
  log->path = xstrdup(path);
  cleanup_free char *idx = file_path(log, 1, true), *older_idx = file_path(log, 0, true);
  log->indexed = access(idx, R_OK) == 0 || access(older_idx, R_OK) == 0;
  return 0;
}

void
lc_log_close(struct lc_log *log)
{
  free(log->path);
  memset(log, 0, sizeof(*log));
}

static off_t
file_size(const struct lc_log *log, int file)
{
  cleanup_free char *p = file_path(log, file, false);
  struct stat st;
  return stat(p, &st) == 0 ? st.st_size : -1;
}

struct lc_log_pos
lc_log_begin(const struct lc_log *log)
{
  return (struct lc_log_pos){.file = file_size(log, 0) >= 0 ? 0 : 1};
}

/* Scans file backwards for the n-th line start from its end; *count carries
 * over between files. The very last newline of the log ends a line rather
 * than starting one, hence *skip_final. Returns true when found. */
static bool
tail_in_file(const struct lc_log *log, int file, int64_t n, int64_t *count, bool *skip_final,
             off_t *found)
{
  cleanup_free char *p = file_path(log, file, false);
  cleanup_close int fd = open(p, O_RDONLY | O_CLOEXEC);
  char buf[CHUNK];
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0)
    return false;
  for (off_t end = st.st_size; end > 0;) {
    off_t start = end > CHUNK ? end - CHUNK : 0;
    ssize_t got = pread(fd, buf, (size_t)(end - start), start);
    if (got <= 0)
      return false;
    for (ssize_t i = got; i-- > 0;) {
      bool final = *skip_final;
      *skip_final = false;
      if (buf[i] != '\n' || final)
        continue;
      if (++*count == n) {
        *found = start + i + 1;
        return true;
      }
    }
    end = start;
  }
  return false;
}

int
lc_log_tail(const struct lc_log *log, int64_t n, struct lc_log_pos *pos, lc_error **err)
{
  (void)err;
  int64_t count = 0;
  bool skip_final = true;
  off_t found = 0;
  if (n <= 0) {
    off_t size = file_size(log, 1);
    *pos = (struct lc_log_pos){.file = 1, .offset = size > 0 ? size : 0};
    return 0;
  }
  for (int file = 1; file >= 0; file--) {
    if (file_size(log, file) < 0)
      continue;
    if (tail_in_file(log, file, n, &count, &skip_final, &found)) {
      *pos = (struct lc_log_pos){.file = file, .offset = found};
      return 0;
    }
  }
  *pos = lc_log_begin(log);
  return 0;
}

/* Reads "OFFSET SEC.NSEC" index lines in order. */
struct index_reader {
  FILE *f;
  bool have_next;
  int64_t next_offset, next_ns;
  int64_t ns; /* time of the last entry at or before the asked offset */
};

static bool
index_next(struct index_reader *r)
{
  char line[96];
  long long off, sec;
  long nsec;
  r->have_next = false;
  if (r->f == NULL)
    return false;
  while (fgets(line, sizeof(line), r->f) != NULL) {
    if (sscanf(line, "%lld %lld.%ld", &off, &sec, &nsec) == 3) {
      r->next_offset = off;
      r->next_ns = sec * 1000000000LL + nsec;
      r->have_next = true;
      return true;
    }
  }
  clearerr(r->f); /* a log being written: more may come */
  return false;
}

/* The time of the line starting at offset (entries are in offset order). */
static int64_t
index_time(struct index_reader *r, off_t offset)
{
  if (!r->have_next)
    index_next(r);
  while (r->have_next && r->next_offset <= offset) {
    r->ns = r->next_ns;
    index_next(r);
  }
  return r->ns;
}

static void
index_close(struct index_reader *r)
{
  if (r->f != NULL)
    fclose(r->f);
  memset(r, 0, sizeof(*r));
}

int
lc_log_since(const struct lc_log *log, int64_t since_ns, struct lc_log_pos *pos, lc_error **err)
{
  if (!log->indexed)
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_FAILED_PRECONDITION,
                        "log %s has no timestamps (the shim wrote it: --log FILE)", log->path);
  for (int file = 0; file <= 1; file++) {
    cleanup_free char *p = file_path(log, file, true);
    struct index_reader r = {.f = fopen(p, "re")};
    while (index_next(&r)) {
      if (r.next_ns >= since_ns) {
        *pos = (struct lc_log_pos){.file = file, .offset = r.next_offset};
        index_close(&r);
        return 0;
      }
    }
    index_close(&r);
  }
  off_t size = file_size(log, 1);
  *pos = (struct lc_log_pos){.file = 1, .offset = size > 0 ? size : 0};
  return 0;
}

/* The file being read, held open from one copy to the next: a rotation
 * renames it, but the reader keeps reading it to its end (the logger never
 * writes to it again), and its inode cannot be reused while it is open, so
 * a rotation is told by comparing it with what PATH names now. */
struct lc_log_reader {
  int fd;
  struct index_reader index; /* f is NULL without --timestamps */
};

void
lc_log_pos_clear(struct lc_log_pos *pos)
{
  if (pos->reader == NULL)
    return;
  close(pos->reader->fd);
  index_close(&pos->reader->index);
  free(steal_pointer(&pos->reader));
}

/* Whether fd is the file PATH names (false in a rotation's window too). */
static bool
is_current(const struct lc_log *log, int fd)
{
  struct stat now, held;
  return stat(log->path, &now) == 0 && fstat(fd, &held) == 0 && now.st_ino == held.st_ino &&
         now.st_dev == held.st_dev;
}

/* Opens pos->file with its index. PATH.1 gone means PATH; PATH not there
 * (yet, or in a rotation's window) returns 0 and leaves pos->reader NULL.
 * PATH and PATH.idx are renamed one after the other, so PATH is opened,
 * then its index, then PATH checked to be still the same file. */
static int
reader_open(const struct lc_log *log, struct lc_log_pos *pos, bool timestamps, lc_error **err)
{
  for (int attempt = 0; attempt < 5; attempt++) {
    cleanup_free char *p = file_path(log, pos->file, false);
    cleanup_close int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && pos->file == 0) {
      *pos = (struct lc_log_pos){.file = 1};
      continue;
    }
    if (fd < 0)
      return errno == ENOENT ? 0 : lc_error_errno(err, errno, "log %s", p);
    cleanup_free char *ip = timestamps ? file_path(log, pos->file, true) : NULL;
    FILE *index = ip != NULL ? fopen(ip, "re") : NULL;
    if (pos->file == 1 && !is_current(log, fd) && attempt < 4) {
      if (index != NULL)
        fclose(index);
      continue;
    }
    pos->reader = xcalloc(1, sizeof(*pos->reader));
    pos->reader->fd = steal_fd(&fd);
    pos->reader->index.f = index;
    return 1;
  }
  return 0;
}

/* State of one copy: where line starts are, and the index for their times. */
struct copier {
  bool timestamps, at_line_start;
  struct index_reader *index;
  lc_log_sink sink;
  void *ud;
};

/* Hands buf (read at offset) to the sink a line piece at a time, with the
 * time of the line when it starts one. */
static bool
emit(struct copier *c, const char *buf, size_t n, off_t offset)
{
  while (n > 0) {
    int64_t ns = c->timestamps && c->at_line_start ? index_time(c->index, offset) : 0;
    const char *nl = memchr(buf, '\n', n);
    size_t part = nl != NULL ? (size_t)(nl - buf) + 1 : n;
    if (!c->sink(buf, part, c->at_line_start, ns, c->ud))
      return false;
    c->at_line_start = nl != NULL;
    buf += part;
    n -= part;
    offset += (off_t)part;
  }
  return true;
}

/* Copies the open file from pos->offset to its current end. Returns 1 if
 * the sink stopped, -1 on a read error. */
static int
copy_open(const struct lc_log *log, struct lc_log_pos *pos, struct copier *c, lc_error **err)
{
  int fd = pos->reader->fd;
  char buf[CHUNK], last = '\n';
  struct stat st;
  c->index = &pos->reader->index;
  /* Cut short under us (`: > LOG`, copytruncate): what comes is at its start. */
  if (fstat(fd, &st) == 0 && st.st_size < pos->offset) {
    pos->offset = 0;
    if (c->index->f != NULL) {
      rewind(c->index->f);
      *c->index = (struct index_reader){.f = c->index->f};
    }
  }
  c->at_line_start =
      pos->offset == 0 || (pread(fd, &last, 1, pos->offset - 1) == 1 && last == '\n');
  for (;;) {
    ssize_t n = pread(fd, buf, sizeof(buf), pos->offset);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int e = errno;
      cleanup_free char *p = file_path(log, pos->file, false);
      return lc_error_errno(err, e, "reading log %s", p);
    }
    if (n == 0)
      return 0;
    if (!emit(c, buf, (size_t)n, pos->offset))
      return 1;
    pos->offset += n;
  }
}

/* Rotations a copy follows at most: any more and it returns, to be called
 * again (a writer faster than the reader must not keep it here forever). */
#define MAX_HOPS 4

int
lc_log_copy(const struct lc_log *log, struct lc_log_pos *pos, bool timestamps, lc_log_sink sink,
            void *ud, lc_error **err)
{
  struct copier c = {.timestamps = timestamps, .sink = sink, .ud = ud};
  if (timestamps && !log->indexed)
    return lc_error_set(err, LC_ERR_USAGE, LC_GRPC_FAILED_PRECONDITION,
                        "log %s has no timestamps (the shim wrote it: --log FILE)", log->path);
  for (int hop = 0; hop < MAX_HOPS; hop++) {
    if (pos->reader == NULL) {
      int rv = reader_open(log, pos, timestamps, err);
      if (rv <= 0)
        return rv;
    }
    int rv = copy_open(log, pos, &c, err);
    if (rv != 0)
      return rv;
    /* PATH.1 is complete; PATH is complete once renamed, and what the
     * logger wrote before renaming it is read before moving on. */
    if (pos->file == 1 && is_current(log, pos->reader->fd))
      return 0;
    if (pos->file == 1 && (rv = copy_open(log, pos, &c, err)) != 0)
      return rv;
    lc_log_pos_clear(pos);
    *pos = (struct lc_log_pos){.file = 1};
  }
  return 0;
}

bool
lc_log_ended(const struct lc_log *log)
{
  cleanup_free char *p = file_path(log, 1, true);
  cleanup_close int fd = open(p, O_RDONLY | O_CLOEXEC);
  struct stat st;
  char tail[4];
  return fd >= 0 && fstat(fd, &st) == 0 && st.st_size >= 4 &&
         pread(fd, tail, 4, st.st_size - 4) == 4 && memcmp(tail, "end\n", 4) == 0;
}

/* RFC 3339 with an optional fraction and a Z or +HH:MM offset. */
static bool
parse_rfc3339(const char *s, int64_t *out_ns)
{
  struct tm tm = {0};
  int consumed = 0;
  long long frac = 0;
  int frac_digits = 0;
  if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
             &tm.tm_min, &tm.tm_sec, &consumed) != 6)
    return false;
  const char *p = s + consumed;
  if (*p == '.')
    for (p++; *p >= '0' && *p <= '9'; p++, frac_digits++)
      if (frac_digits < 9)
        frac = frac * 10 + (*p - '0');
  for (int i = frac_digits; i < 9; i++)
    frac *= 10;
  int sign = 0, oh = 0, om = 0;
  if (*p == 'Z' || *p == 'z')
    p++;
  else if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh, &om) == 2) {
    sign = *p == '+' ? 1 : -1;
    p += 6;
  } else
    return false;
  if (*p != '\0')
    return false;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  int64_t sec = (int64_t)timegm(&tm) - sign * (oh * 3600 + om * 60);
  /* Past 2262 nanoseconds overflow: later than any log line anyway. */
  *out_ns = sec > INT64_MAX / 1000000000LL - 1 ? INT64_MAX : sec * 1000000000LL + frac;
  return true;
}

int
lc_log_parse_since(const char *s, int64_t now_ns, int64_t *out_ns, lc_error **err)
{
  int64_t ms = 0;
  lc_error *perr = NULL;
  if (parse_rfc3339(s, out_ns))
    return 0;
  if (parse_duration_ms(s, &ms, &perr) == 0) {
    *out_ns = now_ns - ms * 1000000LL;
    return 0;
  }
  lc_error_free(perr);
  return log_usage(
      err, "invalid --since '%s': expected RFC 3339 (2026-11-29T22:00:00Z) or a duration (10m)", s);
}
