/* lcctl version: ours and the daemon's. */
#include "config.h"

#include <stdio.h>

#include "cmd.h"

static struct argp version_argp = {NULL, NULL, "",  "Print the client and the daemon versions.",
                                   NULL, NULL, NULL};

int
cmd_version(struct lc_ctx *ctx, int argc, char **argv)
{
  if (cmd_parse(ctx, &version_argp, argc, argv, NULL) != 0)
    return 2;
  lc_error *err = NULL;
  struct lc_version v = {0};
  lc_client *c = ctx_client(ctx, &err);
  if (c == NULL || lc_version_get(c, &v, &err) < 0)
    return ctx_report(ctx, NULL, err);
  if (ctx->format == LC_FORMAT_JSON) {
    json_object *o = json_object_new_object();
    json_object *client = json_object_new_object();
    json_object_object_add(client, "version", json_object_new_string(PACKAGE_VERSION));
    json_object *server = json_object_new_object();
    json_object_object_add(server, "version", json_object_new_string(v.version));
    json_object_object_add(server, "revision", json_object_new_string(v.revision));
    json_object_object_add(o, "client", client);
    json_object_object_add(o, "server", server);
    lc_json_print_line(o, stdout);
    json_object_put(o);
  } else if (ctx->quiet) {
    printf("%s\n", v.version);
  } else {
    printf("Client:\n  Version:  %s\n\nServer:\n  Version:  %s\n  Revision: %s\n", PACKAGE_VERSION,
           v.version, v.revision);
  }
  lc_version_clear(&v);
  return 0;
}
