/* The default seccomp profile of --seccomp, and --seccomp-profile files.
 *
 * The profile is ours; what it allows is meant to match, in effect, the
 * default profile containerd (contrib/seccomp) and docker apply: a deny-all
 * default that fails with EPERM, an allow list of the system calls ordinary
 * programs make, and the privileged calls allowed only when the process keeps
 * the capability that governs them. The system call names are facts of the
 * kernel's ABI. */
#define _GNU_SOURCE
#include "spec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "spec_internal.h"
#include "readfile.h"
#include "util.h"

/* A seccomp profile is a few kilobytes; anything past this is a mistake. */
#define PROFILE_MAX (1024 * 1024)

/* The namespace flags of clone(2) a process without CAP_SYS_ADMIN may not
 * pass: NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET. */
#define CLONE_NAMESPACE_FLAGS 0x7E020000ULL

/* What every process may call, whatever its capabilities. Sorted. */
static const char *const allowed_always[] = {
    "_llseek",
    "_newselect",
    "accept",
    "accept4",
    "access",
    "adjtimex",
    "alarm",
    "bind",
    "brk",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "chown32",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_gettime",
    "clock_gettime64",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "close",
    "close_range",
    "connect",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fadvise64_64",
    "fallocate",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchown",
    "fchown32",
    "fchownat",
    "fcntl",
    "fcntl64",
    "fdatasync",
    "fgetxattr",
    "flistxattr",
    "flock",
    "fork",
    "fremovexattr",
    "fsetxattr",
    "fstat",
    "fstat64",
    "fstatat64",
    "fstatfs",
    "fstatfs64",
    "fsync",
    "ftruncate",
    "ftruncate64",
    "futex",
    "futex_time64",
    "futex_waitv",
    "futimesat",
    "get_robust_list",
    "get_thread_area",
    "getcpu",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "getegid32",
    "geteuid",
    "geteuid32",
    "getgid",
    "getgid32",
    "getgroups",
    "getgroups32",
    "getitimer",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresgid32",
    "getresuid",
    "getresuid32",
    "getrlimit",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "gettid",
    "gettimeofday",
    "getuid",
    "getuid32",
    "getxattr",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "io_cancel",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "io_pgetevents_time64",
    "io_setup",
    "io_submit",
    "io_uring_enter",
    "io_uring_register",
    "io_uring_setup",
    "ioctl",
    "ioprio_get",
    "ioprio_set",
    "ipc",
    "kill",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    "lchown",
    "lchown32",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "listxattr",
    "llistxattr",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lstat",
    "lstat64",
    "madvise",
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "mincore",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "mprotect",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedreceive_time64",
    "mq_timedsend",
    "mq_timedsend_time64",
    "mq_unlink",
    "mremap",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "nanosleep",
    "newfstatat",
    "open",
    "openat",
    "openat2",
    "pause",
    "pidfd_open",
    "pidfd_send_signal",
    "pipe",
    "pipe2",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "poll",
    "ppoll",
    "ppoll_time64",
    "prctl",
    "pread64",
    "preadv",
    "preadv2",
    "prlimit64",
    "process_mrelease",
    "pselect6",
    "pselect6_time64",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "recv",
    "recvfrom",
    "recvmmsg",
    "recvmmsg_time64",
    "recvmsg",
    "remap_file_pages",
    "removexattr",
    "rename",
    "renameat",
    "renameat2",
    "restart_syscall",
    "rmdir",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_rr_get_interval_time64",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "select",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "semtimedop_time64",
    "send",
    "sendfile",
    "sendfile64",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "set_robust_list",
    "set_thread_area",
    "set_tid_address",
    "setfsgid",
    "setfsgid32",
    "setfsuid",
    "setfsuid32",
    "setgid",
    "setgid32",
    "setgroups",
    "setgroups32",
    "setitimer",
    "setpgid",
    "setpriority",
    "setregid",
    "setregid32",
    "setresgid",
    "setresgid32",
    "setresuid",
    "setresuid32",
    "setreuid",
    "setreuid32",
    "setrlimit",
    "setsid",
    "setsockopt",
    "setuid",
    "setuid32",
    "setxattr",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "shutdown",
    "sigaltstack",
    "signalfd",
    "signalfd4",
    "sigprocmask",
    "sigreturn",
    "socket",
    "socketcall",
    "socketpair",
    "splice",
    "stat",
    "stat64",
    "statfs",
    "statfs64",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "sysinfo",
    "tee",
    "tgkill",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_gettime64",
    "timer_settime",
    "timer_settime64",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_gettime64",
    "timerfd_settime",
    "timerfd_settime64",
    "times",
    "tkill",
    "truncate",
    "truncate64",
    "ugetrlimit",
    "umask",
    "uname",
    "unlink",
    "unlinkat",
    "utime",
    "utimensat",
    "utimensat_time64",
    "utimes",
    "vfork",
    "vmsplice",
    "wait4",
    "waitid",
    "waitpid",
    "write",
    "writev",
    NULL,
};

/* personality(2) personas a program may switch to (PER_LINUX, PER_LINUX32,
 * UNAME26, UNAME26|PER_LINUX32) or query (0xffffffff). */
static const unsigned long long allowed_personas[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};

/* Calls that exist only on some architectures. */
#if defined(__x86_64__)
static const char *const arch_names[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
                                         NULL};
static const char *const allowed_arch[] = {"arch_prctl", "modify_ldt", NULL};
#define CLONE_FLAGS_ARG 0
#elif defined(__i386__)
static const char *const arch_names[] = {"SCMP_ARCH_X86", NULL};
static const char *const allowed_arch[] = {"modify_ldt", NULL};
#define CLONE_FLAGS_ARG 0
#elif defined(__aarch64__) || defined(__arm__)
static const char *const arch_names[] = {"SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64", NULL};
static const char *const allowed_arch[] = {
    "arm_fadvise64_64", "arm_sync_file_range", "breakpoint", "cacheflush",
    "set_tls",          "sync_file_range2",    NULL};
#define CLONE_FLAGS_ARG 0
#elif defined(__s390x__)
static const char *const arch_names[] = {"SCMP_ARCH_S390", "SCMP_ARCH_S390X", NULL};
static const char *const allowed_arch[] = {"s390_pci_mmio_read", "s390_pci_mmio_write",
                                           "s390_runtime_instr", NULL};
/* s390 passes clone's flags second. */
#define CLONE_FLAGS_ARG 1
#elif defined(__powerpc64__)
static const char *const arch_names[] = {"SCMP_ARCH_PPC64LE", NULL};
static const char *const allowed_arch[] = {"swapcontext", "sync_file_range2", NULL};
#define CLONE_FLAGS_ARG 0
#elif defined(__riscv) && __riscv_xlen == 64
static const char *const arch_names[] = {"SCMP_ARCH_RISCV64", NULL};
static const char *const allowed_arch[] = {"riscv_flush_icache", NULL};
#define CLONE_FLAGS_ARG 0
#else
/* Unknown here: the native architecture only (runc adds it). */
static const char *const arch_names[] = {NULL};
static const char *const allowed_arch[] = {NULL};
#define CLONE_FLAGS_ARG 0
#endif

/* The calls a capability unlocks. */
struct cap_calls {
  const char *cap;
  const char *const *names;
};

static const struct cap_calls allowed_with_cap[] = {
    {"CAP_DAC_READ_SEARCH", (const char *const[]){"open_by_handle_at", NULL}},
    {"CAP_SYS_ADMIN", (const char *const[]){"bpf",
                                            "clone",
                                            "clone3",
                                            "fanotify_init",
                                            "fsconfig",
                                            "fsmount",
                                            "fsopen",
                                            "fspick",
                                            "lookup_dcookie",
                                            "mount",
                                            "mount_setattr",
                                            "move_mount",
                                            "name_to_handle_at",
                                            "open_tree",
                                            "perf_event_open",
                                            "quotactl",
                                            "quotactl_fd",
                                            "setdomainname",
                                            "sethostname",
                                            "setns",
                                            "syslog",
                                            "umount",
                                            "umount2",
                                            "unshare",
                                            NULL}},
    {"CAP_SYS_BOOT", (const char *const[]){"reboot", NULL}},
    {"CAP_SYS_CHROOT", (const char *const[]){"chroot", NULL}},
    {"CAP_SYS_MODULE", (const char *const[]){"delete_module", "finit_module", "init_module", NULL}},
    {"CAP_SYS_PACCT", (const char *const[]){"acct", NULL}},
    {"CAP_SYS_PTRACE",
     (const char *const[]){"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv",
                           "process_vm_writev", "ptrace", NULL}},
    {"CAP_SYS_RAWIO", (const char *const[]){"ioperm", "iopl", NULL}},
    {"CAP_SYS_TIME",
     (const char *const[]){"clock_settime", "clock_settime64", "settimeofday", "stime", NULL}},
    {"CAP_SYS_TTY_CONFIG", (const char *const[]){"vhangup", NULL}},
    {"CAP_SYS_NICE", (const char *const[]){"get_mempolicy", "mbind", "set_mempolicy", NULL}},
    {"CAP_SYSLOG", (const char *const[]){"syslog", NULL}},
    {"CAP_BPF", (const char *const[]){"bpf", NULL}},
    {"CAP_PERFMON", (const char *const[]){"perf_event_open", NULL}},
};

/* ptrace(2) could escape seccomp before Linux 4.8; from 4.8 on it is safe
 * to allow to every process. */
static bool
kernel_ptrace_is_safe(void)
{
  struct utsname u;
  int major = 0, minor = 0;
  if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2)
    return false;
  return major > 4 || (major == 4 && minor >= 8);
}

static bool
has_cap(const char *const *caps, const char *cap)
{
  for (; caps != NULL && *caps != NULL; caps++)
    if (strcmp(*caps, cap) == 0)
      return true;
  return false;
}

/* One LinuxSyscall rule: names, an action, an optional errno, no args yet. */
static int
push_rule(json_object *syscalls, const char *const *names, const char *action, int errno_ret,
          json_object **rule_out, lc_error **err)
{
  json_object *rule = json_object_new_object();
  if (spec_push(syscalls, rule, err) != 0 || spec_put_strings(rule, "names", names, err) != 0 ||
      spec_put(rule, "action", json_object_new_string(action), err) != 0 ||
      (errno_ret != 0 && spec_put(rule, "errnoRet", json_object_new_int(errno_ret), err) != 0))
    return -1;
  if (rule_out != NULL)
    *rule_out = rule;
  return 0;
}

/* One argument condition on a rule: args[index] OP value (value_two). */
static int
push_arg(json_object *rule, unsigned index, unsigned long long value, unsigned long long value_two,
         const char *op, lc_error **err)
{
  json_object *args = NULL, *arg = json_object_new_object();
  if (spec_child(rule, "args", json_type_array, &args, err) != 0 || spec_push(args, arg, err) != 0)
    return -1;
  if (spec_put(arg, "index", json_object_new_int64(index), err) != 0 ||
      spec_put(arg, "value", json_object_new_uint64(value), err) != 0 ||
      spec_put(arg, "valueTwo", json_object_new_uint64(value_two), err) != 0 ||
      spec_put(arg, "op", json_object_new_string(op), err) != 0)
    return -1;
  return 0;
}

/* The rules every process gets: the allow list, its architecture's calls,
 * ptrace on a safe kernel, and the harmless personalities. */
static int
push_common_rules(json_object *syscalls, lc_error **err)
{
  static const char *const ptrace[] = {"ptrace", NULL};
  static const char *const personality[] = {"personality", NULL};
  if (push_rule(syscalls, allowed_always, "SCMP_ACT_ALLOW", 0, NULL, err) != 0 ||
      (allowed_arch[0] != NULL &&
       push_rule(syscalls, allowed_arch, "SCMP_ACT_ALLOW", 0, NULL, err) != 0) ||
      (kernel_ptrace_is_safe() && push_rule(syscalls, ptrace, "SCMP_ACT_ALLOW", 0, NULL, err) != 0))
    return -1;
  for (size_t i = 0; i < sizeof(allowed_personas) / sizeof(allowed_personas[0]); i++) {
    json_object *rule = NULL;
    if (push_rule(syscalls, personality, "SCMP_ACT_ALLOW", 0, &rule, err) != 0 ||
        push_arg(rule, 0, allowed_personas[i], 0, "SCMP_CMP_EQ", err) != 0)
      return -1;
  }
  return 0;
}

/* Without CAP_SYS_ADMIN, clone may make threads and processes but no
 * namespaces, and clone3 (whose flags seccomp cannot see) fails with ENOSYS
 * so that libc falls back to clone. */
static int
push_clone_rules(json_object *syscalls, lc_error **err)
{
  static const char *const clone[] = {"clone", NULL};
  static const char *const clone3[] = {"clone3", NULL};
  json_object *rule = NULL;
  if (push_rule(syscalls, clone, "SCMP_ACT_ALLOW", 0, &rule, err) != 0 ||
      push_arg(rule, CLONE_FLAGS_ARG, CLONE_NAMESPACE_FLAGS, 0, "SCMP_CMP_MASKED_EQ", err) != 0 ||
      push_rule(syscalls, clone3, "SCMP_ACT_ERRNO", ENOSYS, NULL, err) != 0)
    return -1;
  return 0;
}

int
spec_seccomp_default(const char *const *caps, json_object **out, lc_error **err)
{
  json_object *profile = json_object_new_object(), *syscalls = NULL;
  if (profile == NULL)
    lc_oom();
  if (spec_put(profile, "defaultAction", json_object_new_string("SCMP_ACT_ERRNO"), err) != 0 ||
      spec_put_strings(profile, "architectures", arch_names, err) != 0 ||
      spec_child(profile, "syscalls", json_type_array, &syscalls, err) != 0 ||
      push_common_rules(syscalls, err) != 0)
    goto fail;
  for (size_t i = 0; i < sizeof(allowed_with_cap) / sizeof(allowed_with_cap[0]); i++) {
    if (has_cap(caps, allowed_with_cap[i].cap) &&
        push_rule(syscalls, allowed_with_cap[i].names, "SCMP_ACT_ALLOW", 0, NULL, err) != 0)
      goto fail;
  }
  if (!has_cap(caps, "CAP_SYS_ADMIN") && push_clone_rules(syscalls, err) != 0)
    goto fail;
  *out = profile;
  return 0;
fail:
  json_object_put(profile);
  return -1;
}

/* docker's profile files (archMap, includes/excludes) are not OCI objects:
 * runc would reject them later in words about JSON, so say it now. */
static int
check_profile(const char *path, json_object *profile, lc_error **err)
{
  json_object *syscalls = NULL;
  if (json_object_object_get_ex(profile, "archMap", NULL))
    return spec_usage_error(err,
                            "--seccomp-profile %s: this is docker's profile format; give an OCI "
                            "LinuxSeccomp object (defaultAction, architectures, syscalls)",
                            path);
  if (spec_get_string(profile, "defaultAction") == NULL)
    return spec_usage_error(err, "--seccomp-profile %s: no \"defaultAction\" string", path);
  if (json_object_object_get_ex(profile, "syscalls", &syscalls) && syscalls != NULL &&
      !json_object_is_type(syscalls, json_type_array))
    return spec_usage_error(err, "--seccomp-profile %s: \"syscalls\" is not an array", path);
  return 0;
}

int
spec_seccomp_load(const char *path, json_object **out, lc_error **err)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  const char *why = NULL;
  int e = lc_read_file(path, PROFILE_MAX, &text, &len);
  if (e == EFBIG)
    return spec_usage_error(err, "--seccomp-profile %s: larger than %d bytes", path, PROFILE_MAX);
  if (e == EINVAL)
    return spec_usage_error(err, "--seccomp-profile %s: not a regular file", path);
  if (e != 0)
    return spec_usage_error(err, "--seccomp-profile %s: %s", path, strerror(e));
  json_object *profile = spec_parse_object(text, len, &why);
  if (profile == NULL)
    return spec_usage_error(err, "--seccomp-profile %s: %s", path, why);
  if (check_profile(path, profile, err) != 0) {
    json_object_put(profile);
    return -1;
  }
  *out = profile;
  return 0;
}
