// One fuzz input run through a Session the way a connection runs it, with every
// invariant hiserve promises checked, twice: with quick heads (quick_head.hpp) and with
// llhttp reading everything, which must write the same bytes. Shared by the libFuzzer target and by the test
// that replays the seed corpus and past findings in the normal suite.
//
// Input: byte 0 picks the limits, the read size scale and whether a graceful stop
// comes mid-stream; byte 1 seeds the read sizes; the rest is what the client sends.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace fuzz {

// "" when every invariant held, else what broke.
std::string check_session_input(const std::uint8_t* data, std::size_t size);

}  // namespace fuzz
