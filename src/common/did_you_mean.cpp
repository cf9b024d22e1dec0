#include "did_you_mean.hpp"

#include <algorithm>

namespace pfd {

namespace {

constexpr std::size_t longest = 64;

} // namespace

unsigned edit_distance(std::string_view a, std::string_view b) noexcept
{
    // Optimal string alignment on three rows: "stauts" is one swap from
    // "status", where plain Levenshtein counts two.
    if (a.size() > longest || b.size() > longest) return ~0u;
    unsigned rows[3][longest + 1];
    unsigned *before = rows[0], *prev = rows[1], *cur = rows[2];
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<unsigned>(j);
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = static_cast<unsigned>(i);
        for (std::size_t j = 1; j <= b.size(); ++j) {
            unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                cur[j] = std::min(cur[j], before[j - 2] + 1);
        }
        std::swap(before, prev);
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

void closest_word::consider(std::string_view candidate) noexcept
{
    unsigned d = edit_distance(word_, candidate);
    // A typo: one edit in a short word, up to a third of a longer one (git
    // suggests as loosely; a wild guess helps nobody). The first of equals wins.
    std::size_t length = std::max(word_.size(), candidate.size());
    unsigned allowed = length <= 4 ? 1 : static_cast<unsigned>(length / 3);
    if (d == 0 || d > allowed || d >= best_distance_) return;
    best_distance_ = d;
    best_ = candidate;
}

} // namespace pfd
