/* The floor of the benchmarks: the least a C client of containerd can do for
 * one command. It starts, connects over the unix socket through our own core
 * library (the same HTTP/2 and gRPC code as lcctl), makes exactly one unary
 * call, checks its status and exits. No option parsing, no spec, no output.
 *
 *   floor ADDRESS NS version          Version.Version (what `lcctl version` needs)
 *   floor ADDRESS NS get ID           Tasks.Get       (the task half of `status ID`)
 *   floor ADDRESS NS list             Tasks.List      (what `ctr task ls` asks)
 *   floor ADDRESS NS pause ID         Tasks.Pause
 *   floor ADDRESS NS resume ID        Tasks.Resume
 *   floor ADDRESS NS kill ID SIGNO    Tasks.Kill
 *
 * Exit status 0 when the call succeeded, 1 otherwise (with the error on
 * stderr), so that hyperfine notices a floor that measured a failure. Built
 * by bench/run.sh with the same compiler flags and libraries as lcctl. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "client_internal.h"
#include "tasks.pb-c.h"

static int
usage(void)
{
  fprintf(stderr, "usage: floor ADDRESS NS version|list|get ID|pause ID|resume ID|kill ID SIGNO\n");
  return 2;
}

/* One call of a Tasks method on container id; the answer is decoded (as
 * lcctl would) and freed. */
static int
tasks_call(lc_client *c, const char *op, const char *id, const char *signo, lc_error **err)
{
  ProtobufCMessage *resp = NULL;
  int rc;
  if (strcmp(op, "get") == 0) {
    Lcpb__GetRequest req = LCPB__GET_REQUEST__INIT;
    req.container_id = (char *)id;
    rc =
        lc_unary_one(c, LC_SVC_TASKS "Get", &req.base, &lcpb__get_response__descriptor, &resp, err);
  } else if (strcmp(op, "list") == 0) {
    Lcpb__ListTasksRequest req = LCPB__LIST_TASKS_REQUEST__INIT;
    rc = lc_unary_one(c, LC_SVC_TASKS "List", &req.base, &lcpb__list_tasks_response__descriptor,
                      &resp, err);
  } else if (strcmp(op, "pause") == 0) {
    Lcpb__PauseTaskRequest req = LCPB__PAUSE_TASK_REQUEST__INIT;
    req.container_id = (char *)id;
    rc = lc_unary_one(c, LC_SVC_TASKS "Pause", &req.base, NULL, NULL, err);
  } else if (strcmp(op, "resume") == 0) {
    Lcpb__ResumeTaskRequest req = LCPB__RESUME_TASK_REQUEST__INIT;
    req.container_id = (char *)id;
    rc = lc_unary_one(c, LC_SVC_TASKS "Resume", &req.base, NULL, NULL, err);
  } else {
    Lcpb__KillRequest req = LCPB__KILL_REQUEST__INIT;
    req.container_id = (char *)id;
    req.signal = (uint32_t)strtoul(signo, NULL, 10);
    rc = lc_unary_one(c, LC_SVC_TASKS "Kill", &req.base, NULL, NULL, err);
  }
  if (resp != NULL)
    protobuf_c_message_free_unpacked(resp, NULL);
  return rc;
}

int
main(int argc, char **argv)
{
  if (argc < 4)
    return usage();
  const char *op = argv[3];
  bool needs_id = strcmp(op, "get") == 0 || strcmp(op, "pause") == 0 || strcmp(op, "resume") == 0 ||
                  strcmp(op, "kill") == 0;
  if (strcmp(op, "version") != 0 && strcmp(op, "list") != 0 && !needs_id)
    return usage();
  if (argc != 4 + (needs_id ? 1 : 0) + (strcmp(op, "kill") == 0 ? 1 : 0))
    return usage();

  struct lc_client_config cfg = {.address = argv[1], .ns = argv[2], .timeout_ms = 10000};
  lc_client *c = NULL;
  lc_error *err = NULL;
  int rc = lc_client_new(&cfg, &c, &err);
  if (rc == 0) {
    if (strcmp(op, "version") == 0) {
      struct lc_version v = {0};
      rc = lc_version_get(c, &v, &err);
      lc_version_clear(&v);
    } else {
      rc = tasks_call(c, op, needs_id ? argv[4] : NULL, argc > 5 ? argv[5] : NULL, &err);
    }
  }
  if (rc < 0)
    fprintf(stderr, "floor: %s: %s\n", op, err != NULL ? err->message : "failed");
  lc_error_free(err);
  if (c != NULL)
    lc_client_free(c);
  return rc < 0 ? 1 : 0;
}
