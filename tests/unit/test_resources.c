/* Unit tests for the decoding half of src/core/resources.c: cgroup v1
 * metrics recorded from containerd 1.6 on this project's CI machine (one task
 * under limits, one without), cgroup v2 metrics written by hand from the field
 * numbers of io.containerd.cgroups.v2 (no v2 host to record on), and the
 * edges: unknown type URLs, truncated and garbage bytes, empty messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "resources.h"

/* Tasks.Metrics data of a busybox `sleep` after `lcctl update --memory 64m
 * --cpus 0.5 --pids-limit 20`: usage 290816 bytes, 1 pid, 8346186 ns CPU. */
static const uint8_t rec_v1_limited[] = {
    0x12, 0x04, 0x08, 0x01, 0x10, 0x14, 0x1a, 0x15, 0x0a, 0x0f, 0x08, 0xca, 0xb4, 0xfd, 0x03, 0x22,
    0x08, 0x95, 0xc2, 0xe1, 0x02, 0xb5, 0xf2, 0x9b, 0x01, 0x12, 0x02, 0x08, 0x02, 0x22, 0x88, 0x01,
    0x10, 0x80, 0xa0, 0x03, 0x38, 0xca, 0x03, 0x40, 0xbd, 0x03, 0x48, 0xda, 0x05, 0x58, 0x80, 0x80,
    0x03, 0x60, 0x80, 0x20, 0x80, 0x01, 0x80, 0x80, 0x80, 0x20, 0x88, 0x01, 0x80, 0xe0, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0x7f, 0x98, 0x01, 0x80, 0xa0, 0x03, 0xc0, 0x01, 0xca, 0x03, 0xc8, 0x01,
    0xbd, 0x03, 0xd0, 0x01, 0xda, 0x05, 0xe0, 0x01, 0x80, 0x80, 0x03, 0xe8, 0x01, 0x80, 0x20, 0x8a,
    0x02, 0x0e, 0x08, 0x80, 0x80, 0x80, 0x20, 0x10, 0x80, 0xe0, 0x11, 0x18, 0x80, 0x80, 0x99, 0x01,
    0x92, 0x02, 0x13, 0x08, 0x80, 0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x10, 0x80, 0xe0,
    0x11, 0x18, 0x80, 0x80, 0x99, 0x01, 0x9a, 0x02, 0x12, 0x08, 0x80, 0xe0, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0x7f, 0x10, 0x80, 0xc0, 0x0e, 0x18, 0x80, 0x80, 0x24, 0xa2, 0x02, 0x0a, 0x08, 0x80,
    0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x2a, 0x00, 0x4a, 0x00,
};
/* The same kind of task with no limits: the kernel reports memory as
 * 0x7ffffffffffff000 and pids.max as "max" (0 on the wire). */
static const uint8_t rec_v1_unlimited[] = {
    0x12, 0x02, 0x08, 0x01, 0x1a, 0x13, 0x0a, 0x0f, 0x08, 0xf5, 0x97, 0xbf, 0x04, 0x22, 0x08, 0xfe,
    0x9a, 0xbc, 0x03, 0xf7, 0xfc, 0x82, 0x01, 0x12, 0x00, 0x22, 0x90, 0x01, 0x10, 0x80, 0xa0, 0x03,
    0x38, 0xf7, 0x02, 0x40, 0xea, 0x02, 0x48, 0x9d, 0x05, 0x58, 0x80, 0x80, 0x03, 0x60, 0x80, 0x20,
    0x80, 0x01, 0x80, 0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x88, 0x01, 0x80, 0xe0, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x98, 0x01, 0x80, 0xa0, 0x03, 0xc0, 0x01, 0xf7, 0x02, 0xc8,
    0x01, 0xea, 0x02, 0xd0, 0x01, 0x9d, 0x05, 0xe0, 0x01, 0x80, 0x80, 0x03, 0xe8, 0x01, 0x80, 0x20,
    0x8a, 0x02, 0x12, 0x08, 0x80, 0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x10, 0x80, 0xc0,
    0x11, 0x18, 0x80, 0xc0, 0x78, 0x92, 0x02, 0x12, 0x08, 0x80, 0xe0, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0x7f, 0x10, 0x80, 0xc0, 0x11, 0x18, 0x80, 0xc0, 0x78, 0x9a, 0x02, 0x12, 0x08, 0x80, 0xe0,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x10, 0x80, 0xa0, 0x0e, 0x18, 0x80, 0xc0, 0x23, 0xa2,
    0x02, 0x0a, 0x08, 0x80, 0xe0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x2a, 0x00, 0x4a, 0x00,
};

/* v2: pids {current 3, limit 50}, cpu {usage 1500us, user 1000us, system
 * 500us}, memory {usage (32) 1 MiB, usage_limit (33) 64 MiB}. */
static const uint8_t v2_limited[] = {
    0x0a, 0x04, 0x08, 0x03, 0x10, 0x32, 0x12, 0x09, 0x08, 0xdc, 0x0b, 0x10, 0xe8, 0x07, 0x18,
    0xf4, 0x03, 0x22, 0x0b, 0x80, 0x02, 0x80, 0x80, 0x40, 0x88, 0x02, 0x80, 0x80, 0x80, 0x20,
};
/* v2 without limits: memory.max "max" is UINT64_MAX, pids.max 0 (absent). */
static const uint8_t v2_unlimited[] = {
    0x0a, 0x02, 0x08, 0x01, 0x22, 0x10, 0x80, 0x02, 0x80, 0x20, 0x88,
    0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
};

static void
test_v1_limited(void **state)
{
  struct lc_stats s = {0};
  lc_error *err = NULL;
  assert_int_equal(
      lc_stats_decode(LC_METRICS_V1_TYPE_URL, rec_v1_limited, sizeof(rec_v1_limited), &s, &err), 0);
  assert_null(err);
  assert_int_equal(s.cgroup_version, 1);
  assert_int_equal(s.memory_usage, 290816);
  assert_true(s.has_memory_limit);
  assert_int_equal(s.memory_limit, 64 * 1024 * 1024);
  assert_int_equal(s.cpu_usage_ns, 8346186);
  assert_int_equal(s.pids_current, 1);
  assert_true(s.has_pids_limit);
  assert_int_equal(s.pids_limit, 20);
}

static void
test_v1_unlimited(void **state)
{
  struct lc_stats s = {0};
  lc_error *err = NULL;
  assert_int_equal(
      lc_stats_decode(LC_METRICS_V1_TYPE_URL, rec_v1_unlimited, sizeof(rec_v1_unlimited), &s, &err),
      0);
  assert_int_equal(s.cgroup_version, 1);
  assert_int_equal(s.memory_usage, 286720);
  assert_false(s.has_memory_limit);
  assert_int_equal(s.memory_limit, 0);
  assert_int_equal(s.cpu_usage_ns, 9423861);
  assert_int_equal(s.pids_current, 1);
  assert_false(s.has_pids_limit);
}

static void
test_v2(void **state)
{
  struct lc_stats s = {0};
  lc_error *err = NULL;
  assert_int_equal(
      lc_stats_decode(LC_METRICS_V2_TYPE_URL, v2_limited, sizeof(v2_limited), &s, &err), 0);
  assert_int_equal(s.cgroup_version, 2);
  assert_int_equal(s.memory_usage, 1024 * 1024);
  assert_true(s.has_memory_limit);
  assert_int_equal(s.memory_limit, 64 * 1024 * 1024);
  assert_int_equal(s.cpu_usage_ns, 1500000);
  assert_int_equal(s.cpu_user_ns, 1000000);
  assert_int_equal(s.cpu_system_ns, 500000);
  assert_int_equal(s.pids_current, 3);
  assert_true(s.has_pids_limit);
  assert_int_equal(s.pids_limit, 50);

  memset(&s, 0, sizeof(s));
  assert_int_equal(
      lc_stats_decode(LC_METRICS_V2_TYPE_URL, v2_unlimited, sizeof(v2_unlimited), &s, &err), 0);
  assert_int_equal(s.memory_usage, 4096);
  assert_false(s.has_memory_limit);
  assert_int_equal(s.pids_current, 1);
  assert_false(s.has_pids_limit);
}

/* A type URL may carry a host part; only the name after the last '/' counts. */
static void
test_type_url_prefix(void **state)
{
  struct lc_stats s = {0};
  lc_error *err = NULL;
  assert_int_equal(lc_stats_decode("types.googleapis.com/io.containerd.cgroups.v2.Metrics",
                                   v2_limited, sizeof(v2_limited), &s, &err),
                   0);
  assert_int_equal(s.cgroup_version, 2);
}

/* id and timestamp belong to the Metric, not its data: decoding keeps them. */
static void
test_keeps_id(void **state)
{
  char id[] = "web";
  struct lc_stats s = {.id = id};
  lc_error *err = NULL;
  assert_int_equal(
      lc_stats_decode(LC_METRICS_V2_TYPE_URL, v2_limited, sizeof(v2_limited), &s, &err), 0);
  assert_ptr_equal(s.id, id);
}

static void
test_empty_messages(void **state)
{
  struct lc_stats s = {0};
  lc_error *err = NULL;
  assert_int_equal(lc_stats_decode(LC_METRICS_V1_TYPE_URL, NULL, 0, &s, &err), 0);
  assert_int_equal(s.cgroup_version, 1);
  assert_false(s.has_memory_limit);
  assert_false(s.has_pids_limit);
  assert_int_equal(s.memory_usage, 0);
}

static void
expect_error(const char *url, const uint8_t *data, size_t len, int code)
{
  struct lc_stats s = {0};
  lc_error *err = NULL;
  assert_int_equal(lc_stats_decode(url, data, len, &s, &err), -1);
  assert_non_null(err);
  assert_int_equal(err->cls, LC_ERR_DAEMON);
  assert_int_equal(err->code, code);
  lc_error_free(err);
}

static void
test_refused(void **state)
{
  static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff};
  expect_error("io.containerd.cgroups.v3.Metrics", v2_limited, sizeof(v2_limited),
               LC_GRPC_UNIMPLEMENTED);
  expect_error("", v2_limited, sizeof(v2_limited), LC_GRPC_UNIMPLEMENTED);
  expect_error(NULL, v2_limited, sizeof(v2_limited), LC_GRPC_UNIMPLEMENTED);
  expect_error(LC_METRICS_V1_TYPE_URL, garbage, sizeof(garbage), LC_GRPC_DATA_LOSS);
  /* Cut inside the memory message. */
  expect_error(LC_METRICS_V1_TYPE_URL, rec_v1_limited, 40, LC_GRPC_DATA_LOSS);
  expect_error(LC_METRICS_V2_TYPE_URL, v2_limited, sizeof(v2_limited) - 3, LC_GRPC_DATA_LOSS);
}

/* Every prefix of a recorded message either decodes (as v1, with no error)
 * or is refused as DATA_LOSS with the error set; nothing in between, and no
 * crash (ASan and valgrind runs make that part mean something). A prefix
 * that ends between fields is a valid shorter message, one that ends inside
 * a field is not, so both outcomes must occur, and the whole message decodes. */
static void
test_every_prefix(void **state)
{
  size_t decoded = 0, refused = 0;
  for (size_t n = 0; n <= sizeof(rec_v1_limited); n++) {
    struct lc_stats s = {0};
    lc_error *err = NULL;
    int rc = lc_stats_decode(LC_METRICS_V1_TYPE_URL, rec_v1_limited, n, &s, &err);
    if (rc == 0) {
      assert_null(err);
      assert_int_equal(s.cgroup_version, 1);
      decoded++;
    } else {
      assert_int_equal(rc, -1);
      assert_non_null(err);
      assert_int_equal(err->cls, LC_ERR_DAEMON);
      assert_int_equal(err->code, LC_GRPC_DATA_LOSS);
      lc_error_free(err);
      refused++;
    }
    if (n == sizeof(rec_v1_limited))
      assert_int_equal(rc, 0);
  }
  assert_true(decoded >= 2); /* the empty message and the whole one at least */
  assert_true(refused > 0);
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_v1_limited), cmocka_unit_test(test_v1_unlimited),
      cmocka_unit_test(test_v2),         cmocka_unit_test(test_type_url_prefix),
      cmocka_unit_test(test_keeps_id),   cmocka_unit_test(test_empty_messages),
      cmocka_unit_test(test_refused),    cmocka_unit_test(test_every_prefix),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
