#pragma once
// JSON text handled byte by byte, without a DOM, both ways: the exec
// request's line written (every hostexec builds one; a DOM of the
// environment was most of the client's own work) and read in one pass (the
// daemon's largest piece of work of its own per command was nlohmann's DOM of
// it). Written as nlohmann's dump() writes; read only within the subset
// written here, anything else refused for the DOM's decoder to take or word.

#include "byte_string.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pfd::json_text {

namespace detail {

/// JSON's escapes of a backslash and a letter: the byte and its letter, the
/// ones nlohmann's dump() writes (any other byte below 0x20 it writes as
/// \u00XX). A reader takes "\/" for '/' too.
inline constexpr std::pair<char, char> short_escapes[] = {
    {'"', '"'}, {'\\', '\\'}, {'\b', 'b'}, {'\f', 'f'}, {'\n', 'n'}, {'\r', 'r'}, {'\t', 't'},
};

/// One of the two directions of short_escapes, as a table of 256 (0: none).
template <bool to_letter>
constexpr std::array<char, 256> escape_table()
{
    std::array<char, 256> t{};
    for (auto [byte, letter] : short_escapes)
        t[static_cast<unsigned char>(to_letter ? byte : letter)] = to_letter ? letter : byte;
    if (!to_letter) t['/'] = '/';
    return t;
}
inline constexpr auto letter_of = escape_table<true>();
inline constexpr auto byte_of = escape_table<false>();

} // namespace detail

/// Written straight into `out`, escaped as nlohmann's dump() escapes.
void append_string(std::string& out, std::string_view utf8);
/// A byte string: a JSON string, or {"b64": ...} for bytes that are not UTF-8.
void append_bytes(std::string& out, std::string_view bytes);
void append_byte_array(std::string& out, const std::vector<std::string>& values);

/// Reads values of the JSON subset hostexec writes at the current byte, each
/// call false at the first byte outside it (the position is then of no use):
/// strings without \u escapes, small integers, booleans, arrays of those, an
/// object; JSON whitespace between tokens.
class scanner {
public:
    explicit scanner(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

    /// A string with the escapes hostexec writes but \u (which may mean a
    /// NUL or a surrogate pair: the DOM's decoder knows what to do with
    /// those), valid UTF-8.
    bool string(std::string& out);
    bool strings(std::vector<std::string>& out);
    /// 0 or a number without a leading zero, sign, fraction or exponent, at
    /// most `max` (a bigger one is the DOM's to refuse, with its message).
    bool integer(std::int64_t& out, std::int64_t max);
    bool integers(std::vector<int>& out, std::int64_t max);
    bool boolean(bool& out);

    /// { "name" : value, ... }, `member(name)` reading each value; then
    /// nothing but whitespace up to the end.
    template <typename Member>
    bool whole_object(Member member)
    {
        skip_space();
        bool ok = sequence('{', '}', [&] {
            std::string name;
            if (!string(name)) return false;
            skip_space();
            if (!eat(':')) return false;
            skip_space();
            return member(std::string_view(name));
        });
        skip_space();
        return ok && p_ == end_;
    }

private:
    /// OPEN item, item, ... CLOSE (maybe no item), JSON whitespace around
    /// each; `item` reads one at the current byte.
    template <typename Item>
    bool sequence(char open, char close, Item item)
    {
        if (!eat(open)) return false;
        skip_space();
        if (eat(close)) return true;
        do {
            skip_space();
            if (!item()) return false;
            skip_space();
        } while (eat(','));
        return eat(close);
    }

    bool word(std::string_view w);
    bool eat(char c);
    void skip_space();

    const char* p_;
    const char* end_;
};

// The scanner inline: its calls inlined into one another, as they were in
// one file (a function of a -fPIC library that may be interposed is not).

inline bool scanner::string(std::string& out)
{
    if (!eat('"')) return false;
    const char* run = p_;
    bool ascii = true;
    for (;;) {
        if (p_ == end_) return false;
        auto c = static_cast<unsigned char>(*p_);
        if (c == '"') break;
        if (c < 0x20) return false;
        if (c >= 0x80) ascii = false;
        if (c == '\\') {
            out.append(run, p_);
            if (++p_ == end_) return false;
            char byte = detail::byte_of[static_cast<unsigned char>(*p_)];
            if (!byte) return false;
            out += byte;
            run = ++p_;
            continue;
        }
        ++p_;
    }
    out.append(run, p_);
    ++p_;
    // JSON text is UTF-8; the DOM's lexer refuses a string that is not.
    return ascii || is_valid_utf8(out);
}

inline bool scanner::strings(std::vector<std::string>& out)
{
    return sequence('[', ']', [&] { return string(out.emplace_back()); });
}

inline bool scanner::integer(std::int64_t& out, std::int64_t max)
{
    if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
    out = 0;
    if (*p_ == '0') {
        ++p_;
    } else {
        while (p_ != end_ && *p_ >= '0' && *p_ <= '9') {
            out = out * 10 + (*p_++ - '0');
            if (out > max) return false;
        }
    }
    // "0.5", "1e3", "01": a number of another kind, or bad JSON.
    return p_ == end_ || (*p_ != '.' && *p_ != 'e' && *p_ != 'E' && (*p_ < '0' || *p_ > '9'));
}

inline bool scanner::integers(std::vector<int>& out, std::int64_t max)
{
    return sequence('[', ']', [&] {
        std::int64_t n;
        if (!integer(n, max)) return false;
        out.push_back(static_cast<int>(n));
        return true;
    });
}

inline bool scanner::boolean(bool& out)
{
    if (word("true"))
        out = true;
    else if (word("false"))
        out = false;
    else
        return false;
    return true;
}

inline bool scanner::word(std::string_view w)
{
    if (static_cast<std::size_t>(end_ - p_) < w.size() || std::string_view(p_, w.size()) != w) return false;
    p_ += w.size();
    return true;
}

inline bool scanner::eat(char c)
{
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
}

inline void scanner::skip_space()
{
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
}

} // namespace pfd::json_text
