/*
 * Copies of small files as cairn-apply makes them, a batch per call, in the
 * reader thread of read-files.c. Through node a new file costs about ten
 * calls (open and fstat the source, create the temporary file, read,
 * write, fstat again, chmod, utimes, close both, lstat the final name,
 * rename): 45 us a file here, most of it node's cost per call, against
 * rsync's 15 us.
 *
 * Each copy does what lib/tree/local/write.ts's copyInto and
 * lib/apply/applier.ts's commit do, in the same order and with the same
 * checks: the source still the planned regular file (size, mtime) when
 * opened and unchanged (size, mtime, ctime) once copied; the temporary file
 * created exclusively beside the final name; attributes through the
 * descriptor; a rename that refuses to replace (where the file system has
 * none, the final name is looked at just before the plain rename). Whatever fails
 * leaves no temporary file. A sparse source is not copied here: the caller
 * copies it with holes.
 */
#define _GNU_SOURCE
#include "napi-util.h"

#include <linux/openat2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>

/* Sources open at once at most: the batch's reads are asked for together. */
#define COPY_BATCH_MAX 256
/* Below this size a run of zeros is never a hole (write.ts's SPARSE_CHUNK). */
#define SPARSE_CHUNK (1 << 16)

static int still_same(const struct stat *a, const struct stat *b) {
  return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
         a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static int write_all(int fd, const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Copies src's bytes into out: 0, or -1 with errno (the stage in *stage). */
static int copy_bytes(int in, int out, size_t size, unsigned char *buf, size_t buf_len, int *stage) {
  size_t pos = 0;
  while (pos < size) {
    ssize_t n = pread(in, buf, buf_len, (off_t)pos);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return *stage = CS_READ, -1;
    if (n == 0) break; /* shorter now: the fstat after the copy says so */
    if (write_all(out, buf, (size_t)n) != 0) return *stage = CS_WRITE, -1;
    pos += (size_t)n;
  }
  return 0;
}

/*
 * The directory of a path, open: consecutive copies mostly share their
 * source directory and their destination directory, and a name relative to
 * an open directory is not resolved from / again (4 lookups a copy). Kept
 * for one batch only, so a directory renamed meanwhile is followed by name
 * again within milliseconds.
 */
struct dir_cache {
  char path[4096];
  size_t len;
  int fd;
};

/* c holds path's first len bytes open. */
static bool cache_hit(const struct dir_cache *c, const char *path, size_t len) {
  return c->fd >= 0 && c->len == len && memcmp(c->path, path, len) == 0;
}

/* Closes what c holds and takes path's first len bytes for it (the caller opens them): false, errno ENAMETOOLONG, when they do not fit. */
static bool cache_reset(struct dir_cache *c, const char *path, size_t len) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  if (len + 1 >= sizeof c->path) {
    errno = ENAMETOOLONG;
    return false;
  }
  memcpy(c->path, path, len);
  c->path[len] = 0;
  c->len = len;
  return true;
}

/* The open directory of path (AT_FDCWD for a bare name) and the name in it; -1 with errno when it cannot be opened. */
static int dir_of(struct dir_cache *c, const char *path, const char **name) {
  const char *slash = strrchr(path, '/');
  if (slash == NULL) {
    *name = path;
    return AT_FDCWD;
  }
  *name = slash + 1;
  size_t len = (size_t)(slash - path);
  if (cache_hit(c, path, len)) return c->fd;
  if (!cache_reset(c, path, len)) return -1;
  c->fd = open(len == 0 ? "/" : c->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return c->fd;
}

/*
 * The destination directory of a temporary path: below the destination
 * root (its first rootlen bytes), resolved from the root's descriptor with
 * openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS. A directory the caller
 * checked when it queued the file may be swapped for a symlink by another
 * process before the batch runs: the write then fails (ELOOP, EXDEV)
 * rather than land outside. rootlen 0, or a kernel without openat2: by
 * path, as dir_of.
 */
static int dest_dir(struct dir_cache *c, struct dir_cache *root, const char *path, size_t rootlen, const char **name) {
  const char *slash = strrchr(path, '/');
  if (rootlen == 0 || slash == NULL || (size_t)(slash - path) + 1 < rootlen) return dir_of(c, path, name);
  *name = slash + 1;
  size_t len = (size_t)(slash - path);
  if (cache_hit(c, path, len)) return c->fd;
  if (!cache_reset(c, path, len)) return -1;
  if (!cache_hit(root, path, rootlen)) {
    if (!cache_reset(root, path, rootlen)) return -1;
    root->fd = open(root->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root->fd < 0) return -1;
  }
  const char *rel = len >= rootlen ? c->path + rootlen : "";
  struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS};
  c->fd = (int)syscall(SYS_openat2, root->fd, *rel != 0 ? rel : ".", &how, sizeof how);
  if (c->fd < 0 && errno == ENOSYS) c->fd = open(c->path[0] != 0 ? c->path : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return c->fd;
}

/* The directory part of a path, without the slashes that end it ("//x" and "/x" are both in "/"). */
static size_t dir_len(const char *path, const char *name) {
  size_t n = (size_t)(name - path);
  while (n > 0 && path[n - 1] == '/') n--;
  return n;
}

/* Two paths name entries of one directory, spelt the same way up to their last slashes. */
static bool same_dir(const char *a, const char *a_name, const char *b, const char *b_name) {
  size_t n = dir_len(a, a_name);
  return n == dir_len(b, b_name) && memcmp(a, b, n) == 0 && (n > 0 || (a_name > a) == (b_name > b));
}

/* Opens a source (its descriptor, or -1 with errno) and asks the kernel to start reading it. */
static int open_source(struct dir_cache *from, const char *src) {
  const char *name;
  int dir = dir_of(from, src, &name);
  int fd = dir == -1 ? -1 : openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd >= 0) {
    int saved = errno;
    posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
    errno = saved;
  }
  return fd;
}

/*
 * One copy, from its source opened by open_source (in: the descriptor, or
 * -1 and open_errno; closed here); or, with data, one new file of those
 * bytes (cairn-restore's files, already checked against their hash: no
 * source to check).
 */
static void copy_one(int in, int open_errno, struct dir_cache *to, struct dir_cache *root, const char *tmp, const char *dst, const double *j, double *r, unsigned char *buf, size_t buf_len, const unsigned char *data) {
  memset(r, 0, RSTRIDE * sizeof *r);
  int stage = CS_OPEN_SOURCE;
  const char *tmp_name, *dst_name;
  errno = open_errno;
  int out = -1, dir = AT_FDCWD;
  bool made = false;
  struct stat before, after, there;
  before.st_size = (off_t)j[C_SIZE];
  if (data != NULL) goto create;
  if (in < 0 || fstat(in, &before) != 0) goto failed;
  if (!S_ISREG(before.st_mode)) {
    stage = CS_NOT_REGULAR;
    goto stale;
  }
  if ((double)before.st_size != j[C_SIZE] || (double)before.st_mtim.tv_sec != j[C_MTIME_SEC] || (double)before.st_mtim.tv_nsec != j[C_MTIME_NSEC]) {
    stage = CS_SOURCE_CHANGED;
    goto stale;
  }
  if (before.st_size > SPARSE_CHUNK && before.st_blocks * 512 < before.st_size) {
    stage = CS_SPARSE;
    goto stale;
  }
create:
  stage = CS_CREATE;
  dir = dest_dir(to, root, tmp, (size_t)j[C_ROOTLEN], &tmp_name);
  /* The final name is in the temporary file's directory (tempBeside): one descriptor for both, and the rename within it. */
  dst_name = strrchr(dst, '/') != NULL ? strrchr(dst, '/') + 1 : dst;
  if (dir == -1 || !same_dir(tmp, tmp_name, dst, dst_name)) {
    if (dir != -1) errno = EXDEV;
    goto failed;
  }
  /* A copy is made as cairn-apply makes a new file (0666 less the umask); a restored file private until its mode is set, as cairn-restore does. */
  out = openat(dir, tmp_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, data != NULL ? 0600 : 0666);
  if (out < 0) goto failed;
  made = true;
  if (data != NULL) {
    stage = CS_WRITE;
    if (write_all(out, data + (size_t)j[C_OFFSET], (size_t)j[C_SIZE]) != 0) goto failed;
  } else {
    if (copy_bytes(in, out, (size_t)before.st_size, buf, buf_len, &stage) != 0) goto failed;
    stage = CS_OPEN_SOURCE;
    if (fstat(in, &after) != 0) goto failed;
    if (!still_same(&before, &after)) {
      stage = CS_SOURCE_MOVED;
      goto stale;
    }
  }
  /* chown before chmod: chown clears the setuid and setgid bits. */
  stage = CS_CHOWN;
  if (j[C_UID] >= 0 && fchown(out, (uid_t)j[C_UID], (gid_t)j[C_GID]) != 0) goto failed;
  stage = CS_CHMOD;
  if (j[C_MODE] >= 0 && fchmod(out, (mode_t)j[C_MODE]) != 0) goto failed;
  stage = CS_UTIMES;
  /* A copy's access time is now (as cairn-apply's own copies); a restored file's is its modification time (as cairn-restore's own). */
  struct timespec times[2] = {{0, UTIME_NOW}, {(time_t)j[C_MTIME_SEC], (long)j[C_MTIME_NSEC]}};
  if (data != NULL) times[0] = times[1];
  if (futimens(out, times) != 0) goto failed;
  stage = CS_FSYNC;
  if (j[C_FSYNC] != 0 && fsync(out) != 0) goto failed;
  stage = CS_CLOSE;
  int c = close(out);
  out = -1;
  if (c != 0) goto failed;
  if (in >= 0) close(in);
  in = -1;
  stage = CS_RENAME;
  /*
   * Never over an object that is there: the rename refuses to replace
   * (ext4, xfs, btrfs, tmpfs); a file system without the flag is asked
   * first, then gets the plain rename (a window of microseconds).
   */
  if (renameat2(dir, tmp_name, dir, dst_name, RENAME_NOREPLACE) != 0) {
    if (errno == EEXIST) {
      stage = CS_EXISTS;
      goto stale;
    }
    if (errno != EINVAL && errno != ENOSYS) goto failed;
    stage = CS_EXISTS;
    if (fstatat(dir, dst_name, &there, AT_SYMLINK_NOFOLLOW) == 0) goto stale;
    if (errno != ENOENT) goto failed;
    stage = CS_RENAME;
    if (renameat(dir, tmp_name, dir, dst_name) != 0) goto failed;
  }
  r[CR_STAGE] = CS_DONE;
  r[CR_BYTES] = (double)before.st_size;
  return;
failed:
  r[CR_ERR] = errno;
stale:
  r[CR_STAGE] = stage;
  if (out >= 0) close(out);
  if (in >= 0) close(in);
  if (made) unlinkat(dir, tmp_name, 0);
  /* As cairn-apply's own copies say: a temporary file was asked for, and none is left. */
  r[CR_MADE] = made || stage == CS_CREATE;
}

static bool fatal(int err) {
  return err == ENOSPC || err == EDQUOT || err == EROFS || err == EIO;
}

/* A copy after one that stopped the run: not run (true), its result says so; or false, to be run. */
static bool not_run(const int *stopped, double *r) {
  if (!__atomic_load_n(stopped, __ATOMIC_SEQ_CST)) return false;
  memset(r, 0, RSTRIDE * sizeof *r);
  r[CR_STAGE] = CS_NOT_RUN;
  return true;
}

/* Runs after each copy: one that failed for the whole destination stops those after it. */
static void stop_if_fatal(int *stopped, const double *r) {
  if (fatal((int)r[CR_ERR])) __atomic_store_n(stopped, 1, __ATOMIC_SEQ_CST);
}

void copy_batch(const char *paths, const uint32_t *ends, uint32_t count, const double *jobs, double *result, int *stopped) {
  static __thread unsigned char *buf;
  if (buf == NULL) buf = malloc(COPY_BUF);
  struct dir_cache from = {.fd = -1}, to = {.fd = -1};
  struct dir_cache root = {.fd = -1};
  /*
   * Every source of the batch is opened first and the kernel asked to read
   * it (POSIX_FADV_WILLNEED): on a cold cache the disk then serves the
   * batch's reads together instead of one small file after another.
   */
  int in[COPY_BATCH_MAX], errs[COPY_BATCH_MAX];
  for (size_t base = 0; base < count; base += COPY_BATCH_MAX) {
    size_t n = count - base < COPY_BATCH_MAX ? count - base : COPY_BATCH_MAX;
    for (size_t i = 0; i < n; i++) {
      size_t k = base + i;
      in[i] = open_source(&from, paths + (k == 0 ? 0 : ends[3 * k - 1]));
      errs[i] = in[i] < 0 ? errno : 0;
    }
    for (size_t i = 0; i < n; i++) {
      size_t k = base + i;
      double *r = result + k * RSTRIDE;
      if (not_run(stopped, r)) {
        if (in[i] >= 0) close(in[i]);
        continue;
      }
      if (buf == NULL) {
        if (in[i] >= 0) close(in[i]);
        memset(r, 0, RSTRIDE * sizeof *r);
        r[CR_ERR] = ENOMEM;
        r[CR_STAGE] = CS_OPEN_SOURCE;
        continue;
      }
      copy_one(in[i], errs[i], &to, &root, paths + ends[3 * k], paths + ends[3 * k + 1], jobs + k * CJSTRIDE, r, buf, COPY_BUF, NULL);
      stop_if_fatal(stopped, r);
    }
  }
  if (from.fd >= 0) close(from.fd);
  if (to.fd >= 0) close(to.fd);
  if (root.fd >= 0) close(root.fd);
}

void write_batch(const char *paths, const uint32_t *ends, uint32_t count, const double *jobs, const unsigned char *data, double *result, int *stopped) {
  struct dir_cache to = {.fd = -1};
  struct dir_cache root = {.fd = -1};
  for (size_t k = 0; k < count; k++) {
    double *r = result + k * RSTRIDE;
    if (not_run(stopped, r)) continue;
    copy_one(-1, 0, &to, &root, paths + (k == 0 ? 0 : ends[2 * k - 1]), paths + ends[2 * k], jobs + k * CJSTRIDE, r, NULL, 0, data);
    stop_if_fatal(stopped, r);
  }
  if (to.fd >= 0) close(to.fd);
  if (root.fd >= 0) close(root.fd);
}
