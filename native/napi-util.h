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
/* read-files.c */
void read_files_register(napi_env env, napi_value exports);

#endif
