// The times a response and its access-log line carry, formatted once a second per loop:
// the Date header (RFC 9110 IMF-fixdate), nginx's $time_local, and RFC 3339 UTC.
#pragma once
#include <ctime>
#include <string_view>

namespace hiserve {

class DateCache {
 public:
  DateCache() noexcept { refresh(std::time(nullptr)); }
  // Reformats if `now` is a different second than the cached one.
  void refresh(std::time_t now) noexcept;
  // "Sun, 06 Nov 1994 08:49:37 GMT": always 29 bytes.
  std::string_view value() const noexcept { return {http_, 29}; }
  // nginx's $time_local, "30/Nov/2026:14:28:44 +0000" (local time and its offset): 26 bytes.
  std::string_view local() const noexcept { return {local_, 26}; }
  // RFC 3339 in UTC, "2026-11-30T14:28:44Z": 20 bytes.
  std::string_view utc() const noexcept { return {utc_, 20}; }
  // The second the strings are of.
  std::time_t second() const noexcept { return sec_; }

 private:
  std::time_t sec_ = -1;
  char http_[29];
  char local_[26];
  char utc_[20];
};

}  // namespace hiserve
