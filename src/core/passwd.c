#define _GNU_SOURCE
#include "passwd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "readfile.h"
#include "util.h"

/* /etc/passwd and /etc/group of a real system are kilobytes. */
#define ACCOUNT_FILE_MAX (4 * 1024 * 1024)
/* 4294967295 is (uid_t)-1, "no user", in the kernel's eyes. */
#define ID_MAX 4294967294ULL

#define user_error(err, ...)                                                                       \
  lc_error_set((err), LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, __VA_ARGS__)

/* A decimal ID, nothing else. */
static bool
parse_id(const char *s, size_t len, uint32_t *out)
{
  uint64_t v = 0;
  if (len == 0 || len > 10)
    return false;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (v > ID_MAX)
    return false;
  *out = (uint32_t)v;
  return true;
}

/* Field i (0-based) of a colon-separated line [line, end) as [*f, *f+*len). */
static bool
field(const char *line, const char *end, int i, const char **f, size_t *len)
{
  const char *p = line;
  for (; i > 0; i--) {
    p = memchr(p, ':', (size_t)(end - p));
    if (p == NULL)
      return false;
    p++;
  }
  const char *stop = memchr(p, ':', (size_t)(end - p));
  *f = p;
  *len = (size_t)((stop ? stop : end) - p);
  return true;
}

static bool
field_is(const char *f, size_t len, const char *s, size_t slen)
{
  return len == slen && memcmp(f, s, len) == 0;
}

/* Calls fn on each line that has at least `fields` fields; stops when fn
 * returns true. Comment and empty lines are skipped. */
static bool
each_line(const char *text, bool (*fn)(const char *line, const char *end, void *ud), void *ud)
{
  for (const char *line = text; text != NULL && *line != '\0';) {
    const char *end = strchr(line, '\n');
    if (end == NULL)
      end = line + strlen(line);
    if (end > line && line[0] != '#' && fn(line, end, ud))
      return true;
    line = *end ? end + 1 : end;
  }
  return false;
}

/* What a passwd search looks for (by name or by uid) and what it found. */
struct passwd_query {
  const char *name;
  size_t name_len;
  bool by_uid;
  uint32_t uid, gid;
  const char *found_name;
  size_t found_name_len;
};

static bool
passwd_match(const char *line, const char *end, void *ud)
{
  struct passwd_query *q = ud;
  const char *name, *uid, *gid;
  size_t nl, ul, gl;
  uint32_t u, g;
  if (!field(line, end, 0, &name, &nl) || !field(line, end, 2, &uid, &ul) ||
      !field(line, end, 3, &gid, &gl) || !parse_id(uid, ul, &u) || !parse_id(gid, gl, &g))
    return false;
  if (q->by_uid ? u != q->uid : !field_is(name, nl, q->name, q->name_len))
    return false;
  q->uid = u;
  q->gid = g;
  q->found_name = name;
  q->found_name_len = nl;
  return true;
}

/* A group by name: its gid. */
struct group_query {
  const char *name;
  size_t name_len;
  uint32_t gid;
};

static bool
group_match(const char *line, const char *end, void *ud)
{
  struct group_query *q = ud;
  const char *name, *gid;
  size_t nl, gl;
  uint32_t g;
  if (!field(line, end, 0, &name, &nl) || !field(line, end, 2, &gid, &gl) ||
      !parse_id(gid, gl, &g) || !field_is(name, nl, q->name, q->name_len))
    return false;
  q->gid = g;
  return true;
}

/* Collects the gids of the groups whose member list names the user. */
struct member_query {
  const char *name;
  size_t name_len;
  uint32_t primary;
  struct lc_user *out;
};

static bool
member_match(const char *line, const char *end, void *ud)
{
  struct member_query *q = ud;
  const char *gid, *members;
  size_t gl, ml;
  uint32_t g;
  if (!field(line, end, 2, &gid, &gl) || !parse_id(gid, gl, &g) ||
      !field(line, end, 3, &members, &ml) || g == q->primary)
    return false;
  for (const char *m = members, *stop = members + ml; m < stop;) {
    const char *comma = memchr(m, ',', (size_t)(stop - m));
    const char *mend = comma ? comma : stop;
    if (field_is(m, (size_t)(mend - m), q->name, q->name_len)) {
      struct lc_user *u = q->out;
      u->additional_gids = xrealloc(u->additional_gids, (u->n_additional_gids + 1) * sizeof(g));
      u->additional_gids[u->n_additional_gids++] = g;
      break;
    }
    m = mend + 1;
  }
  return false;
}

/* The user part: a name that must exist, or a number that may. */
static int
resolve_user_part(const char *spec, const char *user, size_t len, const char *passwd_text,
                  const char *where, struct passwd_query *q, lc_error **err)
{
  uint32_t uid;
  if (parse_id(user, len, &uid)) {
    q->by_uid = true;
    q->uid = uid;
    if (!each_line(passwd_text, passwd_match, q)) {
      q->gid = 0;
      q->found_name = NULL;
      q->uid = uid;
    }
    return 0;
  }
  q->name = user;
  q->name_len = len;
  if (len == 0 || memchr(user, '\n', len) != NULL || !each_line(passwd_text, passwd_match, q))
    return user_error(err, "user '%s': no user '%.*s' in %s/etc/passwd", spec, (int)len, user,
                      where);
  return 0;
}

int
lc_user_resolve(const char *spec, const char *passwd_text, const char *group_text,
                const char *where, struct lc_user *out, lc_error **err)
{
  struct passwd_query q = {0};
  const char *colon = spec != NULL ? strchr(spec, ':') : NULL;
  size_t ulen = spec == NULL ? 0 : colon ? (size_t)(colon - spec) : strlen(spec);
  memset(out, 0, sizeof(*out));
  if (spec == NULL || ulen == 0 || (colon != NULL && strchr(colon + 1, ':') != NULL))
    return user_error(err, "invalid user '%s': expected USER[:GROUP] (names or numbers)",
                      spec ? spec : "");
  if (resolve_user_part(spec, spec, ulen, passwd_text, where, &q, err) != 0)
    return -1;
  out->uid = q.uid;
  out->gid = q.gid;
  if (colon != NULL) {
    const char *group = colon + 1;
    struct group_query g = {group, strlen(group), 0};
    if (parse_id(group, g.name_len, &out->gid))
      ;
    else if (g.name_len == 0 || !each_line(group_text, group_match, &g))
      return user_error(err, "user '%s': no group '%s' in %s/etc/group", spec, group, where);
    else
      out->gid = g.gid;
  }
  if (q.found_name != NULL) {
    struct member_query m = {q.found_name, q.found_name_len, out->gid, out};
    each_line(group_text, member_match, &m);
  }
  return 0;
}

/* Without openat2 (kernels before 5.6, valgrind): rel resolved a component
 * at a time under root, never following a link as the kernel would; a link
 * is read and its target taken from root (absolute) or from its directory
 * (relative), at most 16 times. ".." is refused rather than emulated. */
static int
open_beneath(int root, const char *rel, int depth)
{
  cleanup_free char *path = xstrdup(rel);
  cleanup_close int dir = openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  char *save = NULL, *next = NULL;
  for (char *part = strtok_r(path, "/", &save); part != NULL; part = next) {
    next = strtok_r(NULL, "/", &save);
    if (strcmp(part, "..") == 0 || depth > 16)
      return errno = ELOOP, -1;
    int flags =
        O_NOFOLLOW | O_CLOEXEC | (next != NULL ? O_DIRECTORY | O_RDONLY : O_RDONLY | O_NONBLOCK);
    int fd = openat(dir, part, flags);
    if (fd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
      char target[PATH_MAX];
      ssize_t n = readlinkat(dir, part, target, sizeof(target) - 1);
      if (n <= 0)
        return -1;
      target[n] = '\0';
      cleanup_free char *prefix = NULL; /* the directory so far, relative to root */
      size_t done = (size_t)(part - path);
      prefix = target[0] == '/' ? xstrdup("") : xstrndup(rel, done);
      cleanup_free char *again =
          xasprintf("%s%s%s%s", prefix, target, next ? "/" : "", next ? rel + (next - path) : "");
      return open_beneath(root, again, depth + 1);
    }
    if (fd < 0)
      return -1;
    close(dir);
    dir = fd;
  }
  return steal_fd(&dir);
}

/* ROOT/etc/NAME with every link resolved inside ROOT (openat2's
 * RESOLVE_IN_ROOT, or open_beneath where there is none). */
static int
open_in_root(int root, const char *name)
{
  cleanup_free char *rel = xasprintf("etc/%s", name);
  struct open_how how = {.flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC,
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  long fd = syscall(SYS_openat2, root, rel, &how, sizeof(how));
  if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
    return (int)fd;
  return open_beneath(root, rel, 0);
}

/* The file's text, or NULL when it does not exist; other failures are
 * errors (a passwd we cannot read must not silently mean "no users"). */
static int
read_account_file(int root, const char *root_dir, const char *name, char **text, lc_error **err)
{
  size_t len;
  *text = NULL;
  cleanup_close int fd = open_in_root(root, name);
  if (fd < 0 && errno == ENOENT)
    return 0;
  if (fd < 0)
    return lc_error_errno(err, errno, "%s/etc/%s", root_dir, name);
  int e = lc_read_fd(fd, ACCOUNT_FILE_MAX, text, &len);
  if (e != 0)
    return lc_error_errno(err, e, "%s/etc/%s", root_dir, name);
  if (memchr(*text, '\0', len) != NULL) {
    free(*text);
    *text = NULL;
    return user_error(err, "%s/etc/%s is not a text file", root_dir, name);
  }
  return 0;
}

int
lc_user_resolve_in_root(const char *spec, const char *root_dir, struct lc_user *out, lc_error **err)
{
  cleanup_free char *passwd = NULL, *group = NULL;
  cleanup_close int root = open(root_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return lc_error_errno(err, errno, "%s", root_dir);
  if (read_account_file(root, root_dir, "passwd", &passwd, err) != 0 ||
      read_account_file(root, root_dir, "group", &group, err) != 0)
    return -1;
  return lc_user_resolve(spec, passwd, group, root_dir, out, err);
}

void
lc_user_clear(struct lc_user *u)
{
  free(u->additional_gids);
  memset(u, 0, sizeof(*u));
}
