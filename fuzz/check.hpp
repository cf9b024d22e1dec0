#pragma once
// What every fuzz target shares: a property check that aborts (libFuzzer then
// saves the input as a crash), whatever NDEBUG says.

#include <cstdio>
#include <cstdlib>
#include <string_view>

#define PFD_FUZZ_CHECK(cond)                                                                                           \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            std::fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #cond);                         \
            std::abort();                                                                                              \
        }                                                                                                              \
    } while (0)

namespace pfd::fuzz {

inline std::string_view as_text(const unsigned char* data, std::size_t size)
{
    return {reinterpret_cast<const char*>(data), size};
}

} // namespace pfd::fuzz
