// libFuzzer entry: arbitrary --counter values through the Redis URL parser and the
// function every error and log line passes a --counter value through. Never a crash;
// every refusal one line; and no user or password of the URL in any of it.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "counter_store.hpp"
#include "redis_store.hpp"

namespace {

[[noreturn]] void broken(const char* what, const std::string& spec, const std::string& said) {
  std::fprintf(stderr, "counter URL invariant broken: %s\n  spec: %s\n  said: %s\n", what, spec.c_str(), said.c_str());
  std::abort();
}

// The URL's userinfo, found independently of the code under test: between "://" and
// the last '@' before the authority ends at '/', '?' or '#'. False when there is none
// (an empty one, "redis://@h", counts as one).
bool userinfo(const std::string& spec, std::string* out) {
  const std::size_t start = spec.find("://");
  if (start == std::string::npos) return false;
  std::size_t end = start + 3;
  while (end < spec.size() && spec[end] != '/' && spec[end] != '?' && spec[end] != '#') ++end;
  const std::string authority = spec.substr(start + 3, end - start - 3);
  const std::size_t at = authority.rfind('@');
  if (at == std::string::npos) return false;
  *out = authority.substr(0, at);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string spec(reinterpret_cast<const char*>(data), size);
  std::string error;
  const bool parsed = hiserve::RedisStore::parse(spec, &error) != nullptr;
  if (!parsed && (error.empty() || (error.find('\n') != std::string::npos && spec.find('\n') == std::string::npos)))
    broken("refusal not one line", spec, error);
  const std::string shown = hiserve::without_credentials(spec);
  // The userinfo, whatever it holds, is shown as "***" and nothing else changes.
  std::string secret;
  if (userinfo(spec, &secret)) {
    const std::size_t from = spec.find("://") + 3;
    if (shown != spec.substr(0, from) + "***" + spec.substr(from + secret.size())) broken("credentials shown", spec, shown);
  } else if (shown != spec) {
    broken("changed a value with no credentials", spec, shown);
  }
  // The parser's error names the value only as shown, then says why in fixed words.
  if (!parsed && error.rfind("bad --counter " + shown + ": ", 0) != 0) broken("the value in the error", spec, error);
  return 0;
}
