// hiserve's command line: the flags SPEC.md fixes, as --flag value or --flag=value.
#pragma once
#include <string>

#include "hiserve/server.hpp"

namespace hiserve {

struct CliResult {
  enum class Action { Serve, Help, Error } action = Action::Serve;
  Config config;
  double stats_interval_s = 0;  // --stats-interval: log Stats to stderr this often; 0: never
  std::string error;  // one line, when action == Error
};

CliResult parse_cli(int argc, const char* const* argv);
// The --help text: every flag with its default.
const char* usage() noexcept;

}  // namespace hiserve
