// hiserve: flags in, server up, signals to stop. Everything else lives in the layers.
#include <uv.h>

#include <cstdio>

#include "hiserve/cli.hpp"
#include "hiserve/net.hpp"
#include "hiserve/server.hpp"

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
  uv_run(loop, UV_RUN_DEFAULT);  // until a signal
  for (uv_signal_t& s : signals) uv_close(reinterpret_cast<uv_handle_t*>(&s), nullptr);
  uv_run(loop, UV_RUN_DEFAULT);
  server.wait();
  uv_loop_close(loop);
  return 0;
}
