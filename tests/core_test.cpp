#include <doctest/doctest.h>
#include "hiserve/form.hpp"
TEST_CASE("placeholder") { CHECK(hiserve::is_word("abc")); }
