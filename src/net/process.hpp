// What hiserve does as a process rather than as a server, in one place: SIGPIPE,
// systemd's readiness protocol, and the --stats-interval line. Server::run_until_signal
// (process.cpp) puts them together around the loops.
#pragma once
#include <string>

#include "hiserve/stats.hpp"
#include "hiserve/store/store_thread.hpp"

namespace hiserve {

// A peer that resets while we write must cost an EPIPE, not the process.
void ignore_sigpipe() noexcept;
// Tells systemd (Type=notify) how the service stands; nothing without NOTIFY_SOCKET or
// in a build without libsystemd.
void notify_systemd(const char* state) noexcept;
// Writes this process's id to path, whole (a temporary file, then rename); false with
// a one-line *error.
bool write_pid_file(const std::string& path, std::string* error);
// One line of every figure (figures.hpp) on stderr.
void log_stats(const Stats& s, const StoreStatus& c) noexcept;

}  // namespace hiserve
