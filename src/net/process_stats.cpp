#include "process_stats.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace hiserve {
namespace {

// Reads a small /proc file whole into buf; its length, or -1.
long read_small(const char* path, char* buf, std::size_t cap) noexcept {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  const long n = ::read(fd, buf, cap - 1);
  ::close(fd);
  if (n >= 0) buf[n] = '\0';
  return n;
}

// /proc/stat's btime: the boot time, in seconds since the epoch.
long boot_time() noexcept {
  static const long btime = [] {
    char buf[8192];
    if (read_small("/proc/stat", buf, sizeof buf) < 0) return 0L;
    const char* p = std::strstr(buf, "\nbtime ");
    return p ? std::strtol(p + 7, nullptr, 10) : 0L;
  }();
  return btime;
}

}  // namespace

bool read_process_stats(ProcessStats* out) noexcept {
  *out = {};
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) out->max_fds = rl.rlim_cur;
  // The entries of /proc/self/fd, read with getdents64 rather than opendir: no
  // allocation, and no DIR the sanitizers would mistake for a reused socket.
  if (const int dir = ::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    alignas(8) char entries[4096];
    std::uint64_t n = 0;
    long got;
    while ((got = syscall(SYS_getdents64, dir, entries, sizeof entries)) > 0) {
      for (long at = 0; at < got;) {
        const auto* e = reinterpret_cast<const dirent64*>(entries + at);
        n += e->d_name[0] != '.';
        at += e->d_reclen;
      }
    }
    ::close(dir);
    out->open_fds = n - 1;  // less the one reading it
  }
  char buf[1024];
  if (read_small("/proc/self/stat", buf, sizeof buf) <= 0) return false;
  // Fields after the command name, which may hold spaces and parentheses: from the
  // last ')'. utime and stime are fields 14 and 15, starttime 22, vsize 23, rss 24.
  const char* p = std::strrchr(buf, ')');
  if (!p) return false;
  unsigned long long f[25] = {};
  int field = 3;
  for (p += 2; *p && field <= 24; ++field) {
    char* end;
    f[field] = std::strtoull(p, &end, 10);
    if (end == p) ++end;  // the state letter (field 3)
    p = end;
    while (*p == ' ') ++p;
  }
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  out->cpu_seconds = static_cast<double>(f[14] + f[15]) / ticks;
  out->start_time_seconds = static_cast<double>(boot_time()) + static_cast<double>(f[22]) / ticks;
  out->virtual_bytes = f[23];
  out->resident_bytes = f[24] * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  return true;
}

}  // namespace hiserve
