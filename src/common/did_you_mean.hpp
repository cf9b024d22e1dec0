#pragma once
// "Did you mean ...?" for a misspelled verb, option or config key: the
// closest of the words that would have been understood, when it is close
// enough to be a typo. Shared by pfd and the static hostexec, so it neither
// allocates nor pulls anything in.

#include <string_view>

namespace pfd {

/// Feed it the candidates one by one; best() is the closest to `word`.
class closest_word {
public:
    explicit closest_word(std::string_view word) noexcept : word_(word) {}

    void consider(std::string_view candidate) noexcept;
    /// The closest candidate if it is likely what was meant, else empty.
    std::string_view best() const noexcept { return best_; }

private:
    std::string_view word_, best_;
    unsigned best_distance_ = ~0u;
};

/// Edits (insertions, deletions, substitutions, swaps of two neighbours)
/// that turn `a` into `b`; words longer than 64 bytes count as far apart.
unsigned edit_distance(std::string_view a, std::string_view b) noexcept;

} // namespace pfd
