// Writes hiserve(1) to stdout (meson installs it): the man page comes from the CLI's
// flag table, as --help does.
#include <cstdio>

#include "cli.hpp"

int main() { return std::fputs(hiserve::man_page().c_str(), stdout) < 0 ? 1 : 0; }
