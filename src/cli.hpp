// hiserve's command line: the flags, each listed once in a table (cli.cpp) that the
// parser, --help and the man page hiserve(1) are all generated from.
#pragma once
#include <string>
#include <string_view>

#include "hiserve/config.hpp"

namespace hiserve {

struct CliResult {
  enum class Action { Serve, Help, Version, Error } action = Action::Serve;
  Config config;
  std::string error;  // one line, when action == Error
};

CliResult parse_cli(int argc, const char* const* argv);
// msg with its control bytes as \xHH: an error that quotes what the user gave (a flag,
// a path, a --counter value) stays one line on stderr.
std::string one_line(std::string_view msg);
// The --help text: every flag with its default.
std::string usage();
// "hiserve VERSION\n" (--version).
std::string version_line();
// hiserve(1) in man(7) roff: the same flags, defaults and ranges as --help.
std::string man_page();

}  // namespace hiserve
