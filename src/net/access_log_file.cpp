#include "access_log_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hiserve {
namespace {
int open_for_append(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}
}  // namespace

AccessLogFile::~AccessLogFile() {
  if (fd_ >= 0) ::close(fd_);
}

bool AccessLogFile::open(const std::string& path, std::string* error) {
  path_ = path;
  fd_ = open_for_append(path);
  if (fd_ < 0) *error = "cannot open the access log " + path + ": " + std::strerror(errno);
  return fd_ >= 0;
}

bool AccessLogFile::reopen(std::string* error) {
  const int fresh = open_for_append(path_);
  if (fresh < 0 || dup3(fresh, fd_, O_CLOEXEC) < 0) {
    *error = "cannot reopen the access log " + path_ + ": " + std::strerror(errno);
    if (fresh >= 0) ::close(fresh);
    return false;
  }
  ::close(fresh);
  return true;
}

}  // namespace hiserve
