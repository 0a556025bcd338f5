/* lcctl namespaces [ls | create NS [--label K=V]... | rm NS...]. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "namespaces.h"
#include "parse.h"
#include "util.h"

enum ns_action { NS_LS, NS_CREATE, NS_RM };

struct ns_args {
  enum ns_action action;
  bool have_action;
  char **names;
  size_t n_names;
  lc_label *labels;
  size_t n_labels;
};

enum { OPT_LABEL = 0x800 };

static struct argp_option ns_options[] = {
    {"label", OPT_LABEL, "K=V", 0, "create: a label on the namespace (repeatable)", 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

/* The first operand names the action; the others are namespaces. */
static error_t
take_operand(struct ns_args *a, char *arg, struct argp_state *state)
{
  static const struct {
    const char *name;
    enum ns_action action;
  } actions[] = {{"ls", NS_LS}, {"list", NS_LS},   {"create", NS_CREATE},
                 {"rm", NS_RM}, {"remove", NS_RM}, {"delete", NS_RM}};
  if (a->have_action) {
    a->names = xrealloc(a->names, (a->n_names + 1) * sizeof(*a->names));
    a->names[a->n_names++] = arg;
    return 0;
  }
  for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
    if (strcmp(arg, actions[i].name) == 0) {
      a->action = actions[i].action;
      a->have_action = true;
      return 0;
    }
  }
  return cmd_arg_error(state, "unknown action '%s': use ls, create or rm", arg);
}

/* Operand counts and --label, per action. */
static error_t
check_operands(struct ns_args *a, struct argp_state *state)
{
  if (a->action == NS_LS && a->n_names > 0)
    return cmd_arg_error(state, "ls takes no namespace");
  if (a->action == NS_CREATE && a->n_names != 1)
    return cmd_arg_error(state, "create takes exactly one namespace");
  if (a->action == NS_RM && a->n_names == 0)
    return cmd_arg_error(state, "rm needs at least one namespace");
  if (a->action != NS_CREATE && a->n_labels > 0)
    return cmd_arg_error(state, "--label is for create");
  return 0;
}

static error_t
parse_ns(int key, char *arg, struct argp_state *state)
{
  struct ns_args *a = state->input;
  lc_error *err = NULL;
  char *k = NULL, *v = NULL;
  switch (key) {
  case OPT_LABEL:
    if (parse_key_value(arg, &k, &v, &err) < 0)
      return cmd_arg_fail(state, err);
    a->labels = xrealloc(a->labels, (a->n_labels + 1) * sizeof(*a->labels));
    a->labels[a->n_labels++] = (lc_label){k, v};
    return 0;
  case ARGP_KEY_ARG:
    return take_operand(a, arg, state);
  case ARGP_KEY_END:
    return check_operands(a, state);
  default:
    return ARGP_ERR_UNKNOWN;
  }
}

static struct argp ns_argp = {
    ns_options,
    parse_ns,
    "[ls] | create NS [--label K=V]... | rm NS...",
    "List, create or remove containerd namespaces (ls when no action is given).\v"
    "A namespace can be removed only when it holds nothing (containers, images, content, "
    "snapshots, leases); containerd refuses otherwise and says what is left.",
    NULL,
    NULL,
    NULL};

static json_object *
ns_json(const char *name, const lc_label *labels, size_t n)
{
  json_object *o = json_object_new_object(), *l = json_object_new_object();
  json_object_object_add(o, "name", json_object_new_string(name));
  for (size_t i = 0; i < n; i++)
    json_object_object_add(l, labels[i].key, json_object_new_string(labels[i].value));
  json_object_object_add(o, "labels", l);
  return o;
}

/* "k=v,k=v", or NULL (printed as "-") without labels. */
static char *
labels_text(const lc_label *labels, size_t n)
{
  char *s = NULL;
  for (size_t i = 0; i < n; i++) {
    char *next = xasprintf("%s%s%s=%s", s ? s : "", s ? "," : "", labels[i].key, labels[i].value);
    free(s);
    s = next;
  }
  return s;
}

static int
ns_list(struct lc_ctx *ctx, lc_client *c)
{
  struct lc_namespace *arr = NULL;
  size_t n = 0;
  lc_error *err = NULL;
  if (lc_namespaces_list(c, &arr, &n, &err) < 0)
    return ctx_report(ctx, NULL, err);
  static const char *const headers[] = {"NAME", "LABELS"};
  lc_table *t = ctx->format == LC_FORMAT_TEXT && !ctx->quiet ? lc_table_new(2, headers) : NULL;
  for (size_t i = 0; i < n; i++) {
    if (ctx->quiet) {
      printf("%s\n", arr[i].name);
    } else if (t != NULL) {
      cleanup_free char *labels = labels_text(arr[i].labels, arr[i].n_labels);
      lc_table_add(t, (const char *const[]){arr[i].name, labels});
    } else {
      json_object *o = ns_json(arr[i].name, arr[i].labels, arr[i].n_labels);
      lc_json_print_line(o, stdout);
      json_object_put(o);
    }
  }
  if (t != NULL) {
    lc_table_print(t, stdout);
    lc_table_free(t);
  }
  lc_namespaces_free(arr, n);
  return fflush(stdout) == 0 ? 0 : 1;
}

/* What create and rm print for each namespace they made or removed. */
static void
print_done(struct lc_ctx *ctx, const char *name, const lc_label *labels, size_t n)
{
  if (ctx->format == LC_FORMAT_JSON && !ctx->quiet) {
    json_object *o = ns_json(name, labels, n);
    lc_json_print_line(o, stdout);
    json_object_put(o);
  } else {
    printf("%s\n", name);
  }
}

static int
ns_remove(struct lc_ctx *ctx, lc_client *c, struct ns_args *a)
{
  lc_error *err = NULL;
  int rv = 0;
  cleanup_free lc_error **errs = xcalloc(a->n_names + 1, sizeof(*errs));
  if (lc_namespaces_delete(c, (const char *const *)a->names, a->n_names, errs, &err) < 0)
    return ctx_report(ctx, NULL, err);
  for (size_t i = 0; i < a->n_names; i++) {
    if (errs[i] != NULL) {
      int code = ctx_report(ctx, a->names[i], errs[i]);
      rv = code > rv ? code : rv;
    } else {
      print_done(ctx, a->names[i], NULL, 0);
    }
  }
  return rv;
}

/* Names are checked before anything is sent, as containerd would check them. */
static int
validate_names(struct lc_ctx *ctx, const struct ns_args *a)
{
  for (size_t i = 0; i < a->n_names; i++) {
    lc_error *err = NULL;
    if (validate_identifier("namespace", a->names[i], &err) < 0)
      return ctx_report(ctx, a->names[i], err);
  }
  return 0;
}

static int
run_action(struct lc_ctx *ctx, struct ns_args *a)
{
  lc_error *err = NULL;
  int rv = validate_names(ctx, a);
  if (rv != 0)
    return rv;
  lc_client *c = ctx_client(ctx, &err);
  if (c == NULL)
    return ctx_report(ctx, NULL, err);
  switch (a->action) {
  case NS_LS:
    return ns_list(ctx, c);
  case NS_CREATE:
    if (lc_namespace_create(c, a->names[0], a->labels, a->n_labels, &err) < 0)
      return ctx_report(ctx, a->names[0], err);
    print_done(ctx, a->names[0], a->labels, a->n_labels);
    return 0;
  default:
    return ns_remove(ctx, c, a);
  }
}

int
cmd_namespaces(struct lc_ctx *ctx, int argc, char **argv)
{
  struct ns_args a = {0};
  int rv = cmd_parse(ctx, &ns_argp, argc, argv, &a) != 0 ? 2 : run_action(ctx, &a);
  for (size_t i = 0; i < a.n_labels; i++) {
    free(a.labels[i].key);
    free(a.labels[i].value);
  }
  free(a.labels);
  free(a.names);
  return rv;
}
