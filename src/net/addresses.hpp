// What --host and --metrics-addr name, as socket addresses: a name is resolved once at
// start and every address it has is listened on, as nginx does.
#pragma once
#include <sys/socket.h>

#include <string>
#include <vector>

namespace hiserve {

// The port of an IPv4 or IPv6 address, or set it.
int port_of(const sockaddr_storage& ss) noexcept;
void set_port(sockaddr_storage& ss, int port) noexcept;

// The addresses of host (an IPv4 or IPv6 literal, or a name) with port, each checked by
// binding a probe socket: a fixed port in use is an error ("in use" is told apart
// before SO_REUSEPORT could share it), and an address this machine lacks (a name's ::1
// where there is no IPv6) is dropped while others remain. An address in `held` (the
// listeners an upgrade handed over, which a probe would find in use) needs no probe.
// 0 and the addresses, or a libuv error code with one line in *error naming `flag`.
int listen_addresses(const char* flag, const std::string& host, int port, std::vector<sockaddr_storage>* out,
                     std::string* error, const std::vector<sockaddr_storage>& held = {});
// Whether a and b are one address and port (IPv4 or IPv6).
bool same_address(const sockaddr_storage& a, const sockaddr_storage& b) noexcept;

}  // namespace hiserve
