#pragma once
// A deterministic byte stream for the soak test: byte i of stream s (1 for
// stdout, 2 for stderr) under a seed. Every 8-byte word depends on its
// position, so a lost, repeated or reordered chunk shows at its offset.
#include <cstddef>
#include <cstdint>

namespace soak {

inline std::uint64_t mix(std::uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/// Writes bytes [offset, offset + n) of stream `s` into `buf`.
inline void pattern_fill(std::uint64_t seed, int s, std::uint64_t offset, unsigned char* buf, std::size_t n)
{
    std::uint64_t key = mix(seed * 4 + static_cast<std::uint64_t>(s));
    std::uint64_t word = offset / 8, x = mix(key ^ word);
    for (std::size_t k = 0; k < n; ++k) {
        std::uint64_t i = offset + k;
        if (i / 8 != word) x = mix(key ^ (word = i / 8));
        buf[k] = static_cast<unsigned char>(x >> (8 * (i % 8)));
    }
}

} // namespace soak
