#include "hiserve/net/handover.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "upgrade.hpp"

namespace hiserve {

Launch launch_of(int argc, char** argv) {
  Launch l;
  char path[4096];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  l.exe = n > 0 ? std::string(path, static_cast<std::size_t>(n)) : argv[0];
  l.args.assign(argv, argv + argc);
  return l;
}

bool inherited_from_environment(Inherited* in, std::string* error) {
  const char* from = std::getenv(kUpgradeFromEnv);
  if (!from) return true;  // LISTEN_FDS of systemd's own socket activation are not hiserve's
  const char* count = std::getenv("LISTEN_FDS");
  const char* names = std::getenv("LISTEN_FDNAMES");
  char* end = nullptr;
  const long n = count ? std::strtol(count, &end, 10) : -1;
  if (std::atol(from) <= 0 || !names || n <= 0 || n > 4096 || *end) {
    *error = std::string("an upgrade's environment that is not whole: ") + kUpgradeFromEnv + ", LISTEN_FDS, LISTEN_FDNAMES";
    return false;
  }
  std::string list = names;
  for (long i = 0; i < n; ++i) {
    const std::size_t colon = list.find(':');
    const std::string name = list.substr(0, colon);
    list = colon == std::string::npos ? "" : list.substr(colon + 1);
    const int fd = kFirstHandedFd + static_cast<int>(i);
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {  // handed on to no further process
      *error = "the handed fd " + std::to_string(fd) + " (" + name + ") is not open";
      return false;
    }
    if (name == kPublicName) in->public_fds.push_back(fd);
    else if (name == kMetricsName) in->metrics_fds.push_back(fd);
    else if (name == kCounterName) in->store.file_fd = fd;
    else if (name == kChannelName) in->channel = fd;
    else {
      *error = "the handed fd " + std::to_string(fd) + " has a name hiserve does not know: " + name;
      return false;
    }
  }
  if (in->channel < 0 || in->public_fds.empty()) {
    *error = "an upgrade without its socket or its listeners";
    return false;
  }
  in->from = static_cast<pid_t>(std::atol(from));
  for (const char* v : {kUpgradeFromEnv, "LISTEN_FDS", "LISTEN_FDNAMES"}) unsetenv(v);
  return true;
}

namespace {

// One line from the old process (without its newline), within kUpgradeTimeoutS; false
// at EOF, an error or the timeout.
bool read_line(int fd, std::string* line) {
  line->clear();
  pollfd p{fd, POLLIN, 0};
  for (;;) {
    if (const std::size_t nl = line->find('\n'); nl != std::string::npos) {
      line->resize(nl);
      return true;
    }
    char c;  // a byte at a time: what follows the line is not this read's
    const int ready = poll(&p, 1, kUpgradeTimeoutS * 1000);
    const ssize_t got = ready > 0 ? read(fd, &c, 1) : -1;
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    line->push_back(c);
  }
}

}  // namespace

bool await_go(Inherited& in, std::string* error) {
  const char hello[] = "hello\n";
  if (write(in.channel, hello, sizeof hello - 1) != static_cast<ssize_t>(sizeof hello - 1)) {
    *error = std::string("cannot reach the old process: ") + std::strerror(errno);
    return false;
  }
  std::string line;
  if (!read_line(in.channel, &line)) {
    *error = "the old process did not say go";
    return false;
  }
  unsigned long long base = 0, size = 0;
  if (std::sscanf(line.c_str(), "go %llu %llu", &base, &size) != 2) {
    *error = "the old process said something else than go: " + line;
    return false;
  }
  in.store.lease_base = base, in.store.lease_size = size;  // size 0: Redis, which needs none
  return true;
}

void tell_old(Inherited& in, const std::string& line) noexcept {
  if (in.channel < 0) return;
  const std::string said = line + "\n";
  [[maybe_unused]] const ssize_t w = write(in.channel, said.data(), said.size());  // a gone reader is its own answer
}

bool await_store(Inherited& in, std::uint64_t* memory_next) {
  std::string line;
  unsigned long long next = 0;
  const bool ok = read_line(in.channel, &line) && std::sscanf(line.c_str(), "store %llu", &next) == 1;
  ::close(in.channel);
  in.channel = -1;
  *memory_next = next;
  return ok;
}

}  // namespace hiserve
