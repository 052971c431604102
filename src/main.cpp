// hiserve: flags in, server up until a signal. Everything else lives in the layers.
#include <cstdio>

#include "cli.hpp"
#include "hiserve/net/server.hpp"

int main(int argc, char** argv) {
  using namespace hiserve;
  const CliResult cli = parse_cli(argc, argv);
  if (cli.action == CliResult::Action::Help || cli.action == CliResult::Action::Version) {
    std::fputs((cli.action == CliResult::Action::Help ? usage() : version_line()).c_str(), stdout);
    return 0;
  }
  if (cli.action == CliResult::Action::Error) {
    std::fprintf(stderr, "hiserve: %s (see --help)\n", cli.error.c_str());
    return 2;
  }
  Server server(cli.config);
  std::string error;
  if (server.start(&error) != 0) {
    std::fprintf(stderr, "hiserve: %s\n", one_line(error).c_str());
    return 1;
  }
  // Logged once a signal would stop it gracefully: whoever reads the line may send one.
  return server.run_until_signal([](const Server& s) {
           std::fprintf(stderr, "Starting on port %d\n", s.port());
           if (s.metrics_port() >= 0)
             std::fprintf(stderr, "Metrics on %s port %d\n", s.config().metrics_host.c_str(), s.metrics_port());
         }) == 0
             ? 0
             : 1;
}
