#include "process.hpp"

#include <uv.h>

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#ifdef HISERVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "figures.hpp"
#include "hiserve/net/server.hpp"
#include "upgrade.hpp"

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

namespace {

// The signal loop's state, for its callbacks (loop.data).
struct SignalLoop {
  Server& server;
  Upgrade& upgrade;
  bool stopping = false;
};

// The handed-over start serves once a visitor number can be handed out (Redis's first
// lease comes after a connect); false if not within the upgrade's timeout.
bool await_ready(const Server& s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kUpgradeTimeoutS);
  while (s.readiness() != Readiness::Ready && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return s.readiness() == Readiness::Ready;
}

}  // namespace

int Server::run_until_signal(const Launch& launch, Inherited* from, void (*on_ready)(const Server&)) {
  // A loop of its own on the calling thread: signals, the stats timer and an upgrade.
  uv_loop_t loop;
  if (int r = uv_loop_init(&loop)) return r;
  Upgrade upgrade(*this, &loop, launch);
  SignalLoop state{*this, upgrade};
  loop.data = &state;
  uv_signal_t signals[4];
  uv_timer_t stats_timer;
  uv_async_t stopped;
  int r = 0;
  for (uv_signal_t& s : signals)
    if (r == 0) r = uv_signal_init(&loop, &s);
  if (r == 0) r = uv_timer_init(&loop, &stats_timer);
  // Signals stay caught while the loops drain: a second one must not kill the process
  // (SIGUSR1 and SIGUSR2 would, by default) or cut the drain short.
  auto on_stop = [](uv_signal_t* s, int) {
    auto& st = *static_cast<SignalLoop*>(s->loop->data);
    if (!st.stopping) uv_stop(s->loop);
  };
  auto on_reopen = [](uv_signal_t* s, int) {
    std::string error;
    if (!static_cast<SignalLoop*>(s->loop->data)->server.reopen_access_log(&error))
      std::fprintf(stderr, "hiserve: %s\n", error.c_str());
  };
  auto on_upgrade = [](uv_signal_t* s, int) {
    auto& st = *static_cast<SignalLoop*>(s->loop->data);
    if (st.stopping && !st.upgrade.handed_over()) std::fprintf(stderr, "hiserve: SIGUSR2 ignored: this process is stopping\n");
    else st.upgrade.begin();
  };
  if (r == 0) r = uv_signal_start(&signals[0], on_stop, SIGINT);
  if (r == 0) r = uv_signal_start(&signals[1], on_stop, SIGTERM);
  if (r == 0) r = uv_signal_start(&signals[2], on_reopen, SIGUSR1);
  if (r == 0) r = uv_signal_start(&signals[3], on_upgrade, SIGUSR2);
  if (r == 0 && config_.stats_interval_s > 0) {
    const auto ms = static_cast<std::uint64_t>(config_.stats_interval_s * 1000);
    auto on_stats = [](uv_timer_t* t) {
      const Server& s = static_cast<SignalLoop*>(t->loop->data)->server;
      log_stats(s.stats(), s.store_status());
    };
    r = uv_timer_start(&stats_timer, on_stats, ms, ms);
  }
  std::string error;
  if (r == 0 && from && !await_ready(*this)) {
    error = std::string("not ready within ") + std::to_string(kUpgradeTimeoutS) + " s: " + readiness_text(readiness());
    r = UV_ETIMEDOUT;
  }
  const bool pid_file = !config_.pid_file.empty();
  if (r == 0 && pid_file && !write_pid_file(config_.pid_file, &error)) r = UV_EIO;
  if (r != 0 && !error.empty()) {
    if (from) tell_old(*from, "error " + error);  // the old process says it, in its one line
    else std::fprintf(stderr, "hiserve: %s\n", error.c_str());
  }
  if (r == 0) {
    if (on_ready) on_ready(*this);
    if (from) {
      char state_line[64];
      std::snprintf(state_line, sizeof state_line, "MAINPID=%d\nREADY=1", static_cast<int>(getpid()));
      notify_systemd(state_line);  // the unit's NotifyAccess=all lets a child say so
      std::fprintf(stderr, "hiserve: took over from pid %d\n", static_cast<int>(from->from));
      tell_old(*from, "ready");
      std::uint64_t memory_next = 0;
      if (!await_store(*from, &memory_next))  // it died: the counter file has its last word
        std::fprintf(stderr, "hiserve: pid %d did not say it stopped reserving\n", static_cast<int>(from->from));
      store_->resume(memory_next);
    } else {
      notify_systemd("READY=1");  // every loop listens and the store is open (start())
    }
    uv_run(&loop, UV_RUN_DEFAULT);  // until SIGINT/SIGTERM, or a handover
    if (!upgrade.handed_over()) {
      upgrade.abandon();
      if (pid_file) std::remove(config_.pid_file.c_str());  // the new process's own now, otherwise
      notify_systemd("STOPPING=1");
    }
  }
  // Drain with the signals still caught, then close everything.
  state.stopping = true;
  uv_timer_stop(&stats_timer);
  stop();
  uv_async_init(&loop, &stopped, [](uv_async_t* a) {
    uv_walk(a->loop, [](uv_handle_t* h, void*) { if (!uv_is_closing(h)) uv_close(h, nullptr); }, nullptr);
  });
  std::thread waiter([this, &stopped] {
    wait();
    uv_async_send(&stopped);
  });
  uv_run(&loop, UV_RUN_DEFAULT);
  waiter.join();
  uv_loop_close(&loop);
  return r;
}

}  // namespace hiserve
