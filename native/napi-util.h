/*
 * What the addon's source files share: N-API, argument helpers, and the
 * entry points addon.c registers. Errors of the system are returned as
 * positive errno numbers, never thrown; a bad argument throws
 * ERR_CAIRN_NATIVE (a bug in the caller, not a condition of the disk).
 */
#ifndef CAIRN_NAPI_UTIL_H
#define CAIRN_NAPI_UTIL_H
#define NAPI_VERSION 8
#include <node_api.h>

#include <stdbool.h>
#include <stdint.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(call)                                   \
  do {                                                \
    if ((call) != napi_ok) return throw_bad(env, #call); \
  } while (0)

static inline napi_value throw_bad(napi_env env, const char *what) {
  napi_throw_error(env, "ERR_CAIRN_NATIVE", what);
  return NULL;
}

/* The first n arguments of a call into argv; false (a usage error thrown) when there are fewer. */
static inline bool args_of(napi_env env, napi_callback_info info, size_t n, napi_value *argv, const char *usage) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < n) {
    throw_bad(env, usage);
    return false;
  }
  return true;
}

/* A call on a handle (an external value, its first argument), with exactly n arguments: the handle's data, else NULL. */
static inline void *handle_call(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  size_t argc = n;
  void *data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != n) return NULL;
  if (napi_get_value_external(env, argv[0], &data) != napi_ok) return NULL;
  return data;
}

/* A path argument, string or Buffer, as a NUL-terminated copy the caller frees. */
static inline char *path_arg(napi_env env, napi_value v) {
  bool is_buffer = false;
  napi_is_buffer(env, v, &is_buffer);
  if (is_buffer) {
    void *data;
    size_t len;
    if (napi_get_buffer_info(env, v, &data, &len) != napi_ok) return NULL;
    if (memchr(data, 0, len) != NULL) return NULL;
    char *p = malloc(len + 1);
    if (p == NULL) return NULL;
    memcpy(p, data, len);
    p[len] = 0;
    return p;
  }
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *p = malloc(len + 1);
  if (p == NULL) return NULL;
  if (napi_get_value_string_utf8(env, v, p, len + 1, &len) != napi_ok || strlen(p) != len) {
    free(p);
    return NULL;
  }
  return p;
}

/* Opens the directory a path argument names: 0 with *fd set, an errno, or -1 for an argument that is no path. */
static inline int open_dir_arg(napi_env env, napi_value v, int *fd) {
  char *dir = path_arg(env, v);
  if (dir == NULL) return -1;
  *fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int err = *fd < 0 ? errno : 0;
  free(dir);
  return err;
}

static inline napi_value number(napi_env env, double n) {
  napi_value v;
  napi_create_double(env, n, &v);
  return v;
}


/* dirstat.c */
void dirstat_register(napi_env env, napi_value exports);
/* read-files.c: the batch reader, and the thread that runs batches of either kind */
void read_files_register(napi_env env, napi_value exports);

/* match-lines.c */
void match_lines_register(napi_env env, napi_value exports);

/* Numbers per result, for both kinds; keep in step with lib/tree/local/native.ts. */
enum { RSTRIDE = 6 };
/* Numbers per name of an lstat (dirstat.c's statAt and a reader's lstat batches). */
enum { STAT_STRIDE = 14 };
/* dirstat.c: fstatat of names [from, to) relative to fd into out, STAT_STRIDE numbers each. */
void stat_range(int fd, const char *names, const uint32_t *ends, size_t from, size_t to, bool follow, double *out);

/* copy-files.c: numbers per copy (after three paths: source, temporary, final; or two for a write of bytes: temporary, final), and what fills a result. C_OFFSET: where a write's bytes start in its data; C_ROOTLEN: bytes of the destination root at the start of the temporary path (0: resolve it as a path). */
enum { C_SIZE, C_MTIME_SEC, C_MTIME_NSEC, C_MODE, C_UID, C_GID, C_FSYNC, C_OFFSET, C_ROOTLEN, CJSTRIDE };
enum { CR_ERR, CR_STAGE, CR_BYTES, CR_MADE };
/* Where a copy stopped (CR_STAGE); CR_ERR holds the errno, or 0 when the stage itself is the answer (stale, sparse); CR_MADE 1 when a temporary file was made (and removed). */
enum {
  CS_DONE, CS_OPEN_SOURCE, CS_NOT_REGULAR, CS_SOURCE_CHANGED, CS_SPARSE, CS_CREATE, CS_READ, CS_WRITE,
  CS_SOURCE_MOVED, CS_CHOWN, CS_CHMOD, CS_UTIMES, CS_FSYNC, CS_CLOSE, CS_EXISTS, CS_RENAME, CS_NOT_RUN
};
#define COPY_BUF (1 << 20)
/*
 * *stopped is set by a copy that fails for the whole destination (ENOSPC,
 * EDQUOT, EROFS, EIO): every copy after it, in this batch and the next,
 * is not run (CS_NOT_RUN), as cairn-apply stops at such an error.
 */
void copy_batch(const char *paths, const uint32_t *ends, uint32_t count, const double *jobs, double *result, int *stopped);
/* New files of given bytes (data + C_OFFSET, C_SIZE long), made and put in place as copy_batch makes copies. */
void write_batch(const char *paths, const uint32_t *ends, uint32_t count, const double *jobs, const unsigned char *data, double *result, int *stopped);

#endif
