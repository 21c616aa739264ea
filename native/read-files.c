/*
 * readFiles: open, read and fstat a batch of small files in one call.
 * cairn-pack stores 100k small files as GNU tar does, but through Node each
 * file costs four calls with their path conversions and requests (open,
 * read, fstat, close: about 25 us a file here, against tar's 6 us); one
 * N-API call per batch leaves only the system calls.
 *
 * The caller lays the files out in its output buffer (tar headers already
 * there, a slot per file) and gets, per file, what it needs to decide
 * whether the bytes are the planned ones: the errno, the bytes read, and
 * the fstat after reading (type, size, mtime).
 *
 * readFiles does it in the calling thread; submit/finish hand batches to a
 * reader thread, so that the JS thread lays out the next batch (parsing
 * the plan, making headers) while the kernel copies the files: on 100k
 * files the reads are 0.65 s of system time, as much as the JS work.
 */
#define _GNU_SOURCE
#include "napi-util.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

/* Numbers per file in jobs and in result; keep in step with lib/native/addon.ts. */
enum { J_OFFSET, J_SIZE, J_POSITION, JSTRIDE };
enum { R_ERR, R_GOT, R_MODE, R_SIZE, R_MTIME_SEC, R_MTIME_NSEC };

static void *typed_arg(napi_env env, napi_value v, napi_typedarray_type want, size_t *len) {
  napi_typedarray_type t;
  void *data;
  if (napi_get_typedarray_info(env, v, &t, len, &data, NULL, NULL) != napi_ok || t != want) return NULL;
  return data;
}

/* One file: never blocks on a fifo put in its place (O_NONBLOCK), never follows a symlink. */
static void read_one(const char *path, unsigned char *into, size_t size, off_t position, double *r) {
  memset(r, 0, RSTRIDE * sizeof *r);
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    r[R_ERR] = errno;
    return;
  }
  size_t got = 0;
  while (got < size) {
    ssize_t n = pread(fd, into + got, size - got, position + (off_t)got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      r[R_ERR] = errno;
      break;
    }
    if (n == 0) break;
    got += (size_t)n;
  }
  struct stat st;
  if (r[R_ERR] == 0 && fstat(fd, &st) != 0) r[R_ERR] = errno;
  close(fd);
  r[R_GOT] = (double)got;
  if (r[R_ERR] != 0) return;
  r[R_MODE] = st.st_mode;
  r[R_SIZE] = (double)st.st_size;
  r[R_MTIME_SEC] = (double)st.st_mtim.tv_sec;
  r[R_MTIME_NSEC] = (double)st.st_mtim.tv_nsec;
}

/*
 * What a batch does: reads for cairn-pack, copies for cairn-apply, writes
 * of bytes for cairn-restore (copy-files.c), lstats of whole paths (the
 * objects cairn-pack checks before it writes a volume's descriptor).
 */
enum { KIND_READ, KIND_COPY, KIND_WRITE, KIND_LSTAT };

/* Paths per file of a batch of this kind (a read's; a copy's source, temporary and final; a write's temporary and final; an lstat's). */
static size_t paths_per(int kind) {
  return kind == KIND_READ || kind == KIND_LSTAT ? 1 : kind == KIND_COPY ? 3 : 2;
}

/* Numbers per file in a batch's jobs. */
static size_t job_stride(int kind) {
  return kind == KIND_READ ? JSTRIDE : kind == KIND_LSTAT ? 0 : CJSTRIDE;
}

/* Numbers per file in a batch's result. */
static size_t result_stride(int kind) {
  return kind == KIND_LSTAT ? STAT_STRIDE : RSTRIDE;
}

/* Kinds whose batches read or write a buffer of JS's. */
static bool has_into(int kind) {
  return kind == KIND_READ || kind == KIND_WRITE;
}

/* A batch's arguments as JS gave them, checked: NULL and a thrown error when they are not. */
struct batch_args {
  int kind;
  const char *paths;
  size_t paths_len;
  const uint32_t *ends;
  uint32_t count;
  const double *jobs;
  unsigned char *into;
};

/* argv: paths, ends, count, jobs, into (reads only), result (when asked for). */
static bool batch_args(napi_env env, const napi_value *argv, int kind, struct batch_args *b, double **result, size_t *result_len) {
  size_t ends_len, jobs_len, into_len = 0;
  void *paths;
  b->kind = kind;
  if (napi_get_buffer_info(env, argv[0], &paths, &b->paths_len) != napi_ok) return throw_bad(env, "paths must be a Buffer"), false;
  b->paths = paths;
  b->ends = typed_arg(env, argv[1], napi_uint32_array, &ends_len);
  if (napi_get_value_uint32(env, argv[2], &b->count) != napi_ok) return throw_bad(env, "count must be a number"), false;
  b->jobs = typed_arg(env, argv[3], napi_float64_array, &jobs_len);
  b->into = has_into(kind) ? typed_arg(env, argv[4], napi_uint8_array, &into_len) : NULL;
  /* An lstat has no jobs: its array may be empty, and an empty typed array has no data pointer. */
  if (b->ends == NULL || (b->jobs == NULL && job_stride(kind) > 0) || (has_into(kind) && b->into == NULL)) return throw_bad(env, "ends Uint32Array, jobs Float64Array, into Uint8Array"), false;
  size_t per_path = paths_per(kind), stride = job_stride(kind);
  if ((size_t)b->count * per_path > ends_len || (size_t)b->count * stride > jobs_len) return throw_bad(env, "count beyond the arrays"), false;
  if (result != NULL) {
    *result = typed_arg(env, argv[5], napi_float64_array, result_len);
    if (*result == NULL || (size_t)b->count * RSTRIDE > *result_len) return throw_bad(env, "result must be a Float64Array of count * RSTRIDE"), false;
  }
  /* Everything comes from JS: every path must end with its NUL inside paths, every slot inside into. */
  for (size_t k = 0; k < b->count * per_path; k++) {
    size_t start = k == 0 ? 0 : b->ends[k - 1];
    if (b->ends[k] <= start || b->ends[k] > b->paths_len || b->paths[b->ends[k] - 1] != 0) return throw_bad(env, "paths not NUL-terminated as ends say"), false;
  }
  for (size_t k = 0; kind == KIND_READ && k < b->count; k++) {
    const double *j = b->jobs + k * JSTRIDE;
    if (!(j[J_OFFSET] >= 0 && j[J_SIZE] >= 0 && j[J_POSITION] >= 0 && j[J_OFFSET] + j[J_SIZE] <= (double)into_len)) return throw_bad(env, "a slot outside into"), false;
  }
  for (size_t k = 0; kind == KIND_WRITE && k < b->count; k++) {
    const double *j = b->jobs + k * CJSTRIDE;
    if (!(j[C_OFFSET] >= 0 && j[C_SIZE] >= 0 && j[C_OFFSET] + j[C_SIZE] <= (double)into_len)) return throw_bad(env, "a slot outside into"), false;
  }
  return true;
}

static void run_batch(const struct batch_args *b, double *result, int *stopped) {
  if (b->kind == KIND_COPY) {
    copy_batch(b->paths, b->ends, b->count, b->jobs, result, stopped);
    return;
  }
  if (b->kind == KIND_WRITE) {
    write_batch(b->paths, b->ends, b->count, b->jobs, b->into, result, stopped);
    return;
  }
  if (b->kind == KIND_LSTAT) {
    stat_range(AT_FDCWD, b->paths, b->ends, 0, b->count, false, result);
    return;
  }
  for (size_t k = 0; k < b->count; k++) {
    const double *j = b->jobs + k * JSTRIDE;
    const char *path = b->paths + (k == 0 ? 0 : b->ends[k - 1]);
    read_one(path, b->into + (size_t)j[J_OFFSET], (size_t)j[J_SIZE], (off_t)j[J_POSITION], result + k * RSTRIDE);
  }
}

/*
 * readFiles(paths, ends, count, jobs, into, result) -> undefined
 *   paths: NUL-terminated paths back to back, ends[k] the end of path k.
 *   jobs: JSTRIDE numbers per file: where its bytes go in into, how many,
 *   and from which position of the file. result: RSTRIDE numbers per file,
 *   filled here (R_ERR a positive errno, 0 when read and examined).
 */
static napi_value read_files(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!args_of(env, info, 6, argv, "readFiles(paths, ends, count, jobs, into, result)")) return NULL;
  struct batch_args b;
  double *result;
  size_t result_len;
  if (!batch_args(env, argv, KIND_READ, &b, &result, &result_len)) return NULL;
  run_batch(&b, result, NULL);
  return NULL;
}

/* A batch handed to the reader thread: its own copies of the arguments, and a reference that keeps into alive. */
struct batch {
  struct batch *next;
  uint32_t id;
  int state; /* 0 queued, 1 being read, 2 read */
  struct batch_args a;
  double *result;
  napi_ref into_ref;
};

struct reader {
  pthread_mutex_t mu;
  pthread_cond_t work, done;
  struct batch *head, *tail; /* queued and read alike, in submission order */
  struct batch *next;        /* the first not yet started */
  bool stop, idle, closed;
  int copies_stopped; /* see copy_batch: once set, no more copies run */
  pthread_t thread;
};

static void *reader_thread(void *arg) {
  struct reader *r = arg;
  pthread_mutex_lock(&r->mu);
  for (;;) {
    while (!r->stop && r->next == NULL) {
      r->idle = true;
      pthread_cond_wait(&r->work, &r->mu);
    }
    r->idle = false;
    if (r->stop) break;
    struct batch *b = r->next;
    r->next = b->next;
    b->state = 1;
    pthread_mutex_unlock(&r->mu);
    run_batch(&b->a, b->result, &r->copies_stopped);
    pthread_mutex_lock(&r->mu);
    b->state = 2;
    pthread_cond_broadcast(&r->done);
  }
  pthread_mutex_unlock(&r->mu);
  return NULL;
}

static void batch_free(napi_env env, struct batch *b) {
  if (b->into_ref != NULL && env != NULL) napi_delete_reference(env, b->into_ref);
  free((void *)b->a.paths);
  free((void *)b->a.ends);
  free((void *)b->a.jobs);
  free(b->result);
  free(b);
}

static void reader_close(napi_env env, struct reader *r) {
  if (r->closed) return;
  r->closed = true;
  pthread_mutex_lock(&r->mu);
  r->stop = true;
  pthread_cond_signal(&r->work);
  pthread_mutex_unlock(&r->mu);
  pthread_join(r->thread, NULL);
  while (r->head != NULL) {
    struct batch *b = r->head;
    r->head = b->next;
    batch_free(env, b);
  }
}

static void reader_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  struct reader *r = data;
  /* At teardown the references go with the environment: free memory only. */
  reader_close(NULL, r);
  (void)env;
  pthread_mutex_destroy(&r->mu);
  pthread_cond_destroy(&r->work);
  pthread_cond_destroy(&r->done);
  free(r);
}

/* The arguments of a call on an open reader (its first argument): exactly n of them, else NULL. */
static struct reader *reader_call(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  struct reader *r = handle_call(env, info, n, argv);
  return r == NULL || r->closed ? NULL : r;
}

/* resetCopies(handle): copies run again after one that stopped them (a new run of cairn-apply in the same process). */
static napi_value reset_copies(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  struct reader *r = reader_call(env, info, 1, argv);
  if (r == NULL) return throw_bad(env, "resetCopies(handle): no open handle");
  __atomic_store_n(&r->copies_stopped, 0, __ATOMIC_SEQ_CST);
  return NULL;
}

/* openReader() -> handle: starts the reader thread. */
static napi_value open_reader(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value handle;
  struct reader *r = calloc(1, sizeof *r);
  if (r == NULL) return throw_bad(env, "openReader: no memory");
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->work, NULL);
  pthread_cond_init(&r->done, NULL);
  if (pthread_create(&r->thread, NULL, reader_thread, r) != 0) {
    r->closed = true;
    reader_finalize(env, r, NULL);
    return throw_bad(env, "openReader: no thread");
  }
  if (napi_create_external(env, r, reader_finalize, NULL, &handle) != napi_ok) {
    reader_finalize(env, r, NULL);
    return throw_bad(env, "openReader: no memory");
  }
  return handle;
}

static void *copy_of(const void *p, size_t n) {
  void *c = malloc(n ? n : 1);
  if (c != NULL && n > 0) memcpy(c, p, n);
  return c;
}

/*
 * submit(handle, id, kind, paths, ends, count, jobs, into): readFiles (kind
 * 0), copyFiles (kind 1, into unused) or writes of into's bytes (kind 2,
 * two paths per file) in the reader thread;
 * finish(handle, id, result) gets the result.
 */
static napi_value submit(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  struct reader *r = reader_call(env, info, 8, argv);
  if (r == NULL) return throw_bad(env, "submit(handle, id, kind, paths, ends, count, jobs, into): no open handle");
  uint32_t kind;
  if (napi_get_value_uint32(env, argv[2], &kind) != napi_ok || kind > KIND_LSTAT) return throw_bad(env, "submit: kind must be 0 (read), 1 (copy), 2 (write) or 3 (lstat)");
  struct batch *b = calloc(1, sizeof *b);
  if (b == NULL) return throw_bad(env, "submit: no memory");
  if (napi_get_value_uint32(env, argv[1], &b->id) != napi_ok) {
    free(b);
    return throw_bad(env, "submit: id must be a number");
  }
  struct batch_args a;
  if (!batch_args(env, argv + 3, (int)kind, &a, NULL, NULL)) {
    free(b);
    return NULL;
  }
  b->a = a;
  b->a.paths = copy_of(a.paths, a.paths_len);
  b->a.ends = copy_of(a.ends, (size_t)a.count * paths_per((int)kind) * sizeof *a.ends);
  b->a.jobs = copy_of(a.jobs, (size_t)a.count * job_stride((int)kind) * sizeof *a.jobs);
  b->result = calloc((size_t)a.count * result_stride((int)kind) + 1, sizeof *b->result);
  if (b->a.paths == NULL || b->a.ends == NULL || b->a.jobs == NULL || b->result == NULL || (has_into((int)kind) && napi_create_reference(env, argv[7], 1, &b->into_ref) != napi_ok)) {
    batch_free(env, b);
    return throw_bad(env, "submit: no memory");
  }
  pthread_mutex_lock(&r->mu);
  if (r->tail != NULL) r->tail->next = b;
  else r->head = b;
  r->tail = b;
  if (r->next == NULL) r->next = b;
  if (r->idle) pthread_cond_signal(&r->work);
  pthread_mutex_unlock(&r->mu);
  return NULL;
}

/* finish(handle, id, result): waits for batch id (reads it here if the thread has not started it) and copies its result out. */
static napi_value finish(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  struct reader *r = reader_call(env, info, 3, argv);
  uint32_t id;
  if (r == NULL || napi_get_value_uint32(env, argv[1], &id) != napi_ok) return throw_bad(env, "finish(handle, id, result): no open handle");
  size_t result_len;
  double *result = typed_arg(env, argv[2], napi_float64_array, &result_len);
  pthread_mutex_lock(&r->mu);
  struct batch **at = &r->head, *prev = NULL;
  while (*at != NULL && (*at)->id != id) prev = *at, at = &(*at)->next;
  struct batch *b = *at;
  if (b == NULL || result == NULL || result_len < (size_t)b->a.count * result_stride(b->a.kind)) {
    pthread_mutex_unlock(&r->mu);
    return throw_bad(env, "finish: no such batch, or result too small");
  }
  /*
   * Waited for, never run here: batches run one at a time and in order, so
   * a copy after one that stopped the run (copy_batch) never runs, and the
   * thread's queue pointer never meets a batch freed under it.
   */
  if (r->idle) pthread_cond_signal(&r->work);
  while (b->state != 2) pthread_cond_wait(&r->done, &r->mu);
  *at = b->next;
  if (r->tail == b) r->tail = prev;
  if (r->next == b) r->next = b->next;
  pthread_mutex_unlock(&r->mu);
  memcpy(result, b->result, (size_t)b->a.count * result_stride(b->a.kind) * sizeof *result);
  batch_free(env, b);
  return NULL;
}

void read_files_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"readFiles", NULL, read_files, NULL, NULL, NULL, napi_default, NULL},
      {"openReader", NULL, open_reader, NULL, NULL, NULL, napi_default, NULL},
      {"resetCopies", NULL, reset_copies, NULL, NULL, NULL, napi_default, NULL},
      {"submit", NULL, submit, NULL, NULL, NULL, napi_default, NULL},
      {"finish", NULL, finish, NULL, NULL, NULL, napi_default, NULL},
      {"RSTRIDE", NULL, NULL, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value stride;
  napi_create_uint32(env, RSTRIDE, &stride);
  props[5].value = stride;
  napi_define_properties(env, exports, 6, props);
}
