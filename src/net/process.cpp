#include "process.hpp"

#include <uv.h>

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#ifdef HISERVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "figures.hpp"
#include "hiserve/net/server.hpp"

namespace hiserve {

void ignore_sigpipe() noexcept { signal(SIGPIPE, SIG_IGN); }

void notify_systemd(const char* state) noexcept {
#ifdef HISERVE_SYSTEMD
  sd_notify(0, state);
#else
  (void)state;
#endif
}

bool write_pid_file(const std::string& path, std::string* error) {
  // Whole or not at all: a reader never sees a half-written number.
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  bool ok = f && std::fprintf(f, "%ld\n", static_cast<long>(getpid())) > 0;
  ok = (f && std::fclose(f) == 0) && ok;
  if (ok && std::rename(tmp.c_str(), path.c_str()) == 0) return true;
  *error = "cannot write the pid file " + path + ": " + std::strerror(errno);
  std::remove(tmp.c_str());
  return false;
}

void log_stats(const Stats& s, const StoreStatus& c) noexcept {
  char line[2048];
  int n = std::snprintf(line, sizeof line, "stats");
  for (std::size_t i = 0; i < kFigureCount && n < static_cast<int>(sizeof line); ++i)
    n += std::snprintf(line + n, sizeof line - static_cast<std::size_t>(n), " %s=%llu", kFigures[i].key,
                       static_cast<unsigned long long>(kFigures[i].value(s, c)));
  std::fprintf(stderr, "%s\n", line);
}

int Server::run_until_signal(void (*on_ready)(const Server&)) {
  // A loop of its own on the calling thread: signals and the stats timer, nothing else.
  uv_loop_t loop;
  if (int r = uv_loop_init(&loop)) return r;
  loop.data = this;
  uv_signal_t signals[3];
  uv_timer_t stats_timer;
  int r = 0;
  for (uv_signal_t& s : signals)
    if (r == 0) r = uv_signal_init(&loop, &s);
  if (r == 0) r = uv_timer_init(&loop, &stats_timer);
  auto on_signal = [](uv_signal_t* s, int) { uv_stop(s->loop); };
  auto on_reopen = [](uv_signal_t* s, int) {
    std::string error;
    if (!static_cast<Server*>(s->loop->data)->reopen_access_log(&error)) std::fprintf(stderr, "hiserve: %s\n", error.c_str());
  };
  if (r == 0) r = uv_signal_start(&signals[0], on_signal, SIGINT);
  if (r == 0) r = uv_signal_start(&signals[1], on_signal, SIGTERM);
  if (r == 0) r = uv_signal_start(&signals[2], on_reopen, SIGUSR1);
  if (r == 0 && config_.stats_interval_s > 0) {
    const auto ms = static_cast<std::uint64_t>(config_.stats_interval_s * 1000);
    auto on_stats = [](uv_timer_t* t) {
      const Server& s = *static_cast<Server*>(t->loop->data);
      log_stats(s.stats(), s.store_status());
    };
    r = uv_timer_start(&stats_timer, on_stats, ms, ms);
  }
  std::string error;
  const bool pid_file = !config_.pid_file.empty();
  if (r == 0 && pid_file && !write_pid_file(config_.pid_file, &error)) {
    std::fprintf(stderr, "hiserve: %s\n", error.c_str());
    r = UV_EIO;
  }
  if (r == 0) {
    if (on_ready) on_ready(*this);
    notify_systemd("READY=1");  // every loop listens and the store is open (start())
    uv_run(&loop, UV_RUN_DEFAULT);  // until a signal
    if (pid_file) std::remove(config_.pid_file.c_str());
  }
  notify_systemd("STOPPING=1");
  stop();
  uv_walk(&loop, [](uv_handle_t* h, void*) { if (!uv_is_closing(h)) uv_close(h, nullptr); }, nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  wait();
  uv_loop_close(&loop);
  return r;
}

}  // namespace hiserve
