// hiserve: flags in, server up, signals to stop. Everything else lives in the layers.
#include <uv.h>

#include <cstdint>
#include <cstdio>

#include "hiserve/cli.hpp"
#include "hiserve/net.hpp"
#include "hiserve/server.hpp"

namespace {
// One line of counters, for soak runs and operators (--stats-interval).
void log_stats(uv_timer_t* t) {
  const hiserve::Stats s = static_cast<hiserve::Server*>(t->data)->stats();
  std::fprintf(stderr,
               "stats open_connections=%lld accepted=%llu rejected=%llu accept_errors=%llu requests=%llu "
               "bad_requests=%llu too_large=%llu unsupported=%llu header_timeouts=%llu idle_timeouts=%llu\n",
               static_cast<long long>(s.open_connections), static_cast<unsigned long long>(s.accepted),
               static_cast<unsigned long long>(s.rejected), static_cast<unsigned long long>(s.accept_errors),
               static_cast<unsigned long long>(s.requests), static_cast<unsigned long long>(s.bad_requests),
               static_cast<unsigned long long>(s.too_large), static_cast<unsigned long long>(s.unsupported),
               static_cast<unsigned long long>(s.header_timeouts), static_cast<unsigned long long>(s.idle_timeouts));
}
}  // namespace

int main(int argc, char** argv) {
  using namespace hiserve;
  CliResult cli = parse_cli(argc, argv);
  if (cli.action == CliResult::Action::Help) {
    std::fputs(usage(), stdout);
    return 0;
  }
  if (cli.action == CliResult::Action::Error) {
    std::fprintf(stderr, "hiserve: %s (see --help)\n", cli.error.c_str());
    return 2;
  }
  route_libuv_allocator();  // before the default loop allocates anything
  Server server(cli.config);
  std::string error;
  if (server.start(&error) != 0) {
    std::fprintf(stderr, "hiserve: %s\n", error.c_str());
    return 1;
  }
  std::fprintf(stderr, "Starting on port %d\n", server.port());

  uv_loop_t* loop = uv_default_loop();
  uv_signal_t signals[2];
  for (uv_signal_t& s : signals) {
    uv_signal_init(loop, &s);
    s.data = &server;
  }
  auto on_signal = [](uv_signal_t* s, int) {
    static_cast<Server*>(s->data)->stop();
    uv_stop(s->loop);
  };
  uv_signal_start(&signals[0], on_signal, SIGINT);
  uv_signal_start(&signals[1], on_signal, SIGTERM);
  uv_timer_t stats_timer;
  uv_timer_init(loop, &stats_timer);
  stats_timer.data = &server;
  if (cli.stats_interval_s > 0) {
    const auto ms = static_cast<std::uint64_t>(cli.stats_interval_s * 1000);
    uv_timer_start(&stats_timer, log_stats, ms, ms);
  }
  uv_run(loop, UV_RUN_DEFAULT);  // until a signal
  for (uv_signal_t& s : signals) uv_close(reinterpret_cast<uv_handle_t*>(&s), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&stats_timer), nullptr);
  uv_run(loop, UV_RUN_DEFAULT);
  server.wait();
  uv_loop_close(loop);
  return 0;
}
