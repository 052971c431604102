// The standard process_* figures Prometheus client libraries export, read from
// /proc/self the way client_golang's process collector reads them.
#pragma once
#include <cstdint>

namespace hiserve {

struct ProcessStats {
  double cpu_seconds = 0;         // user + system, all threads
  double start_time_seconds = 0;  // since the Unix epoch
  std::uint64_t resident_bytes = 0;
  std::uint64_t virtual_bytes = 0;
  std::uint64_t open_fds = 0;
  std::uint64_t max_fds = 0;  // RLIMIT_NOFILE's soft limit
};

// False if /proc could not be read (the figures left are zeros).
bool read_process_stats(ProcessStats* out) noexcept;

}  // namespace hiserve
