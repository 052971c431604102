// An upgrade by handover, the new process's half (docs/operations.md): what it
// inherits, and the two lines it says to the old process. The old process's half
// (SIGUSR2: start the binary, hand over, wait, drain) is src/net/upgrade.cpp.
//
// The fds follow systemd's convention: from fd 3 on, LISTEN_FDS of them, named in
// order by LISTEN_FDNAMES ("public" for each loop's listener at each address, then
// "metrics", then "counter" for the counter file's locked fd, then "upgrade" for the
// socket to the old process), and HISERVE_UPGRADE_FROM=PID says they are an upgrade's.
// There is no LISTEN_PID: posix_spawn forks and execs in one call, so the old process
// never knows the pid before exec.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "hiserve/store/store_thread.hpp"

namespace hiserve {

// How long the old process waits for the new one to say ready.
inline constexpr int kUpgradeTimeoutS = 10;

// How this process was started: what SIGUSR2 runs again.
struct Launch {
  std::string exe;                // absolute, taken at start
  std::vector<std::string> args;  // argv, argv[0] included
};

// This process's binary, made absolute now (whatever is installed at that path when
// SIGUSR2 comes is what runs), and its arguments.
Launch launch_of(int argc, char** argv);

// What an upgrading hiserve handed this process; from == 0 when it was none.
struct Inherited {
  pid_t from = 0;
  int channel = -1;  // the socket to the old process
  std::vector<int> public_fds, metrics_fds;
  StoreHandover store;  // the first lease arrives with the old process's "go"
};

// Reads (and unsets) the handover's environment, marking every handed fd close-on-exec.
// false and a one-line *error when it is there but not whole.
bool inherited_from_environment(Inherited* in, std::string* error);
// Says hello, and waits for the old process's "go" with the first lease it reserved
// for this one (in.store). false and a one-line *error if it does not come within
// kUpgradeTimeoutS.
bool await_go(Inherited& in, std::string* error);
// Says "ready", or "error WHY" when this process cannot take over.
void tell_old(Inherited& in, const std::string& line) noexcept;
// After "ready": waits for the old process to stop reserving ("store N", N where
// memory's reservations ended), then closes the socket. false if it does not say so.
bool await_store(Inherited& in, std::uint64_t* memory_next);

}  // namespace hiserve
