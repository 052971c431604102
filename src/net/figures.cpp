#include "figures.hpp"

namespace hiserve {

#define HISERVE_S(field) [](const Stats& s, const StoreStatus&) noexcept -> std::uint64_t { return s.field; }
#define HISERVE_C(field) [](const Stats&, const StoreStatus& c) noexcept -> std::uint64_t { return c.field; }

// The rows of one metric family are consecutive; its first row's type and help count.
const Figure kFigures[] = {
    {"open_connections", "hiserve_connections_open", "", "gauge", "Connections open now.", 0,
     HISERVE_S(open_connections)},
    {"accepted", "hiserve_connections_accepted_total", "", "counter", "Connections accepted and served.", 0,
     HISERVE_S(accepted)},
    {"rejected", "hiserve_connections_rejected_total", "", "counter",
     "Connections closed at once: over --max-connections, or while stopping.", 0, HISERVE_S(rejected)},
    {"accept_errors", "hiserve_accept_errors_total", "", "counter", "accept() errors (EMFILE and the like).", 0,
     HISERVE_S(accept_errors)},
    {"header_timeouts", "hiserve_connection_timeouts_total", "kind=\"header\"", "counter",
     "Connections closed for a deadline: a request head late (header) or keep-alive idle (idle).", 0,
     HISERVE_S(header_timeouts)},
    {"idle_timeouts", "hiserve_connection_timeouts_total", "kind=\"idle\"", "counter", "", 0, HISERVE_S(idle_timeouts)},
    {"requests", nullptr, "", "counter", "requests answered by the router", 0, HISERVE_S(requests)},
    {"bad_requests", nullptr, "", "counter", "protocol errors answered 400", 0, HISERVE_S(bad_requests)},
    {"too_large", nullptr, "", "counter", "protocol errors answered 413 or 431", 0, HISERVE_S(too_large)},
    {"unsupported", nullptr, "", "counter", "protocol errors answered 417, 501 or 505", 0, HISERVE_S(unsupported)},
    {"store_served", "hiserve_visitors_total", "", "counter", "Visitor numbers handed out (200s of /hi).", 0,
     HISERVE_C(served)},
    {"store_up", "hiserve_store_up", "", "gauge", "1 when the visitor count's store answered its last lease request.",
     0, HISERVE_C(up)},
    {"store_left", "hiserve_store_leased_numbers", "", "gauge", "Leased visitor numbers not handed out yet.", 0,
     HISERVE_C(left)},
    {"store_unavailable", "hiserve_store_exhausted_total", "", "counter",
     "/hi requests answered 503 because no leased number was left.", 0, HISERVE_C(unavailable)},
    {"store_outages", "hiserve_store_outages_total", "", "counter", "Times the visitor count's store went down.", 0,
     HISERVE_C(outages)},
    {"store_recoveries", "hiserve_store_recoveries_total", "", "counter",
     "Times the visitor count's store came back.", 0, HISERVE_C(recoveries)},
    {"store_leases", "hiserve_store_leases_total", "", "counter", "Leases of visitor numbers installed.", 0,
     HISERVE_C(leases)},
    {"store_block", "hiserve_store_lease_size", "", "gauge", "Visitor numbers per lease now.", 0, HISERVE_C(block)},
    {"store_refill_last_us", "hiserve_store_last_refill_seconds", "", "gauge",
     "How long the last lease took to arrive.", 1e6, HISERVE_C(refill_last_us)},
    {"store_refill_worst_us", "hiserve_store_slowest_refill_seconds", "", "gauge",
     "How long the slowest lease took to arrive.", 1e6, HISERVE_C(refill_worst_us)},
    {"store_master_changes", "hiserve_store_master_changes_total", "", "counter",
     "Times Sentinel named another Redis master for the visitor count.", 0, HISERVE_C(master_changes)},
    {"log_lines", "hiserve_access_log_lines_total", "", "counter", "Access-log lines written to the file.", 0,
     HISERVE_S(log_lines)},
    {"log_dropped", "hiserve_access_log_dropped_lines_total", "", "counter",
     "Access-log lines dropped because the write failed (a full disk).", 0, HISERVE_S(log_dropped)},
    {"pool_held_bytes", "hiserve_pool_held_bytes", "", "gauge", "Bytes the loops' block pools hold (in use or free).",
     0, HISERVE_S(pool_held_bytes)},
    {"pool_used_bytes", "hiserve_pool_in_use_bytes", "", "gauge", "Bytes of pool blocks in use.", 0,
     HISERVE_S(pool_used_bytes)},
};
const std::size_t kFigureCount = sizeof kFigures / sizeof kFigures[0];

#undef HISERVE_S
#undef HISERVE_C

}  // namespace hiserve
