/* The json-c helpers of spec.c, shared with the other spec modules
 * (spec_options.c, seccomp.c). Each one owns the value it is given on every
 * path, and reports a member of the wrong kind as a usage error. */
#ifndef LC_SPEC_INTERNAL_H
#define LC_SPEC_INTERNAL_H

#include <json.h>

#include "error.h"

#define spec_usage_error(err, ...)                                                                 \
  lc_error_set((err), LC_ERR_USAGE, LC_GRPC_INVALID_ARGUMENT, __VA_ARGS__)

/* obj[key] = val. */
int spec_put(json_object *obj, const char *key, json_object *val, lc_error **err);
/* arr += val. */
int spec_push(json_object *arr, json_object *val, lc_error **err);
/* obj[key] = the NULL-terminated strings, as an array. */
int spec_put_strings(json_object *obj, const char *key, const char *const *items, lc_error **err);
/* obj[key], made empty of the given type when absent or null. */
int spec_child(json_object *parent, const char *key, json_type type, json_object **out,
               lc_error **err);
/* obj[key] when it is a string, else NULL. */
const char *spec_get_string(json_object *obj, const char *key);

/* Exactly one JSON object in data; NULL with *why set otherwise. */
json_object *spec_parse_object(const char *data, size_t len, const char **why);

#endif
