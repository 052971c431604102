#include "hiserve/date_cache.hpp"

#include <cstring>

namespace hiserve {

void DateCache::refresh(std::time_t now) noexcept {
  if (now == sec_) return;
  sec_ = now;
  static constexpr char kDays[][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr char kMonths[][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm;
  gmtime_r(&now, &tm);
  auto two = [](char* p, int v) { p[0] = static_cast<char>('0' + v / 10), p[1] = static_cast<char>('0' + v % 10); };
  char* p = buf_;
  std::memcpy(p, kDays[tm.tm_wday], 3);
  p[3] = ',', p[4] = ' ';
  two(p + 5, tm.tm_mday);
  p[7] = ' ';
  std::memcpy(p + 8, kMonths[tm.tm_mon], 3);
  p[11] = ' ';
  const int year = tm.tm_year + 1900;
  two(p + 12, year / 100 % 100), two(p + 14, year % 100);
  p[16] = ' ';
  two(p + 17, tm.tm_hour), p[19] = ':', two(p + 20, tm.tm_min), p[22] = ':', two(p + 23, tm.tm_sec);
  std::memcpy(p + 25, " GMT", 4);
}

}  // namespace hiserve
