#include "hiserve/date_cache.hpp"

#include <cstdlib>
#include <cstring>

namespace hiserve {
namespace {
constexpr char kDays[][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr char kMonths[][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

char* two(char* p, long v) noexcept {
  p[0] = static_cast<char>('0' + v / 10), p[1] = static_cast<char>('0' + v % 10);
  return p + 2;
}
char* four(char* p, int v) noexcept { return two(two(p, v / 100 % 100), v % 100); }
char* clock(char* p, const std::tm& tm) noexcept {
  p = two(p, tm.tm_hour), *p++ = ':';
  p = two(p, tm.tm_min), *p++ = ':';
  return two(p, tm.tm_sec);
}
}  // namespace

void DateCache::refresh(std::time_t now) noexcept {
  if (now == sec_) return;
  sec_ = now;
  std::tm tm;
  gmtime_r(&now, &tm);
  char* p = http_;
  std::memcpy(p, kDays[tm.tm_wday], 3), p[3] = ',', p[4] = ' ';
  p = two(p + 5, tm.tm_mday), *p++ = ' ';
  std::memcpy(p, kMonths[tm.tm_mon], 3), p[3] = ' ';
  p = four(p + 4, tm.tm_year + 1900), *p++ = ' ';
  std::memcpy(clock(p, tm), " GMT", 4);

  p = utc_;
  p = four(p, tm.tm_year + 1900), *p++ = '-';
  p = two(p, tm.tm_mon + 1), *p++ = '-';
  p = two(p, tm.tm_mday), *p++ = 'T';
  *clock(p, tm) = 'Z';

  localtime_r(&now, &tm);
  p = two(local_, tm.tm_mday), *p++ = '/';
  std::memcpy(p, kMonths[tm.tm_mon], 3), p[3] = '/';
  p = four(p + 4, tm.tm_year + 1900), *p++ = ':';
  p = clock(p, tm);
  const long off = tm.tm_gmtoff / 60;
  p[0] = ' ', p[1] = off < 0 ? '-' : '+';
  two(two(p + 2, std::labs(off) / 60), std::labs(off) % 60);
}

}  // namespace hiserve
