/* A fault-injection shim for the durability tests, loaded with LD_PRELOAD (no root needed): it
 * stands between uniem and the C library's fsync, fdatasync, syncfs, write and rename, counts
 * the calls of each kind, and makes the Nth call of one kind fail (EIO; ENOSPC for write), once.
 * A sync of a folder counts as its own kind, the directory sync. Only writes to regular files
 * count, so sockets and the terminal are never failed. Armed by the test through
 * uniem_fault_arm(kind, n), found with dlsym; n = 0 only counts. Kinds: see enum below. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

enum { fault_fsync, fault_fdatasync, fault_dirsync, fault_write, fault_rename, fault_kinds };

static atomic_int armed = -1;
static atomic_long countdown = 0;
static atomic_long counts[fault_kinds];

void uniem_fault_arm(int kind, long n) {
  for (int k = 0; k < fault_kinds; ++k) atomic_store(&counts[k], 0);
  atomic_store(&countdown, n);
  atomic_store(&armed, n > 0 ? kind : -1);
}

long uniem_fault_count(int kind) { return atomic_load(&counts[kind]); }

/* True when this call is the one to fail. */
static int hit(int kind) {
  atomic_fetch_add(&counts[kind], 1);
  if (atomic_load(&armed) != kind) return 0;
  if (atomic_fetch_sub(&countdown, 1) != 1) return 0;
  atomic_store(&armed, -1);
  return 1;
}

static int is_folder(int fd) {
  struct stat s;
  return fstat(fd, &s) == 0 && S_ISDIR(s.st_mode);
}

static int is_file(int fd) {
  struct stat s;
  return fstat(fd, &s) == 0 && S_ISREG(s.st_mode);
}

#define NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

int fsync(int fd) {
  if (hit(is_folder(fd) ? fault_dirsync : fault_fsync)) {
    errno = EIO;
    return -1;
  }
  return NEXT(fsync)(fd);
}

int fdatasync(int fd) {
  if (hit(is_folder(fd) ? fault_dirsync : fault_fdatasync)) {
    errno = EIO;
    return -1;
  }
  return NEXT(fdatasync)(fd);
}

int syncfs(int fd) {
  if (hit(fault_fsync)) {
    errno = EIO;
    return -1;
  }
  return NEXT(syncfs)(fd);
}

ssize_t write(int fd, const void* data, size_t size) {
  if (is_file(fd) && hit(fault_write)) {
    errno = ENOSPC;
    return -1;
  }
  return NEXT(write)(fd, data, size);
}

int rename(const char* from, const char* to) {
  if (hit(fault_rename)) {
    errno = EIO;
    return -1;
  }
  return NEXT(rename)(from, to);
}

int renameat2(int from_dir, const char* from, int to_dir, const char* to, unsigned int flags) {
  if (hit(fault_rename)) {
    errno = EIO;
    return -1;
  }
  return NEXT(renameat2)(from_dir, from, to_dir, to, flags);
}
