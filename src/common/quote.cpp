#include "quote.hpp"

#include <cstdint>

#include <fmt/format.h>

namespace pfd {

namespace {

/// One step through a string: a character of valid UTF-8, or one byte that
/// is not part of one.
struct piece {
    std::size_t size = 1;
    bool valid = true;   ///< false: a byte outside valid UTF-8
    char32_t code = 0;   ///< the character, when valid
    bool escape = false; ///< must not reach a terminal or log as it is
};

/// Characters that act instead of showing: the C0 and C1 controls and DEL
/// (escape sequences, newlines), the bidi controls (they reorder the text
/// around them: "Trojan Source") and the Unicode line breaks.
bool acts(char32_t c)
{
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x061c || c == 0x200e || c == 0x200f ||
           (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/// The piece of `s` at `at` (< s.size()): UTF-8 as RFC 3629 has it (no
/// overlong forms, no surrogates, nothing past U+10FFFF).
piece piece_at(std::string_view s, std::size_t at)
{
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    unsigned char lead = byte(at);
    if (lead < 0x80) return {1, true, lead, acts(lead)};
    std::size_t size = lead >= 0xc2 && lead <= 0xdf   ? 2
                       : lead >= 0xe0 && lead <= 0xef ? 3
                       : lead >= 0xf0 && lead <= 0xf4 ? 4
                                                      : 0;
    if (size == 0 || at + size > s.size()) return {1, false, 0, true};
    // The second byte's range rules out overlong forms, surrogates and
    // what lies past U+10FFFF.
    unsigned char lo = lead == 0xe0 ? 0xa0 : lead == 0xf0 ? 0x90 : 0x80;
    unsigned char hi = lead == 0xed ? 0x9f : lead == 0xf4 ? 0x8f : 0xbf;
    if (byte(at + 1) < lo || byte(at + 1) > hi) return {1, false, 0, true};
    char32_t code = lead & (size == 2 ? 0x1f : size == 3 ? 0x0f : 0x07);
    for (std::size_t i = 1; i < size; ++i) {
        if ((byte(at + i) & 0xc0) != 0x80) return {1, false, 0, true};
        code = (code << 6) | (byte(at + i) & 0x3f);
    }
    return {size, true, code, acts(code)};
}

} // namespace

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

std::string printable(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (std::size_t at = 0; at < text.size();) {
        piece p = piece_at(text, at);
        if (!p.valid || (p.escape && p.code < 0x80) || p.code == '\\')
            out += fmt::format("\\x{:02x}", static_cast<unsigned char>(text[at]));
        else if (p.escape)
            out += fmt::format("\\u{:04x}", static_cast<std::uint32_t>(p.code));
        else
            out += text.substr(at, p.size);
        at += p.size;
    }
    return out;
}

bool needs_escaping(std::string_view text)
{
    for (std::size_t at = 0; at < text.size();) {
        piece p = piece_at(text, at);
        if (p.escape) return true;
        at += p.size;
    }
    return false;
}

std::string shell_word(std::string_view text)
{
    if (text.empty()) return "''";
    if (needs_escaping(text)) {
        // bash's (and zsh's, ksh's, POSIX.1-2024 sh's) $'...': every byte
        // printable() would escape as \xNN, so the word is exact when pasted.
        std::string out = "$'";
        for (std::size_t at = 0; at < text.size();) {
            piece p = piece_at(text, at);
            if (p.escape)
                for (std::size_t i = 0; i < p.size; ++i)
                    out += fmt::format("\\x{:02x}", static_cast<unsigned char>(text[at + i]));
            else if (p.code == '\\' || p.code == '\'')
                out += "\\" + std::string(1, static_cast<char>(p.code));
            else
                out += text.substr(at, p.size);
            at += p.size;
        }
        return out + "'";
    }
    // A word of nothing a shell gives a meaning to needs no quotes; any
    // other character the shell does not parse (non-ASCII text) is itself.
    bool plain = true;
    for (unsigned char c : text)
        plain = plain && (c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                          std::string_view("@%+=:,./_-").find(static_cast<char>(c)) != std::string_view::npos);
    if (plain) return std::string(text);
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::string quote(std::string_view s, std::size_t max)
{
    return "'" + printable(clipped(s, max)) + "'";
}

} // namespace pfd
