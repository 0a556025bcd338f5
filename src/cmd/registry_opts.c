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

/* What pull takes besides the transport options. */
static struct argp_option unpack_options[] = {
    {"snapshotter", OPT_SNAPSHOTTER, "NAME", 0, "snapshotter to unpack into (default overlayfs)",
     10},
    {"no-unpack", OPT_NO_UNPACK, NULL, 0, "fetch only, do not unpack the layers", 10},
    {NULL, 0, NULL, 0, NULL, 0},
};

/* What pull and push take besides how to reach the registry. */
static struct argp_option platform_options[] = {
    {"platform", OPT_PLATFORM, "OS/ARCH[/VARIANT]", 0,
     "platform to pull or push (pull's default: this host's)", 10},
    {NULL, 0, NULL, 0, NULL, 0},
};

/* How to reach a registry: what every command that talks to one takes. */
static struct argp_option access_options[] = {
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

struct argp registry_access_argp = {
    access_options, parse_registry_opt, NULL, NULL, NULL, NULL, NULL};

/* --platform, the access options sharing the same registry_opts. */
static error_t
parse_platform_opt(int key, char *arg, struct argp_state *state)
{
  struct registry_opts *o = state->input;
  switch (key) {
  case ARGP_KEY_INIT:
    state->child_inputs[0] = o;
    return 0;
  case OPT_PLATFORM:
    o->platform = arg;
    return 0;
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

static struct argp_child transport_children[] = {{&registry_access_argp, 0, NULL, 0},
                                                 {NULL, 0, NULL, 0}};

struct argp registry_transport_argp = {
    platform_options, parse_platform_opt, NULL, NULL, transport_children, NULL, NULL};

static error_t
parse_unpack_opt(int key, char *arg, struct argp_state *state)
{
  struct registry_opts *o = state->input;
  switch (key) {
  case ARGP_KEY_INIT:
    state->child_inputs[0] = o;
    return 0;
  case OPT_SNAPSHOTTER:
    if (*arg == '\0')
      return cmd_arg_error(state, "--snapshotter needs a name");
    o->snapshotter = arg;
    return 0;
  case OPT_NO_UNPACK:
    o->no_unpack = true;
    return 0;
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

static struct argp_child unpack_children[] = {{&registry_transport_argp, 0, NULL, 0},
                                              {NULL, 0, NULL, 0}};

struct argp registry_opts_argp = {
    unpack_options, parse_unpack_opt, NULL, NULL, unpack_children, NULL, NULL};

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
trace_http(void *ud, const char *method, const char *url, long status, const char *version,
           int64_t usec)
{
  fprintf(stderr, "lcctl: debug: %s %s %ld %s %lldus\n", method, url, status, version,
          (long long)usec);
}

/* What the core layer says goes on, but the user should know. */
static void
warn_line(void *ud, const char *message)
{
  fprintf(stderr, "lcctl: warning: %s\n", message);
}

static volatile sig_atomic_t interrupted;

static void
on_interrupt(int sig)
{
  interrupted = 1;
}

/* SIGINT and SIGTERM both: a pull stopped by either leaves nothing. */
static void
set_interrupt_handler(void (*handler)(int))
{
  struct sigaction sa = {0};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

void
registry_catch_interrupt(void)
{
  set_interrupt_handler(on_interrupt);
}

void
registry_release_interrupt(void)
{
  set_interrupt_handler(SIG_DFL);
}

bool
registry_interrupted(void)
{
  return interrupted != 0;
}

bool
registry_cancelled(void *ud)
{
  return registry_interrupted();
}

void
registry_opts_transport(struct lc_ctx *ctx, struct registry_opts *o, struct lc_registry_opts *out)
{
  *out = (struct lc_registry_opts){0};
  out->creds = o->user != NULL ? &o->creds : NULL;
  out->plain_http = o->plain_http;
  out->certs_dir = o->certs_dir;
  out->trace = ctx->debug ? trace_http : NULL;
  out->cancelled = registry_cancelled;
  out->warn = warn_line;
}

void
registry_opts_pull(struct lc_ctx *ctx, struct registry_opts *o, struct lc_pull_opts *out)
{
  *out = (struct lc_pull_opts){0};
  out->platform = o->platform;
  out->snapshotter = o->snapshotter;
  out->no_unpack = o->no_unpack;
  registry_opts_transport(ctx, o, &out->registry);
}

void
registry_opts_clear(struct registry_opts *o)
{
  lc_credentials_clear(&o->creds);
}

/* pull and push take the same one REF after the same options, so one parser
 * keeps their usage errors the same. */
error_t
registry_ref_parse(int key, char *arg, struct argp_state *state)
{
  struct registry_ref_args *a = state->input;
  switch (key) {
  case ARGP_KEY_INIT:
    state->child_inputs[0] = &a->reg;
    return 0;
  case ARGP_KEY_ARG:
    if (a->ref != NULL)
      return cmd_arg_error(state, "one image reference only");
    a->ref = arg;
    return 0;
  case ARGP_KEY_NO_ARGS:
    return cmd_arg_error(state, "an image reference is required");
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

/* A bad reference is a usage error found before the daemon is dialled, so
 * nothing is started for it. */
int
registry_ref_finish(struct lc_ctx *ctx, struct registry_ref_args *a)
{
  int rv = registry_opts_finish(ctx, &a->reg);
  lc_error *err = NULL;
  struct lc_ref check;
  if (rv == 0 && lc_ref_parse(a->ref, &check, &err) < 0)
    rv = ctx_report(ctx, a->ref, err);
  else if (rv == 0)
    lc_ref_clear(&check);
  if (rv != 0)
    registry_opts_clear(&a->reg);
  return rv;
}

/* restore takes the access options only with --pull: without it they would
 * be silently ignored. */
bool
registry_access_given(const struct registry_opts *o)
{
  return o->plain_http || o->user != NULL || o->password_stdin || o->certs_dir != NULL;
}
