#include "process.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>
#include <utility>


extern char** environ;

namespace test {

bool comes_up(int port) {
  for (int i = 0; i < 500; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool up = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(fd);
    if (up) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

Process::Process(const std::vector<std::string>& argv) {
  int fds[2];
  REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int r = posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  err_ = fds[0];
  REQUIRE_MESSAGE(r == 0, "cannot start " << argv[0]);
}

Process::~Process() {
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  close(err_);
}

std::string Process::line(double timeout_s) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    if (std::size_t nl = buf_.find('\n'); nl != std::string::npos) {
      std::string l = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      return l;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    pollfd p{err_, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) return {};
    char tmp[4096];
    const ssize_t n = read(err_, tmp, sizeof tmp);
    if (n <= 0) return std::exchange(buf_, {});
    buf_.append(tmp, static_cast<std::size_t>(n));
  }
}

std::string Process::rest() {
  char tmp[4096];
  for (ssize_t n; (n = read(err_, tmp, sizeof tmp)) > 0;) buf_.append(tmp, static_cast<std::size_t>(n));
  return std::exchange(buf_, {});
}

void Process::signal(int sig) { ::kill(pid_, sig); }

int Process::wait() {
  int status = 0;
  if (!reaped_) waitpid(pid_, &status, 0);
  reaped_ = true;
  return status;
}

Hiserve::Hiserve(const std::vector<std::string>& args, const std::string& binary) : proc([&] {
  std::vector<std::string> argv = {binary.empty() ? HISERVE_BINARY : binary, "--port", "0"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}()) {
  // The store thread's lines (a Redis master found) may come first.
  std::string l = proc.line();
  for (int i = 0; i < 5 && l.rfind("hiserve: counter store", 0) == 0; ++i) {
    before.push_back(l);
    l = proc.line();
  }
  REQUIRE_MESSAGE(std::sscanf(l.c_str(), "Starting on port %d", &port) == 1, "hiserve said: " << l);
  if (std::find(args.begin(), args.end(), "--metrics-addr") != args.end()) {
    const std::string m = proc.line();
    REQUIRE_MESSAGE(std::sscanf(m.c_str(), "Metrics on %*s port %d", &metrics_port) == 1, "hiserve said: " << m);
  }
}

const char* hiserve_binary() { return HISERVE_BINARY; }

std::string run_shell(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int s = pclose(p);
  if (status) *status = WEXITSTATUS(s);
  return out;
}

namespace {
// Binds a loopback socket to port (0: any) and closes it; the port bound, or 0.
int bound_port(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  socklen_t len = sizeof a;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  close(fd);
  return ok ? ntohs(a.sin_port) : 0;
}
}  // namespace

// From below the kernel's ephemeral range (ip_local_port_range), where bind(0) would
// pick: there the connect() of any busy test or its TIME_WAIT leftovers could take
// the port before the server that was given it binds. At random, so tests running in
// parallel seldom pick the same one.
int free_port() {
  int low = 32768;
  if (FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) {
    if (std::fscanf(f, "%d", &low) != 1) low = 32768;
    std::fclose(f);
  }
  if (low > 2048) {
    thread_local std::mt19937 rng{std::random_device{}()};
    std::uniform_int_distribution<int> pick(std::max(1024, low - 12000), low - 1);
    for (int tries = 0; tries < 200; ++tries)
      if (const int port = bound_port(pick(rng))) return port;
  }
  return bound_port(0);
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/hiserve-test-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  path = tmpl;
}

TempDir::~TempDir() { std::filesystem::remove_all(path); }

RedisServer::RedisServer() {
  char tmpl[] = "/tmp/hiserve-redis-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  dir = tmpl;
  for (int attempt = 0; attempt < 5 && !proc; ++attempt) {
    port = free_port();
    auto* p = new Process({"redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1", "--dir", dir,
                           "--save", "", "--appendonly", "no", "--logfile", dir + "/redis.log"});
    if (comes_up(port)) {
      proc = p;
    } else {
      delete p;
    }
  }
  REQUIRE_MESSAGE(proc, "redis-server did not start (scripts/setup.sh installs it)");
}

RedisServer::~RedisServer() {
  delete proc;
  std::filesystem::remove_all(dir);
}

}  // namespace test
