// hiserve: flags in, server up until a signal. Everything else lives in the layers.
#include <cstdio>

#include "cli.hpp"
#include "hiserve/net/handover.hpp"
#include "hiserve/net/server.hpp"

int main(int argc, char** argv) {
  using namespace hiserve;
  const Launch launch = launch_of(argc, argv);
  const CliResult cli = parse_cli(argc, argv);
  if (cli.action == CliResult::Action::Help || cli.action == CliResult::Action::Version) {
    std::fputs((cli.action == CliResult::Action::Help ? usage() : version_line()).c_str(), stdout);
    return 0;
  }
  // An upgrade's new process says what goes wrong to the old one, which logs it.
  Inherited from;
  std::string error;
  auto fail = [&](const std::string& why, int code) {
    if (from.from) tell_old(from, "error " + one_line(why));
    else std::fprintf(stderr, "hiserve: %s%s\n", one_line(why).c_str(), code == 2 ? " (see --help)" : "");
    return code;
  };
  if (!inherited_from_environment(&from, &error)) return fail(error, 1);
  if (cli.action == CliResult::Action::Error) return fail(cli.error, 2);
  if (from.from && !await_go(from, &error)) return fail(error, 1);
  Server server(cli.config);
  if (server.start(&error, from.from ? &from : nullptr) != 0) return fail(error, 1);
  // Logged once a signal would stop it gracefully: whoever reads the line may send one.
  return server.run_until_signal(launch, from.from ? &from : nullptr, [](const Server& s) {
           std::fprintf(stderr, "Starting on port %d\n", s.port());
           if (s.metrics_port() >= 0)
             std::fprintf(stderr, "Metrics on %s port %d\n", s.config().metrics_host.c_str(), s.metrics_port());
         }) == 0
             ? 0
             : 1;
}
