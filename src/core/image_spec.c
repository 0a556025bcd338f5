/* The image config's process fields and docker's rules for them. */
#include "config.h"

#include "image_spec.h"

#include <json.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "util.h"

void
lc_image_exec_clear(struct lc_image_exec *x)
{
  char **vectors[] = {x->entrypoint, x->cmd, x->env};
  for (size_t v = 0; v < 3; v++) {
    for (size_t i = 0; vectors[v] != NULL && vectors[v][i] != NULL; i++)
      free(vectors[v][i]);
    free(vectors[v]);
  }
  free(x->working_dir);
  free(x->user);
  free(x->stop_signal);
  for (size_t i = 0; i < x->n_labels; i++) {
    free(x->labels[i].key);
    free(x->labels[i].value);
  }
  free(x->labels);
  memset(x, 0, sizeof(*x));
}

static int
wrong_type(const char *field, lc_error **err)
{
  return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_INTERNAL,
                      "the image's config has a %s that is not what the image spec says", field);
}

/* An array of strings (or null, or absent) into a NULL-terminated vector. */
static int
strings_of(json_object *cfg, const char *field, char ***out, lc_error **err)
{
  json_object *arr;
  *out = NULL;
  if (!json_object_object_get_ex(cfg, field, &arr) || arr == NULL)
    return 0;
  if (!json_object_is_type(arr, json_type_array))
    return wrong_type(field, err);
  size_t n = json_object_array_length(arr);
  char **v = xcalloc(n + 1, sizeof(*v));
  for (size_t i = 0; i < n; i++) {
    json_object *s = json_object_array_get_idx(arr, i);
    if (!json_object_is_type(s, json_type_string)) {
      lc_strv_free(v, i);
      return wrong_type(field, err);
    }
    v[i] = xstrdup(json_object_get_string(s));
  }
  *out = v;
  return 0;
}

/* A string field; "" counts as absent, as docker reads it. */
static int
string_of(json_object *cfg, const char *field, char **out, lc_error **err)
{
  json_object *s;
  *out = NULL;
  if (!json_object_object_get_ex(cfg, field, &s) || s == NULL)
    return 0;
  if (!json_object_is_type(s, json_type_string))
    return wrong_type(field, err);
  if (json_object_get_string_len(s) > 0)
    *out = xstrdup(json_object_get_string(s));
  return 0;
}

static int
labels_of(json_object *cfg, struct lc_image_exec *x, lc_error **err)
{
  json_object *obj;
  if (!json_object_object_get_ex(cfg, "Labels", &obj) || obj == NULL)
    return 0;
  if (!json_object_is_type(obj, json_type_object))
    return wrong_type("Labels", err);
  x->labels = xcalloc(json_object_object_length(obj) + 1, sizeof(*x->labels));
  json_object_object_foreach(obj, key, val)
  {
    if (!json_object_is_type(val, json_type_string))
      return wrong_type("Labels", err);
    x->labels[x->n_labels++] = (lc_label){xstrdup(key), xstrdup(json_object_get_string(val))};
  }
  return 0;
}

int
lc_image_exec_parse(const char *json, size_t len, struct lc_image_exec *out, lc_error **err)
{
  memset(out, 0, sizeof(*out));
  json_tokener *tok = json_tokener_new();
  json_object *doc = json_tokener_parse_ex(tok, json, (int)len);
  json_tokener_free(tok);
  if (doc == NULL || !json_object_is_type(doc, json_type_object)) {
    json_object_put(doc);
    return lc_error_set(err, LC_ERR_DAEMON, LC_GRPC_INTERNAL,
                        "the image's config is not a JSON object");
  }
  json_object *cfg;
  int rv = 0;
  if (json_object_object_get_ex(doc, "config", &cfg) && cfg != NULL) {
    if (!json_object_is_type(cfg, json_type_object))
      rv = wrong_type("config", err);
    else if (strings_of(cfg, "Entrypoint", &out->entrypoint, err) < 0 ||
             strings_of(cfg, "Cmd", &out->cmd, err) < 0 ||
             strings_of(cfg, "Env", &out->env, err) < 0 ||
             string_of(cfg, "WorkingDir", &out->working_dir, err) < 0 ||
             string_of(cfg, "User", &out->user, err) < 0 ||
             string_of(cfg, "StopSignal", &out->stop_signal, err) < 0 ||
             labels_of(cfg, out, err) < 0)
      rv = -1;
  }
  json_object_put(doc);
  if (rv < 0)
    lc_image_exec_clear(out);
  return rv;
}

static size_t
strv_len(char *const *v)
{
  size_t n = 0;
  while (v != NULL && v[n] != NULL)
    n++;
  return n;
}

/* Appends every string of from to v (with room already made). */
static void
append_all(char **v, size_t *n, char *const *from)
{
  for (size_t i = 0; from != NULL && from[i] != NULL; i++)
    v[(*n)++] = xstrdup(from[i]);
}

char **
lc_image_args(const struct lc_image_exec *x, const char *entrypoint, char *const *line_cmd,
              size_t *n)
{
  bool have_line = line_cmd != NULL && line_cmd[0] != NULL;
  /* docker: --entrypoint resets the image's Cmd too, and "" means none. */
  char *const *cmd = have_line ? line_cmd : entrypoint != NULL ? NULL : x->cmd;
  char **v = xcalloc(strv_len(x->entrypoint) + strv_len(cmd) + 2, sizeof(*v));
  *n = 0;
  if (entrypoint == NULL)
    append_all(v, n, x->entrypoint);
  else if (entrypoint[0] != '\0')
    v[(*n)++] = xstrdup(entrypoint);
  append_all(v, n, cmd);
  return v;
}
