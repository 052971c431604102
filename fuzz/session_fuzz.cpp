// libFuzzer entry: arbitrary bytes, cut into arbitrary reads, through the session
// (parser, limits, router, handler, response writer, keep-alive decision).
#include <cstdio>
#include <cstdlib>

#include "session_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string error = fuzz::check_session_input(data, size);
  if (!error.empty()) {
    std::fprintf(stderr, "session invariant broken: %s\n", error.c_str());
    std::abort();
  }
  return 0;
}
