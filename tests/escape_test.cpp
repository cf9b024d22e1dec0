// What pfd prints of strings from outside (quote.hpp): each byte class that
// acts on a terminal or splits a log line escaped, everything else itself,
// and commands it shows shell-quoted so that bash reads back the very bytes.
#include "support/harness.hpp"

#include "quote.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

using namespace pfd::test;
using namespace std::string_literals;

namespace {

/// Each class of what must not act, as raw bytes and as printable() shows it.
const std::vector<std::pair<std::string, std::string>> hostile = {
    {"\x1b]0;pwned\x07", R"(\x1b]0;pwned\x07)"}, // C0: OSC retitling the terminal
    {"a\nb\rc\td", R"(a\x0ab\x0dc\x09d)"},       // C0: line breaks
    {"nul\0x"s, R"(nul\x00x)"},
    {"\x7f", R"(\x7f)"}, // DEL
    {"\x9b"
     "2J",
     R"(\x9b2J)"},                       // raw C1: CSI, alone not UTF-8
    {"\x9d\x90\x85", R"(\x9d\x90\x85)"}, // raw C1: OSC, DCS, NEL
    {"\xc2\x9b"
     "2J",
     R"(\u009b2J)"},                         // C1 as UTF-8: U+009B CSI
    {"\xc2\x80\xc2\x9f", R"(\u0080\u009f)"}, // the ends of C1
    {"\xe2\x80\xaa", R"(\u202a)"},           // LRE
    {"\xe2\x80\xab", R"(\u202b)"},           // RLE
    {"\xe2\x80\xac", R"(\u202c)"},           // PDF
    {"\xe2\x80\xad", R"(\u202d)"},           // LRO
    {"txt.\xe2\x80\xae"
     "exe",
     R"(txt.\u202eexe)"},                                                                // RLO
    {"\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9", R"(\u2066\u2067\u2068\u2069)"}, // isolates
    {"\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", R"(\u200e\u200f\u061c)"},                       // marks
    {"\xe2\x80\xa8\xe2\x80\xa9", R"(\u2028\u2029)"}, // Unicode line and paragraph separators
    {"\xff\xfe", R"(\xff\xfe)"},                     // invalid UTF-8: never a lead byte
    {"\xc3", R"(\xc3)"},                             // a character cut short
    {"\xe2\x80", R"(\xe2\x80)"},
    {"\xc0\xaf", R"(\xc0\xaf)"},                 // overlong '/'
    {"\xe0\x80\xaf", R"(\xe0\x80\xaf)"},         // overlong '/'
    {"\xed\xa0\x80", R"(\xed\xa0\x80)"},         // a surrogate
    {"\xf4\x90\x80\x80", R"(\xf4\x90\x80\x80)"}, // past U+10FFFF
    {"\xc3\xa9\x9b", R"(é\x9b)"},                // a C1 byte after a whole character
    {R"(back\slash)", R"(back\x5cslash)"},       // '\': what is shown reads back one way
};

/// What bash makes of `word` (printf %s, so nothing is added), in `cwd`.
std::string bash_reads(const std::string& word, const std::string& cwd)
{
    auto r = run({.argv = {"bash", "-c", "printf %s " + word}, .cwd = cwd});
    REQUIRE(r.code() == 0);
    return r.out;
}

} // namespace

TEST_CASE("printable: each byte class that acts escaped, text itself", "[escape]")
{
    for (auto& [raw, shown] : hostile) {
        INFO(shown);
        CHECK(pfd::printable(raw) == shown);
        CHECK(pfd::needs_escaping(raw) == (shown != R"(back\x5cslash)"));
    }
    // Text that does not act is itself: accents, CJK, emoji, U+00A0 (just
    // past C1), U+2027 and U+202F (beside the bidi controls).
    for (std::string text :
         {"café", "日本語のテキスト", "🙂 ok", "\xc2\xa0", "\xe2\x80\xa7\xe2\x80\xaf", "~/a b/c-d_e.f"}) {
        INFO(text);
        CHECK(pfd::printable(text) == text);
        CHECK_FALSE(pfd::needs_escaping(text));
    }
    CHECK(pfd::quote("a\x1b[2Jb") == R"('a\x1b[2Jb')");
    CHECK(pfd::quote(std::string(300, 'x') + "\n") == "'" + std::string(256, 'x') + "\u2026'");
}

TEST_CASE("shell_word: bare, '...' or $'...', and bash reads back the very bytes", "[escape]")
{
    CHECK(pfd::shell_word("ls") == "ls");
    CHECK(pfd::shell_word("/usr/bin/x-y_z.1") == "/usr/bin/x-y_z.1");
    CHECK(pfd::shell_word("café") == "café");
    CHECK(pfd::shell_word("") == "''");
    CHECK(pfd::shell_word("a b") == "'a b'");
    CHECK(pfd::shell_word("it's") == R"('it'\''s')");
    CHECK(pfd::shell_word("/src/$(touch pwned)/.pfd.toml") == "'/src/$(touch pwned)/.pfd.toml'");
    CHECK(pfd::shell_word("/src/`touch pwned`") == "'/src/`touch pwned`'");
    CHECK(pfd::shell_word("x\x1b[2J") == R"($'x\x1b[2J')");
    CHECK(pfd::shell_word("a'b\\c\n") == R"($'a\'b\\c\x0a')");
    CHECK(pfd::shell_word("\xe2\x80\xae") == R"($'\xe2\x80\xae')");
    for (auto& [raw, shown] : hostile) {
        INFO(shown);
        CHECK_FALSE(pfd::needs_escaping(pfd::shell_word(raw)));
    }

    if (!have_program("bash")) {
        WARN("skipped: bash is not installed to read the words back");
        return;
    }
    std::vector<std::string> words = {
        "plain", "a b", "it's", "$(touch pwned)", "`touch pwned`", "café", "日本", "'", R"(\)", "$HOME", "!x", "*"};
    for (auto& [raw, shown] : hostile)
        if (raw.find('\0') == std::string::npos) words.push_back(raw); // an argv never holds one
    temp_dir cwd;
    for (auto& word : words) {
        INFO(pfd::printable(word) << " as " << pfd::shell_word(word));
        CHECK(bash_reads(pfd::shell_word(word), cwd.path()) == word);
    }
    CHECK_FALSE(exists(cwd / "pwned"));
}
