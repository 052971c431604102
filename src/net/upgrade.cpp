#include "upgrade.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "hiserve/net/server.hpp"

extern char** environ;

namespace hiserve {
namespace {
uv_handle_t* handle(void* h) { return static_cast<uv_handle_t*>(h); }
}  // namespace

Upgrade::Upgrade(Server& server, uv_loop_t* loop, const Launch& launch) noexcept
    : server_(server), loop_(loop), launch_(launch) {
  uv_timer_init(loop, &timer_);
  uv_signal_init(loop, &sigchld_);
  timer_.data = sigchld_.data = this;
  uv_signal_start(&sigchld_, on_sigchld, SIGCHLD);
}

void Upgrade::begin() {
  if (state_ == State::HandedOver) {
    std::fprintf(stderr, "hiserve: SIGUSR2 ignored: this process has handed over and is draining\n");
    return;
  }
  if (state_ != State::Idle) {
    std::fprintf(stderr, "hiserve: SIGUSR2 ignored: an upgrade is under way (new pid %d)\n", static_cast<int>(child_));
    return;
  }
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    std::fprintf(stderr, "hiserve: upgrade failed: socketpair: %s; pid %d goes on serving\n", std::strerror(errno), getpid());
    return;
  }
  // The child's fds from 3 on, named as systemd names them.
  std::vector<int> fds;
  std::string names;
  auto hand = [&](int fd, const char* name) {
    fds.push_back(fd);
    names += (names.empty() ? "" : ":") + std::string(name);
  };
  for (int fd : server_.listener_fds(false)) hand(fd, kPublicName);
  for (int fd : server_.listener_fds(true)) hand(fd, kMetricsName);
  if (const int fd = server_.counter_fd(); fd >= 0) hand(fd, kCounterName);
  hand(pair[1], kChannelName);
  const pid_t pid = spawn(fds, names);
  ::close(pair[1]);
  if (pid < 0) {
    ::close(pair[0]);
    std::fprintf(stderr, "hiserve: upgrade failed: cannot run %s: %s; pid %d goes on serving\n", launch_.exe.c_str(),
                 std::strerror(static_cast<int>(-pid)), getpid());
    return;
  }
  child_ = pid;
  state_ = State::Waiting;
  heard_.clear();
  channel_fd_ = pair[0];
  uv_poll_init(loop_, &channel_, channel_fd_);
  channel_.data = this;
  uv_poll_start(&channel_, UV_READABLE, on_readable);
  uv_timer_start(&timer_, on_timeout, static_cast<std::uint64_t>(kUpgradeTimeoutS) * 1000, 0);
}

pid_t Upgrade::spawn(const std::vector<int>& fds, const std::string& names) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string v = *e;
    if (v.rfind("LISTEN_", 0) != 0 && v.rfind(kUpgradeFromEnv, 0) != 0) env.push_back(v);
  }
  env.push_back("LISTEN_FDS=" + std::to_string(fds.size()));
  env.push_back("LISTEN_FDNAMES=" + names);
  env.push_back(std::string(kUpgradeFromEnv) + "=" + std::to_string(getpid()));
  std::vector<char*> envp, argv;
  for (std::string& v : env) envp.push_back(v.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = launch_.args;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  // Copies above every target first, so no dup2 onto 3.. clobbers a source still to come.
  const int first_free = kFirstHandedFd + static_cast<int>(fds.size());
  std::vector<int> copies;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  int err = 0;
  for (std::size_t i = 0; i < fds.size() && err == 0; ++i) {
    const int copy = fcntl(fds[i], F_DUPFD_CLOEXEC, first_free);
    if (copy < 0) err = errno;
    else copies.push_back(copy);
  }
  for (std::size_t i = 0; i < copies.size() && err == 0; ++i)
    err = posix_spawn_file_actions_adddup2(&actions, copies[i], kFirstHandedFd + static_cast<int>(i));
  // A clean slate of signals, as a shell would give it.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  if (err == 0) err = posix_spawn(&pid, launch_.exe.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  for (int copy : copies) ::close(copy);
  return err == 0 ? pid : -err;
}

void Upgrade::on_readable(uv_poll_t* p, int status, int) {
  Upgrade& u = *static_cast<Upgrade*>(p->data);
  char buf[256];
  const ssize_t n = status < 0 ? -1 : ::read(u.channel_fd_, buf, sizeof buf);
  if (n < 0 && errno == EAGAIN) return;
  if (n <= 0) {  // EOF or an error: the child's exit (or the timeout) says the rest
    u.close_channel();
    return;
  }
  u.heard_.append(buf, static_cast<std::size_t>(n));
  for (std::size_t nl; u.state_ == State::Waiting && (nl = u.heard_.find('\n')) != std::string::npos;) {
    const std::string line = u.heard_.substr(0, nl);
    u.heard_.erase(0, nl + 1);
    u.heard(line);
  }
  if (u.heard_.size() > 4096) u.fail("the new process says too much");
}

void Upgrade::heard(const std::string& line) {
  if (line == "hello") {
    // The new process's first lease, reserved by this one, which goes on reserving for
    // itself meanwhile: neither runs out of numbers while both serve.
    const StoreHandover h = server_.lease_for_handover();
    if (h.failed) return fail("the counter store could not reserve a lease for the new process");
    say("go " + std::to_string(h.lease_base) + " " + std::to_string(h.lease_size));
  } else if (line == "ready") {
    // From here the new process reserves: this one stops, once any reservation is done.
    state_ = State::HandedOver;
    uv_timer_stop(&timer_);
    say("store " + std::to_string(server_.pause_store()));
    close_channel();
    server_.hand_over();  // before the line: whoever reads it sees this process draining
    std::fprintf(stderr, "hiserve: handed over to pid %d; draining\n", static_cast<int>(child_));
    child_ = 0;  // no longer ours to watch: its parent's exit hands it to init (or systemd)
    uv_stop(loop_);
  } else if (line.rfind("error ", 0) == 0) {
    fail("the new process refused: " + line.substr(6));
  } else {
    fail("the new process said: " + line);
  }
}

void Upgrade::say(const std::string& line) {
  const std::string said = line + "\n";
  if (::write(channel_fd_, said.data(), said.size()) != static_cast<ssize_t>(said.size()))
    fail("cannot write to the new process");
}

void Upgrade::on_sigchld(uv_signal_t* s, int) {
  Upgrade& u = *static_cast<Upgrade*>(s->data);
  int status = 0;
  if (u.child_ > 0 && waitpid(u.child_, &status, WNOHANG) == u.child_) u.exited(status);
}

void Upgrade::exited(int status) {
  child_ = 0;
  if (state_ == State::Waiting) {
    fail(WIFSIGNALED(status) ? "the new process was killed by signal " + std::to_string(WTERMSIG(status))
                             : "the new process exited with status " + std::to_string(WEXITSTATUS(status)));
  }
  if (state_ == State::Failing) state_ = State::Idle;
}

void Upgrade::on_timeout(uv_timer_t* t) {
  static_cast<Upgrade*>(t->data)->fail("the new process was not ready within " + std::to_string(kUpgradeTimeoutS) + " s");
}

void Upgrade::fail(const std::string& why, bool serving) {
  // The store needs nothing undone: this process never stopped reserving, and the new
  // one reserved nothing of its own before "ready".
  if (state_ != State::Waiting) return;
  state_ = State::Failing;
  if (serving) std::fprintf(stderr, "hiserve: upgrade failed: %s; pid %d goes on serving\n", why.c_str(), getpid());
  else std::fprintf(stderr, "hiserve: upgrade abandoned: %s\n", why.c_str());
  uv_timer_stop(&timer_);
  close_channel();
  if (child_ > 0) kill(child_, SIGKILL);  // reaped at its SIGCHLD
}

void Upgrade::close_channel() noexcept {
  if (channel_fd_ < 0) return;
  uv_close(handle(&channel_), nullptr);  // a poll handle leaves its fd open
  ::close(channel_fd_);
  channel_fd_ = -1;
}

void Upgrade::abandon() {
  fail("this process is stopping", false);
  int status = 0;
  if (child_ > 0 && waitpid(child_, &status, 0) == child_) exited(status);  // killed just now: no child left behind
}

}  // namespace hiserve
