#pragma once
// JSON text handled byte by byte, without a DOM, both ways: the exec
// request's line written (every hostexec builds one; a DOM of the
// environment was most of the client's own work) and read in one pass (the
// daemon's largest piece of work of its own per command was nlohmann's DOM of
// it). Written as nlohmann's dump() writes; read only within the subset
// written here, anything else refused for the DOM's decoder to take or word.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pfd::json_text {

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

} // namespace pfd::json_text
