// Process-level libuv setup shared by the server and main.
#pragma once

namespace hiserve {

// Routes libuv's allocations through mem:: (counted, and on the chosen allocator).
// Call before any other libuv use; later calls do nothing.
void route_libuv_allocator();

}  // namespace hiserve
