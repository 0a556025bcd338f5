/* Registry options shared by the commands that fetch from a registry. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry_opts.h"
#include "util.h"

enum {
  OPT_PLATFORM = 0x500,
  OPT_SNAPSHOTTER,
  OPT_NO_UNPACK,
  OPT_PLAIN_HTTP,
  OPT_USER,
  OPT_PASSWORD_STDIN,
  OPT_CERTS_DIR,
};

static struct argp_option options[] = {
    {"platform", OPT_PLATFORM, "OS/ARCH[/VARIANT]", 0, "platform to pull (default: this host's)",
     10},
    {"snapshotter", OPT_SNAPSHOTTER, "NAME", 0, "snapshotter to unpack into (default overlayfs)",
     10},
    {"no-unpack", OPT_NO_UNPACK, NULL, 0, "fetch only, do not unpack the layers", 10},
    {"plain-http", OPT_PLAIN_HTTP, NULL, 0, "talk HTTP, not HTTPS, to the registry", 10},
    {"user", OPT_USER, "USER[:PASSWORD]", 0, "registry credentials", 10},
    {"password-stdin", OPT_PASSWORD_STDIN, NULL, 0, "read the password from standard input", 10},
    {"certs-dir", OPT_CERTS_DIR, "DIR", 0,
     "certificates in DIR/HOST[:PORT]/ (default /etc/containerd/certs.d)", 10},
    {NULL, 0, NULL, 0, NULL, 0},
};

static error_t
parse_registry_opt(int key, char *arg, struct argp_state *state)
{
  struct registry_opts *o = state->input;
  switch (key) {
  case OPT_PLATFORM:
    o->platform = arg;
    return 0;
  case OPT_SNAPSHOTTER:
    if (*arg == '\0')
      return cmd_arg_error(state, "--snapshotter needs a name");
    o->snapshotter = arg;
    return 0;
  case OPT_NO_UNPACK:
    o->no_unpack = true;
    return 0;
  case OPT_PLAIN_HTTP:
    o->plain_http = true;
    return 0;
  case OPT_USER:
    o->user = arg;
    return 0;
  case OPT_PASSWORD_STDIN:
    o->password_stdin = true;
    return 0;
  case OPT_CERTS_DIR:
    o->certs_dir = arg;
    return 0;
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

struct argp registry_opts_argp = {options, parse_registry_opt, NULL, NULL, NULL, NULL, NULL};

/* One line from stdin, without its newline; the buffer is wiped after use. */
static char *
read_password(void)
{
  char *line = NULL;
  size_t cap = 0;
  ssize_t n = getline(&line, &cap, stdin);
  if (n < 0) {
    free(line);
    return NULL;
  }
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
    line[--n] = '\0';
  return line;
}

int
registry_opts_finish(struct lc_ctx *ctx, struct registry_opts *o)
{
  lc_error *err = NULL;
  if (o->platform != NULL) {
    struct lc_platform p;
    if (lc_platform_parse(o->platform, &p, &err) < 0)
      return ctx_report(ctx, NULL, err);
    lc_platform_clear(&p);
  }
  if (o->password_stdin && o->user == NULL)
    return ctx_usage(ctx, "--password-stdin needs --user USER");
  if (o->password_stdin && strchr(o->user, ':') != NULL)
    return ctx_usage(ctx, "--password-stdin and a password in --user exclude each other");
  if (o->user == NULL)
    return 0;
  if (lc_credentials_parse(o->user, &o->creds, &err) < 0)
    return ctx_report(ctx, NULL, err);
  if (o->password_stdin) {
    o->creds.password = read_password();
    if (o->creds.password == NULL)
      return ctx_usage(ctx, "--password-stdin: nothing on standard input");
  }
  return 0;
}

static void
trace_http(void *ud, const char *method, const char *url, long status, int64_t usec)
{
  fprintf(stderr, "lcctl: debug: %s %s %ld %lldus\n", method, url, status, (long long)usec);
}

static volatile sig_atomic_t interrupted;

static void
on_interrupt(int sig)
{
  interrupted = 1;
}

void
registry_catch_interrupt(void)
{
  struct sigaction sa = {0};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

bool
registry_interrupted(void)
{
  return interrupted != 0;
}

static bool
cancelled(void *ud)
{
  return registry_interrupted();
}

void
registry_opts_pull(struct lc_ctx *ctx, struct registry_opts *o, struct lc_pull_opts *out)
{
  *out = (struct lc_pull_opts){0};
  out->platform = o->platform;
  out->snapshotter = o->snapshotter;
  out->no_unpack = o->no_unpack;
  out->registry.creds = o->user != NULL ? &o->creds : NULL;
  out->registry.plain_http = o->plain_http;
  out->registry.certs_dir = o->certs_dir;
  out->registry.trace = ctx->debug ? trace_http : NULL;
  out->registry.cancelled = cancelled;
}

void
registry_opts_clear(struct registry_opts *o)
{
  lc_credentials_clear(&o->creds);
}
