// The access log's file, the process's one: opened O_APPEND (mode 0640) before anything
// listens, and reopened by its path at SIGUSR1 (logrotate's postrotate, as nginx does).
// The loops write to its fd number, which a reopen keeps: dup2 swaps the file under it
// atomically, so a write from any loop lands whole in the old file or the new one.
#pragma once
#include <string>

namespace hiserve {

class AccessLogFile {
 public:
  AccessLogFile() = default;
  ~AccessLogFile();
  AccessLogFile(const AccessLogFile&) = delete;
  AccessLogFile& operator=(const AccessLogFile&) = delete;

  // Opens path for appending; false with a one-line *error.
  bool open(const std::string& path, std::string* error);
  // Opens the path again (a new file if the old one was renamed); on failure the
  // old file is kept and *error says why.
  bool reopen(std::string* error);
  int fd() const noexcept { return fd_; }

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace hiserve
