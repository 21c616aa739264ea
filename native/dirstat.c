/*
 * dirstat: the two system calls the walk makes once per object, without
 * Node's per-call cost. Node's lstat converts the path, fills a request,
 * calls statx on the whole path (the kernel walks every component again) and
 * fills a shared array: about 3.9 us per object here, against 1.5 us for
 * fstatat on a name relative to its directory. That difference is most of a
 * scan's time (lib/tree/local/native.ts has the measurements).
 *
 * Errors are returned as positive errno numbers, never thrown: the caller
 * turns them into Node's usual system errors, so every path above this file
 * sees one kind of error whichever lister ran.
 */
#define _GNU_SOURCE
#include "napi-util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Fields per object in statAt's result; keep in step with native.ts. */
enum {
  F_ERR, F_MODE, F_NLINK, F_UID, F_GID, F_RDEV, F_SIZE, F_BLOCKS, F_INO, F_DEV,
  F_MTIME_SEC, F_MTIME_NSEC, F_CTIME_SEC, F_CTIME_NSEC, STRIDE
};
_Static_assert((int)STRIDE == (int)STAT_STRIDE, "a reader's lstat batches give statAt's numbers");

/* Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF): as records/raw-names.ts decides. */
static int valid_utf8(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i];
    if (c < 0x80) { i++; continue; }
    size_t len;
    unsigned min, cp;
    if ((c & 0xe0) == 0xc0) { len = 2; min = 0x80; cp = c & 0x1f; }
    else if ((c & 0xf0) == 0xe0) { len = 3; min = 0x800; cp = c & 0x0f; }
    else if ((c & 0xf8) == 0xf0) { len = 4; min = 0x10000; cp = c & 0x07; }
    else return 0;
    if (i + len > n) return 0;
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xc0) != 0x80) return 0;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    i += len;
  }
  return 1;
}

struct name_ref {
  size_t off;
  size_t len;
  unsigned char type;
};

/* Byte order, a prefix first: canonical order for names, which hold no '/'. The base comes as an argument: threads list at once. */
static int by_bytes(const void *a, const void *b, void *base) {
  return strcmp((const char *)base + ((const struct name_ref *)a)->off, (const char *)base + ((const struct name_ref *)b)->off);
}

/* One directory's names, sorted: what listNames returns and listStat starts from. Plain C, so it can run off the JS thread. */
struct listing {
  char *names; /* NUL-terminated, in order */
  size_t used;
  uint32_t *ends;
  uint8_t *types;
  size_t count;
  int all_utf8;
};

static void listing_free(struct listing *l) {
  free(l->names);
  free(l->ends);
  free(l->types);
  memset(l, 0, sizeof *l);
}

/* Reads the directory open on fd (which it closes) into l; returns 0 or an errno. */
static int read_sorted(int fd, struct listing *l) {
  memset(l, 0, sizeof *l);
  DIR *d = fdopendir(fd);
  if (d == NULL) {
    int e = errno;
    close(fd);
    return e;
  }
  size_t cap = 4096, used = 0, count = 0, refcap = 64;
  char *buf = malloc(cap);
  struct name_ref *refs = malloc(refcap * sizeof *refs);
  int err = (buf == NULL || refs == NULL) ? ENOMEM : 0;
  while (!err) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (e == NULL) {
      err = errno;
      break;
    }
    const char *n = e->d_name;
    if (n[0] == '.' && (n[1] == 0 || (n[1] == '.' && n[2] == 0))) continue;
    size_t len = strlen(n);
    if (used + len + 1 > UINT32_MAX) { err = ENOMEM; break; } /* ends are 32-bit */
    if (used + len + 1 > cap) {
      while (used + len + 1 > cap) cap *= 2;
      char *nb = realloc(buf, cap);
      if (nb == NULL) { err = ENOMEM; break; }
      buf = nb;
    }
    if (count == refcap) {
      refcap *= 2;
      struct name_ref *nr = realloc(refs, refcap * sizeof *refs);
      if (nr == NULL) { err = ENOMEM; break; }
      refs = nr;
    }
    memcpy(buf + used, n, len + 1);
    refs[count].off = used;
    refs[count].len = len;
    refs[count].type = e->d_type;
    count++;
    used += len + 1;
  }
  closedir(d);
  if (!err) {
    qsort_r(refs, count, sizeof *refs, by_bytes, buf);
    l->names = malloc(used ? used : 1);
    l->ends = malloc(count ? count * sizeof *l->ends : 1);
    l->types = malloc(count ? count : 1);
    if (l->names == NULL || l->ends == NULL || l->types == NULL) err = ENOMEM;
  }
  if (!err) {
    l->all_utf8 = 1;
    size_t at = 0;
    for (size_t i = 0; i < count; i++) {
      memcpy(l->names + at, buf + refs[i].off, refs[i].len + 1);
      if (l->all_utf8 && !valid_utf8((const unsigned char *)buf + refs[i].off, refs[i].len)) l->all_utf8 = 0;
      at += refs[i].len + 1;
      l->ends[i] = (uint32_t)at;
      l->types[i] = refs[i].type;
    }
    l->used = used;
    l->count = count;
  }
  free(buf);
  free(refs);
  if (err) listing_free(l);
  return err;
}

/* fstatat of names [from, to) relative to fd into out, STRIDE doubles each; see statAt. */
void stat_range(int fd, const char *names, const uint32_t *ends, size_t from, size_t to, bool follow, double *out) {
  for (size_t k = from; k < to; k++, out += STRIDE) {
    const char *name = names + (k == 0 ? 0 : ends[k - 1]);
    struct stat st;
    int r = fstatat(fd, name, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW);
    if (r != 0 && follow && (errno == ENOENT || errno == ELOOP || errno == ENOTDIR)) r = fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW);
    if (r != 0) {
      memset(out, 0, STRIDE * sizeof *out);
      out[F_ERR] = errno;
      continue;
    }
    out[F_ERR] = 0;
    out[F_MODE] = st.st_mode;
    out[F_NLINK] = (double)st.st_nlink;
    out[F_UID] = st.st_uid;
    out[F_GID] = st.st_gid;
    out[F_RDEV] = (double)st.st_rdev;
    out[F_SIZE] = (double)st.st_size;
    out[F_BLOCKS] = (double)st.st_blocks;
    out[F_INO] = (double)st.st_ino;
    out[F_DEV] = (double)st.st_dev;
    out[F_MTIME_SEC] = (double)st.st_mtim.tv_sec;
    out[F_MTIME_NSEC] = (double)st.st_mtim.tv_nsec;
    out[F_CTIME_SEC] = (double)st.st_ctim.tv_sec;
    out[F_CTIME_NSEC] = (double)st.st_ctim.tv_nsec;
  }
}

static void free_hint(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

/* Hands l's memory to JS (no copies): [names, ends, types, allUtf8]. l is emptied. */
static napi_status listing_value(napi_env env, struct listing *l, napi_value *result) {
  napi_value names, ends_ab, ends, types_ab, types, all_utf8;
  napi_status s;
  if ((s = napi_create_external_buffer(env, l->used, l->names, free_hint, NULL, &names)) != napi_ok) return s;
  l->names = NULL;
  if ((s = napi_create_external_arraybuffer(env, l->ends, l->count * sizeof *l->ends, free_hint, NULL, &ends_ab)) != napi_ok) return s;
  l->ends = NULL;
  if ((s = napi_create_external_arraybuffer(env, l->types, l->count, free_hint, NULL, &types_ab)) != napi_ok) return s;
  l->types = NULL;
  if ((s = napi_create_typedarray(env, napi_uint32_array, l->count, ends_ab, 0, &ends)) != napi_ok) return s;
  if ((s = napi_create_typedarray(env, napi_uint8_array, l->count, types_ab, 0, &types)) != napi_ok) return s;
  if ((s = napi_get_boolean(env, l->all_utf8, &all_utf8)) != napi_ok) return s;
  if ((s = napi_create_array_with_length(env, 4, result)) != napi_ok) return s;
  napi_set_element(env, *result, 0, names);
  napi_set_element(env, *result, 1, ends);
  napi_set_element(env, *result, 2, types);
  napi_set_element(env, *result, 3, all_utf8);
  return napi_ok;
}

/*
 * listNames(dir) -> errno | [names, ends, types, allUtf8]
 *   names:   Buffer, every name NUL-terminated, in byte order ('.' and '..' left out)
 *   ends:    Uint32Array, the offset just past each name (its NUL)
 *   types:   Uint8Array, d_type of each name (DT_UNKNOWN when the filesystem gives none)
 *   allUtf8: every name is well-formed UTF-8
 */
static napi_value list_names(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!args_of(env, info, 1, argv, "listNames(dir)")) return NULL;
  int fd, err = open_dir_arg(env, argv[0], &fd);
  if (err < 0) return throw_bad(env, "listNames: bad path");
  if (err) return number(env, err);
  struct listing l;
  err = read_sorted(fd, &l);
  if (err) return number(env, err);
  napi_value result;
  if (listing_value(env, &l, &result) != napi_ok) {
    listing_free(&l);
    return throw_bad(env, "listNames: no memory");
  }
  return result;
}

/*
 * statAt(dir, names, ends, from, to, follow) -> errno | Float64Array
 *   fstatat of names [from, to) (as listNames gave them) relative to an fd of
 *   dir: STRIDE numbers per name, F_ERR the errno of that name (0: fine).
 *   With follow, stat(2), and the link itself when it dangles or loops (as
 *   stat.ts's statOf). Numbers beyond 2^53 lose precision: the caller checks.
 *   A null dir: the names are whole paths (one call for a batch of paths
 *   from all over a tree, as cairn-pack checks a plan's objects).
 */
static napi_value stat_at(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!args_of(env, info, 6, argv, "statAt(dir, names, ends, from, to, follow)")) return NULL;
  void *names;
  size_t names_len;
  CHECK(napi_get_buffer_info(env, argv[1], &names, &names_len));
  napi_typedarray_type tt;
  size_t ends_len;
  void *ends_data;
  CHECK(napi_get_typedarray_info(env, argv[2], &tt, &ends_len, &ends_data, NULL, NULL));
  if (tt != napi_uint32_array) return throw_bad(env, "statAt: ends must be a Uint32Array");
  uint32_t from, to;
  bool follow;
  CHECK(napi_get_value_uint32(env, argv[3], &from));
  CHECK(napi_get_value_uint32(env, argv[4], &to));
  CHECK(napi_get_value_bool(env, argv[5], &follow));
  const uint32_t *endv = ends_data;
  if (from > to || to > ends_len) return throw_bad(env, "statAt: range outside the names");
  /* Every name in range must end inside the buffer with its NUL: ends come from JS. */
  if (from > 0 && endv[from - 1] > names_len) return throw_bad(env, "statAt: names not as listNames gave them");
  for (size_t k = from; k < to; k++) {
    size_t start = k == 0 ? 0 : endv[k - 1];
    if (endv[k] <= start || endv[k] > names_len || ((const char *)names)[endv[k] - 1] != 0) return throw_bad(env, "statAt: names not as listNames gave them");
  }
  napi_valuetype dir_type;
  CHECK(napi_typeof(env, argv[0], &dir_type));
  int fd = AT_FDCWD;
  if (dir_type != napi_null) {
    int err = open_dir_arg(env, argv[0], &fd);
    if (err < 0) return throw_bad(env, "statAt: bad path");
    if (err) return number(env, err);
  }
  napi_value ab, result;
  void *data;
  if (napi_create_arraybuffer(env, (size_t)(to - from) * STRIDE * sizeof(double), &data, &ab) != napi_ok) {
    if (fd != AT_FDCWD) close(fd);
    return throw_bad(env, "statAt: no memory");
  }
  stat_range(fd, names, endv, from, to, follow, data);
  if (fd != AT_FDCWD) close(fd);
  CHECK(napi_create_typedarray(env, napi_float64_array, (size_t)(to - from) * STRIDE, ab, 0, &result));
  return result;
}

/* One directory listed ahead. */
struct dir_result {
  char *dir;
  int err;
  struct listing l;
  double *stats;
  double dev, ino;
};

static void list_one(struct dir_result *r, bool follow) {
  /* As the walk's own check: a directory it cannot read and search is an error on its line, not a listing of errors. */
  if (access(r->dir, R_OK | X_OK) != 0) {
    r->err = errno;
    return;
  }
  int fd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    r->err = errno;
    return;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    r->err = errno;
    close(fd);
    return;
  }
  r->dev = (double)st.st_dev;
  r->ino = (double)st.st_ino;
  /* read_sorted closes what it is given: list through a second descriptor, stat through this one. */
  int lfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (lfd < 0) {
    r->err = errno;
    close(fd);
    return;
  }
  r->err = read_sorted(lfd, &r->l);
  if (!r->err) {
    r->stats = malloc(r->l.count ? r->l.count * STRIDE * sizeof(double) : 1);
    if (r->stats == NULL) r->err = ENOMEM;
    else stat_range(fd, r->l.names, r->l.ends, 0, r->l.count, follow, r->stats);
  }
  close(fd);
}

/* One directory's value: errno, or [names, ends, types, allUtf8, stats, dev, ino]. */
static napi_status dir_value(napi_env env, struct dir_result *r, napi_value *out) {
  if (r->err) {
    *out = number(env, r->err);
    return napi_ok;
  }
  napi_value stats_ab, stats;
  napi_status s;
  if ((s = listing_value(env, &r->l, out)) != napi_ok) return s;
  if ((s = napi_create_external_arraybuffer(env, r->stats, r->l.count * STRIDE * sizeof(double), free_hint, NULL, &stats_ab)) != napi_ok) return s;
  r->stats = NULL;
  if ((s = napi_create_typedarray(env, napi_float64_array, r->l.count * STRIDE, stats_ab, 0, &stats)) != napi_ok) return s;
  napi_set_element(env, *out, 4, stats);
  napi_set_element(env, *out, 5, number(env, r->dev));
  napi_set_element(env, *out, 6, number(env, r->ino));
  return napi_ok;
}

/*
 * Listing ahead: one helper thread per walk lists the directories the walk
 * will need next, while the JS thread builds lines. Of the requests queued
 * it takes the one needed first: the least absolute path in canonical order
 * (the walk is depth first in that order, and every path shares the root).
 * It is woken only when it has run dry, or was holding its limit (a wake
 * costs the waker about 20 us on this kind of VM, so libuv's pool, woken per
 * job, was no gain), and a request it has not started when it is needed is
 * done by the caller itself.
 */
struct request {
  struct request *next;      /* in the queue, while queued */
  struct request *live_next; /* every request not yet taken */
  uint32_t id;
  bool claimed; /* asked for by the caller (else queued by the helper on its own, see descend) */
  int state; /* 0 queued, 1 being listed, 2 listed */
  struct dir_result r;
};

/* Names listed and not taken, at most (about 120 bytes each): memory stays bounded whatever the walk asks. */
#define HELD_MAX (1 << 16)

struct ahead {
  pthread_mutex_t mu;
  pthread_cond_t work; /* the helper waits here for requests, or for room */
  pthread_cond_t done; /* take() waits here for a request being listed */
  struct request *queue, *live;
  size_t held, live_count;
  double max_size; /* subdirectories bigger than this (st_size) are not queued: the walk lists those itself */
  bool follow, descend, stop, idle, closed;
  pthread_t thread;
};

/* Requests not yet taken, at most, when the helper queues more on its own: request() and the helper scan them linearly. */
#define LIVE_MAX 512

/* Canonical order of two paths: bytes, with '/' below every other byte. */
static int path_order(const char *a, const char *b) {
  for (;; a++, b++) {
    unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
    if (x != y) {
      if (x == 0) return -1;
      if (y == 0) return 1;
      if (x == '/') return -1;
      if (y == '/') return 1;
      return x < y ? -1 : 1;
    }
    if (x == 0) return 0;
  }
}

static void request_free(struct request *q) {
  listing_free(&q->r.l);
  free(q->r.stats);
  free(q->r.dir);
  free(q);
}

/*
 * With descend (the walk enters every directory: no filters, no -L, no -x),
 * the subdirectories of a listing are queued at once, before the caller has
 * read the listing and asked for them: the caller's request then finds its
 * directory listed. Called with the lock held.
 */
static void queue_subdirs(struct ahead *a, const struct dir_result *r) {
  if (r->err) return;
  size_t dlen = strlen(r->dir);
  bool root = dlen == 1 && r->dir[0] == '/';
  for (size_t i = 0; i < r->l.count && a->live_count < LIVE_MAX; i++) {
    const double *st = r->stats + i * STRIDE;
    if (st[F_ERR] != 0 || !S_ISDIR((mode_t)st[F_MODE]) || st[F_SIZE] > a->max_size) continue;
    size_t start = i == 0 ? 0 : r->l.ends[i - 1];
    size_t nlen = r->l.ends[i] - 1 - start;
    struct request *q = calloc(1, sizeof *q);
    char *path = q == NULL ? NULL : malloc(dlen + 1 + nlen + 1);
    if (path == NULL) {
      free(q);
      return;
    }
    memcpy(path, r->dir, dlen);
    size_t at = root ? dlen : dlen + 1;
    if (!root) path[dlen] = '/';
    memcpy(path + at, r->l.names + start, nlen + 1);
    q->r.dir = path;
    q->next = a->queue;
    a->queue = q;
    q->live_next = a->live;
    a->live = q;
    a->live_count++;
  }
}

static void *helper(void *arg) {
  struct ahead *a = arg;
  pthread_mutex_lock(&a->mu);
  for (;;) {
    while (!a->stop && (a->queue == NULL || a->held >= HELD_MAX)) {
      a->idle = true;
      pthread_cond_wait(&a->work, &a->mu);
    }
    a->idle = false;
    if (a->stop) break;
    struct request **best = &a->queue;
    for (struct request **q = &a->queue; *q != NULL; q = &(*q)->next)
      if (path_order((*q)->r.dir, (*best)->r.dir) < 0) best = q;
    struct request *q = *best;
    *best = q->next;
    q->state = 1;
    pthread_mutex_unlock(&a->mu);
    list_one(&q->r, a->follow);
    pthread_mutex_lock(&a->mu);
    q->state = 2;
    a->held += q->r.l.count;
    pthread_cond_broadcast(&a->done);
    if (a->descend) queue_subdirs(a, &q->r);
  }
  pthread_mutex_unlock(&a->mu);
  return NULL;
}

static void ahead_close(struct ahead *a) {
  if (a->closed) return;
  a->closed = true;
  pthread_mutex_lock(&a->mu);
  a->stop = true;
  pthread_cond_signal(&a->work);
  pthread_mutex_unlock(&a->mu);
  pthread_join(a->thread, NULL);
  while (a->live != NULL) {
    struct request *q = a->live;
    a->live = q->live_next;
    request_free(q);
  }
}

static void ahead_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  struct ahead *a = data;
  ahead_close(a);
  pthread_mutex_destroy(&a->mu);
  pthread_cond_destroy(&a->work);
  pthread_cond_destroy(&a->done);
  free(a);
}

/* The arguments of a call on an open handle (its first argument): exactly n of them, else NULL. */
static struct ahead *ahead_call(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  struct ahead *a = handle_call(env, info, n, argv);
  return a == NULL || a->closed ? NULL : a;
}

/* openAhead(follow, descend, maxSize) -> handle: starts the helper thread. */
static napi_value open_ahead(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], handle;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  struct ahead *a = calloc(1, sizeof *a);
  if (a == NULL) return throw_bad(env, "openAhead: no memory");
  if (argc < 3 || napi_get_value_bool(env, argv[0], &a->follow) != napi_ok || napi_get_value_bool(env, argv[1], &a->descend) != napi_ok ||
      napi_get_value_double(env, argv[2], &a->max_size) != napi_ok) {
    free(a);
    return throw_bad(env, "openAhead(follow, descend, maxSize)");
  }
  pthread_mutex_init(&a->mu, NULL);
  pthread_cond_init(&a->work, NULL);
  pthread_cond_init(&a->done, NULL);
  if (pthread_create(&a->thread, NULL, helper, a) != 0) {
    a->closed = true;
    ahead_finalize(env, a, NULL);
    return throw_bad(env, "openAhead: no thread");
  }
  if (napi_create_external(env, a, ahead_finalize, NULL, &handle) != napi_ok) {
    ahead_finalize(env, a, NULL);
    return throw_bad(env, "openAhead: no memory");
  }
  return handle;
}

/* request(handle, id, dir): queues dir for listing under the caller's id. */
static napi_value request(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  struct ahead *a = ahead_call(env, info, 3, argv);
  if (a == NULL) return throw_bad(env, "request(handle, id, dir): no open handle");
  struct request *q = calloc(1, sizeof *q);
  if (q == NULL) return throw_bad(env, "request: no memory");
  if (napi_get_value_uint32(env, argv[1], &q->id) != napi_ok || (q->r.dir = path_arg(env, argv[2])) == NULL) {
    free(q);
    return throw_bad(env, "request: bad arguments");
  }
  q->claimed = true;
  pthread_mutex_lock(&a->mu);
  for (struct request *o = a->live; o != NULL; o = o->live_next) {
    if (!o->claimed && strcmp(o->r.dir, q->r.dir) == 0) {
      /* Queued (or listed already) by the helper on its own: the caller's now. */
      o->claimed = true;
      o->id = q->id;
      pthread_mutex_unlock(&a->mu);
      free(q->r.dir);
      free(q);
      return NULL;
    }
  }
  q->next = a->queue;
  a->queue = q;
  q->live_next = a->live;
  a->live = q;
  a->live_count++;
  if (a->idle) pthread_cond_signal(&a->work);
  pthread_mutex_unlock(&a->mu);
  return NULL;
}

/* take(handle, id) -> errno | [names, ends, types, allUtf8, stats, dev, ino]: the listing of a request, done here if not started. */
static napi_value take(napi_env env, napi_callback_info info) {
  napi_value argv[2], out;
  struct ahead *a = ahead_call(env, info, 2, argv);
  uint32_t id;
  if (a == NULL || napi_get_value_uint32(env, argv[1], &id) != napi_ok) return throw_bad(env, "take(handle, id): no open handle");
  pthread_mutex_lock(&a->mu);
  struct request **at = &a->live;
  while (*at != NULL && !((*at)->claimed && (*at)->id == id)) at = &(*at)->live_next;
  struct request *q = *at;
  if (q == NULL) {
    pthread_mutex_unlock(&a->mu);
    return throw_bad(env, "take: no such request");
  }
  *at = q->live_next;
  a->live_count--;
  if (q->state == 0) {
    /* Not started: out of the queue, and listed here rather than waited for. */
    struct request **f = &a->queue;
    while (*f != q) f = &(*f)->next;
    *f = q->next;
    pthread_mutex_unlock(&a->mu);
    list_one(&q->r, a->follow);
  } else {
    while (q->state != 2) pthread_cond_wait(&a->done, &a->mu);
    /* Room for one more: wake the helper if it stopped at its limit. */
    bool was_full = a->held >= HELD_MAX;
    a->held -= q->r.l.count;
    if (was_full && a->idle) pthread_cond_signal(&a->work);
    pthread_mutex_unlock(&a->mu);
  }
  napi_status s = dir_value(env, &q->r, &out);
  request_free(q);
  if (s != napi_ok) return throw_bad(env, "take: no memory");
  return out;
}

/* closeAhead(handle): stops the helper, frees what was not taken. Idempotent. */
static napi_value close_ahead(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  struct ahead *a = ahead_call(env, info, 1, argv);
  if (a != NULL) ahead_close(a);
  return NULL;
}

void dirstat_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"listNames", NULL, list_names, NULL, NULL, NULL, napi_default, NULL},
      {"statAt", NULL, stat_at, NULL, NULL, NULL, napi_default, NULL},
      {"openAhead", NULL, open_ahead, NULL, NULL, NULL, napi_default, NULL},
      {"request", NULL, request, NULL, NULL, NULL, napi_default, NULL},
      {"take", NULL, take, NULL, NULL, NULL, napi_default, NULL},
      {"closeAhead", NULL, close_ahead, NULL, NULL, NULL, napi_default, NULL},
      {"STRIDE", NULL, NULL, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value stride;
  napi_create_uint32(env, STRIDE, &stride);
  props[6].value = stride;
  napi_define_properties(env, exports, 7, props);
}
