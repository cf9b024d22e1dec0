#include "quote.hpp"

#include <fmt/format.h>

namespace pfd {

std::string clipped(std::string_view s, std::size_t max)
{
    if (s.size() <= max) return std::string(s);
    std::size_t cut = max;
    // Back off continuation bytes (10xxxxxx) so no character is split.
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    std::string out(s.substr(0, cut));
    out += "\u2026";
    return out;
}

std::string quote(std::string_view s, std::size_t max)
{
    return "'" + clipped(s, max) + "'";
}

std::string printable(std::string_view text)
{
    std::string out;
    for (unsigned char c : text)
        if (c < 0x20 || c == 0x7f || c == '\\')
            out += fmt::format("\\x{:02x}", c);
        else
            out += static_cast<char>(c);
    return out;
}

} // namespace pfd
