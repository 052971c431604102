// hiserve's command line: the flags SPEC.md fixes, as --flag value or --flag=value.
#pragma once
#include <string>

#include "hiserve/config.hpp"

namespace hiserve {

struct CliResult {
  enum class Action { Serve, Help, Error } action = Action::Serve;
  Config config;
  std::string error;  // one line, when action == Error
};

CliResult parse_cli(int argc, const char* const* argv);
// The --help text: every flag with its default.
const char* usage() noexcept;

}  // namespace hiserve
