#include "json_text.hpp"

#include "byte_string.hpp"

#include <array>
#include <utility>

namespace pfd::json_text {

namespace {

/// JSON's escapes of a backslash and a letter: the byte and its letter, the
/// ones nlohmann's dump() writes (any other byte below 0x20 it writes as
/// \u00XX). A reader takes "\/" for '/' too.
constexpr std::pair<char, char> short_escapes[] = {
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
constexpr auto letter_of = escape_table<true>();
constexpr auto byte_of = escape_table<false>();

} // namespace

void append_string(std::string& out, std::string_view utf8)
{
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    for (char c : utf8) {
        auto u = static_cast<unsigned char>(c);
        if (char letter = letter_of[u]) {
            out += '\\';
            out += letter;
        } else if (u < 0x20) {
            out += "\\u00";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else {
            out += c;
        }
    }
    out += '"';
}

void append_bytes(std::string& out, std::string_view bytes)
{
    if (is_valid_utf8(bytes)) return append_string(out, bytes);
    out += R"({"b64":)";
    append_string(out, base64_encode(bytes));
    out += '}';
}

void append_byte_array(std::string& out, const std::vector<std::string>& values)
{
    out += '[';
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i) out += ',';
        append_bytes(out, values[i]);
    }
    out += ']';
}

bool scanner::string(std::string& out)
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
            char byte = byte_of[static_cast<unsigned char>(*p_)];
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

bool scanner::strings(std::vector<std::string>& out)
{
    return sequence('[', ']', [&] { return string(out.emplace_back()); });
}

bool scanner::integer(std::int64_t& out, std::int64_t max)
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

bool scanner::integers(std::vector<int>& out, std::int64_t max)
{
    return sequence('[', ']', [&] {
        std::int64_t n;
        if (!integer(n, max)) return false;
        out.push_back(static_cast<int>(n));
        return true;
    });
}

bool scanner::boolean(bool& out)
{
    if (word("true"))
        out = true;
    else if (word("false"))
        out = false;
    else
        return false;
    return true;
}

bool scanner::word(std::string_view w)
{
    if (static_cast<std::size_t>(end_ - p_) < w.size() || std::string_view(p_, w.size()) != w) return false;
    p_ += w.size();
    return true;
}

bool scanner::eat(char c)
{
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
}

void scanner::skip_space()
{
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
}

} // namespace pfd::json_text
