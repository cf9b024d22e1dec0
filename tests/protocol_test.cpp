#include "byte_string.hpp"
#include "exec_wire.hpp"
#include "pfd/error.hpp"
#include "pfd/protocol.hpp"
#include "signals.hpp"
#include "support/harness.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <csignal>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

using namespace std::string_literals;
using namespace std::string_view_literals;
using pfd::test::exec_line;

namespace {

/// What a decoder makes of a line: the request, or the code and message it
/// refuses the line with. Compared whole, so a line that both decoders
/// refuse must be refused with the same words.
struct decoded {
    std::optional<pfd::request> req;
    std::string code;
    std::string message;
    bool operator==(const decoded&) const = default;
};

decoded decode_with(auto parse, std::string_view line)
{
    try {
        return {pfd::request(parse(line)), {}, {}};
    } catch (const pfd::protocol_error& e) {
        return {std::nullopt, std::string(pfd::to_string(e.code())), e.what()};
    }
}

/// "ok" when parse_request accepts the line, else the wire code it throws.
std::string request_outcome(std::string_view line)
{
    auto d = decode_with(pfd::parse_request, line);
    return d.req ? "ok" : d.code;
}

std::string control_outcome(std::string_view line)
{
    auto d = decode_with(pfd::parse_control, line);
    return d.req ? "ok" : d.code;
}

pfd::exec_request parse_exec(std::string_view line)
{
    auto req = pfd::parse_request(line);
    REQUIRE(std::holds_alternative<pfd::exec_request>(req));
    return std::get<pfd::exec_request>(req);
}

template <typename T>
T round_trip_event(const pfd::event& ev)
{
    std::string line = pfd::encode_event(ev);
    REQUIRE(line.ends_with('\n'));
    REQUIRE(line.find('\n') == line.size() - 1);
    auto parsed = pfd::parse_event(std::string_view(line).substr(0, line.size() - 1));
    REQUIRE(std::holds_alternative<T>(parsed));
    return std::get<T>(parsed);
}

struct bad_case {
    const char* what;
    std::string line;
};

/// parse_request (which reads the usual exec line without a DOM) and the
/// DOM's decoder agree on the line, whatever it is.
void check_same_as_dom(std::string_view line)
{
    INFO("line: " << line);
    auto fast = decode_with(pfd::parse_request, line);
    auto dom = decode_with(pfd::parse_request_with_dom, line);
    INFO("error: " << fast.code << ": " << fast.message << " | DOM's: " << dom.code << ": " << dom.message);
    CHECK(fast == dom);
}

void check_all_bad_request(const std::vector<bad_case>& cases)
{
    for (auto& c : cases) {
        INFO(c.what << ": " << c.line);
        CHECK(request_outcome(c.line) == "bad_request");
        check_same_as_dom(c.line);
    }
}

} // namespace

TEST_CASE("an exec request survives encode and parse with every field", "[protocol]")
{
    pfd::exec_request req;
    req.argv = {"ls", "-l", "été", "\xe9t\xe9", "with space", "quote\"and\\backslash"};
    req.env = {"A=1", "LANG=C.UTF-8", "EMPTY=", "EQ=a=b", "LATIN=\xe9t\xe9", "\xe9t\xe9=named in latin-1"};
    req.cwd = "/tmp/\xe9t\xe9";
    req.umask = 0027;
    req.cwd_fd = true;
    req.fds = {5, 7};
    req.tty = true;
    req.rows = 24;
    req.cols = 80;
    req.modes = pfd::terminal_modes{0x500, 0x5, 0xbf, 0x8a3b, {3, 28, 127, 21, 4, 0, 1, 0}};
    req.detach = true;
    req.client = "hostexec 0.1.0 (build 1234abcd)";
    req.program = "l\xe9s";
    req.container = "podman";
    req.env_forward = {"TERM", "LC_\xe9"};
    req.clear_env = true;
    req.unset_env = {"PATH", "V\xe9"};

    std::string line = pfd::encode_request(req);
    REQUIRE(line.ends_with('\n'));
    REQUIRE(line.find('\n') == line.size() - 1);
    CHECK(line.starts_with(R"({"pfd":1,"op":"exec")"));
    // The line itself must be valid UTF-8 even though some values are not.
    CHECK(pfd::is_valid_utf8(line));

    // Whole: a field the decoder drops or changes fails here.
    CHECK(parse_exec(std::string_view(line).substr(0, line.size() - 1)) == req);
}

TEST_CASE("the exec line escapes every character as nlohmann/json does", "[protocol][bytes]")
{
    // hostexec writes the exec request without a DOM (json_text's append_*):
    // its escaping must be JSON's, byte for byte what a DOM would write.
    std::string every;
    for (int c = 1; c < 0x80; ++c) every += static_cast<char>(c);
    pfd::exec_request req;
    req.argv = {"printf", every, "\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80", "\xe9t\xe9"};
    req.env = {"CTRL=" + every};
    req.cwd = "/tmp/\x7f\"\\";
    req.client = "hostexec \"quoted\" \x01";
    std::string line = pfd::encode_request(req);
    auto argv = nlohmann::ordered_json::array();
    argv.push_back(req.argv[0]);
    argv.push_back(req.argv[1]);
    argv.push_back(req.argv[2]);
    argv.push_back({{"b64", pfd::base64_encode(req.argv[3])}});
    CHECK(line.find(R"("argv":)" + argv.dump() + ",") != std::string::npos);
    CHECK(line.find(R"("env":)" + nlohmann::ordered_json::array({req.env[0]}).dump() + ",") != std::string::npos);
    CHECK(line.find(R"("cwd":)" + nlohmann::ordered_json(req.cwd).dump() + ",") != std::string::npos);
    CHECK(line.find(R"("client":)" + nlohmann::ordered_json(req.client).dump()) != std::string::npos);
    auto back = parse_exec(std::string_view(line).substr(0, line.size() - 1));
    CHECK(back.argv == req.argv);
    CHECK(back.env == req.env);
    CHECK(back.cwd == req.cwd);
    CHECK(back.client == req.client);
}

TEST_CASE("a text field that is not UTF-8 is written replaced, as nlohmann/json replaces it", "[protocol][bytes]")
{
    pfd::exec_request req;
    req.argv = {"true"};
    req.cwd = "/";
    req.client = "hostexec \xff\xc3";
    req.container = "pod\xe9";
    std::string line = pfd::encode_request(req);
    CHECK(pfd::is_valid_utf8(line));
    auto replaced = [](const std::string& s) {
        return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    };
    CHECK(line.find(R"("client":)" + replaced(req.client)) != std::string::npos);
    CHECK(line.find(R"("container":)" + replaced(req.container)) != std::string::npos);
}

TEST_CASE("the usual exec line is read without a DOM, to the same request and the same errors", "[protocol]")
{
    pfd::exec_request full;
    full.argv = {"printf", "%s\\n", "tab\there \"quoted\" back\\slash \b\f\r\n",
                 "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "a/b"};
    full.env = {"PATH=/usr/bin:/bin", "EMPTY=", "LANG=C.UTF-8"};
    full.cwd = "/home/\xc3\xa9t\xc3\xa9";
    full.cwd_fd = true;
    full.umask = 0777;
    full.fds = {0, 1, 2, 7, 1 << 20};
    full.detach = true;
    full.client = "hostexec 1.0";
    full.program = "/usr/bin/printf";
    full.container = "podman";
    full.env_forward = {"LANG"};
    full.clear_env = true;
    full.unset_env = {"PYTHONPATH"};
    pfd::exec_request terminal;
    terminal.argv = {"sh"};
    terminal.cwd = "/";
    terminal.umask = 0;
    terminal.tty = true;
    terminal.rows = 65535;
    terminal.cols = 0;
    pfd::exec_request shell;
    shell.login_shell = true;
    shell.cwd = "/tmp";
    pfd::exec_request controlling;
    controlling.argv = {"sudo", "tee", "f"};
    controlling.cwd = "/";
    controlling.fds = {0, 1, 2};
    controlling.ctty = true;
    controlling.rows = 24;
    controlling.cols = 80;

    // Read in one pass: whatever hostexec writes but termios and b64.
    std::vector<std::string> taken = {
        pfd::encode_request(full),
        pfd::encode_request(terminal),
        pfd::encode_request(shell),
        pfd::encode_request(controlling),
        " {\t\"pfd\" : 1 ,\"op\":\"exec\" ,\n\"argv\" : [ \"a\" , \"b\" ] ,\r\"cwd\":\"/\" , \"fds\" : [ ] } \n",
        R"({"cwd":"/","argv":["x"],"env":[],"umask":18,"op":"exec","pfd":1})",
        R"({"pfd":1,"op":"exec","argv":["a\/b"],"cwd":"\/"})",
        // Taken, then refused by the checks both decoders share.
        exec_line(R"("argv":[],"cwd":"/")"),
        exec_line(R"("argv":["true"],"env":["A=1","A=2"],"cwd":"/")"),
        exec_line(R"("argv":["true"],"cwd":"relative")"),
        exec_line(R"("argv":["true"],"cwd":"/","fds":[3,3])"),
        exec_line(R"("argv":["true"],"cwd":"/","winsize":[24,80])"),
        exec_line(R"("login_shell":true,"argv":["sh"],"cwd":"/")"),
        exec_line(R"("argv":["true"],"cwd":"/","container":"")"),
        exec_line(R"("argv":["true"])"),
    };
    // Left to the DOM, which takes or refuses them as before.
    std::vector<std::string> left = {
        exec_line(R"("argv":["caf\u00e9"],"cwd":"/")"),
        exec_line(R"("argv":[{"b64":"/w=="}],"cwd":"/")"),
        exec_line(R"("argv":["sh"],"cwd":"/","tty":true,"termios":{"iflag":0,"oflag":0,"cflag":0,"lflag":0,"cc":[]})"),
        exec_line(R"("argv":["true"],"cwd":"/","cwd":"/tmp")"),
        exec_line(R"("argv":["true"],"cwd":"/","bogus":1)"),
        exec_line(R"("argv":["true"],"cwd":"/","umask":512)"),
        exec_line(R"("argv":["true"],"cwd":"/","umask":018)"),
        exec_line(R"("argv":["true"],"cwd":"/","umask":1e1)"),
        exec_line(R"("argv":["true"],"cwd":"/","umask":18.0)"),
        exec_line(R"("argv":["true"],"cwd":"/","fds":[-1])"),
        exec_line(R"("argv":["true"],"cwd":"/","tty":null)"),
        exec_line(R"("argv":["true"],"cwd":"/","tty":tru)"),
        exec_line(R"("argv":["true",],"cwd":"/")"),
        exec_line(R"("argv":["true"],"cwd":"/","winsize":[1,2,3],"tty":true)"),
        exec_line(R"("argv":["true"],"cwd":"/")") + "x",
        exec_line("\"argv\":[\"\xc3\"],\"cwd\":\"/\""),
        exec_line("\"argv\":[\"a\tb\"],\"cwd\":\"/\""),
        exec_line(R"("argv":["true"],"cwd":"/")").substr(0, 30),
        "\xef\xbb\xbf" + exec_line(R"("argv":["true"],"cwd":"/")"),
        R"({"pfd":2,"op":"exec","argv":["true"],"cwd":"/"})",
        R"({"pfd":1.0,"op":"exec","argv":["true"],"cwd":"/"})",
        R"({"op":"exec","argv":["true"],"cwd":"/"})",
        R"({"pfd":1,"argv":["true"],"cwd":"/"})",
        R"({"pfd":1,"op":"ping"})",
        "{}",
        "",
    };
    for (auto& line : taken) {
        INFO("line: " << line);
        CHECK(pfd::read_exec_line(line));
        check_same_as_dom(line);
    }
    for (auto& line : left) {
        INFO("line: " << line);
        CHECK_FALSE(pfd::read_exec_line(line));
        check_same_as_dom(line);
    }
    CHECK(parse_exec(pfd::encode_request(full)) == full);
    CHECK(parse_exec(pfd::encode_request(terminal)) == terminal);
    CHECK(parse_exec(pfd::encode_request(shell)) == shell);
}

TEST_CASE("an exec request with only the required fields gets the defaults", "[protocol]")
{
    // Every field but these at its default: no env, umask 022, no fds, no tty, detach or client.
    pfd::exec_request required;
    required.argv = {"true"};
    required.cwd = "/";
    SECTION("parsed from a hand-written line")
    {
        auto req = parse_exec(R"({"pfd":1,"op":"exec","argv":["true"],"cwd":"/"})");
        CHECK(req == required);
        CHECK(req.umask == 022);
    }
    SECTION("encoded without tty, detach or client and parsed back")
    {
        std::string line = pfd::encode_request(required);
        CHECK(parse_exec(std::string_view(line).substr(0, line.size() - 1)) == required);
    }
    SECTION("boundary values are accepted")
    {
        auto req = parse_exec(exec_line(R"("argv":["x"],"cwd":"/","umask":0,"fds":[])"));
        CHECK(req.umask == 0);
        req = parse_exec(exec_line(R"("argv":["x"],"cwd":"/","umask":511,"fds":[1048576,0])"));
        CHECK(req.umask == 0777);
        CHECK(req.fds == std::vector<int>{1 << 20, 0});
    }
    SECTION("names differing in case are different variables, and '=' may appear in values")
    {
        auto req = parse_exec(exec_line(R"("argv":["x"],"cwd":"/","env":["A=1","a=2","B=x=y","C="])"));
        CHECK(req.env == std::vector<std::string>{"A=1", "a=2", "B=x=y", "C="});
    }
}

TEST_CASE("byte strings travel as JSON strings when UTF-8 and as b64 objects otherwise", "[protocol][bytes]")
{
    SECTION("a Latin-1 value goes out as {\"b64\":...} and comes back byte for byte")
    {
        const std::string latin1 = "\xe9t\xe9";
        pfd::exec_request req;
        req.argv = {"cat", latin1};
        req.env = {"NAME=" + latin1};
        req.cwd = "/" + latin1;
        std::string line = pfd::encode_request(req);
        CHECK(line.find(R"({"b64":"6XTp"})") != std::string::npos);
        CHECK(line.find(R"({"b64":")" + pfd::base64_encode("NAME=" + latin1) + R"("})") != std::string::npos);
        CHECK(line.find(R"({"b64":")" + pfd::base64_encode("/" + latin1) + R"("})") != std::string::npos);
        CHECK(line.find("\xe9") == std::string::npos);

        auto back = parse_exec(std::string_view(line).substr(0, line.size() - 1));
        CHECK(back.argv.at(1) == latin1);
        CHECK(back.env.at(0) == "NAME=" + latin1);
        CHECK(back.cwd == "/" + latin1);
    }
    SECTION("a UTF-8 value stays a JSON string")
    {
        const std::string utf8 = "\xc3\xa9t\xc3\xa9"; // "été"
        pfd::exec_request req;
        req.argv = {"echo", utf8};
        req.env = {"V=" + utf8};
        req.cwd = "/" + utf8;
        std::string line = pfd::encode_request(req);
        CHECK(line.find("b64") == std::string::npos);
        CHECK(line.find("\"" + utf8 + "\"") != std::string::npos);
        CHECK(line.find("\"V=" + utf8 + "\"") != std::string::npos);
        CHECK(line.find("\"/" + utf8 + "\"") != std::string::npos);
        auto back = parse_exec(std::string_view(line).substr(0, line.size() - 1));
        CHECK(back.argv.at(1) == utf8);
        CHECK(back.env.at(0) == "V=" + utf8);
        CHECK(back.cwd == "/" + utf8);
    }
    SECTION("a truncated UTF-8 sequence is not UTF-8 and goes as b64")
    {
        pfd::exec_request req;
        req.argv = {"echo", "ab\xc3"};
        req.cwd = "/";
        std::string line = pfd::encode_request(req);
        CHECK(line.find(R"({"b64":")" + pfd::base64_encode("ab\xc3") + R"("})") != std::string::npos);
        auto back = parse_exec(std::string_view(line).substr(0, line.size() - 1));
        CHECK(back.argv.at(1) == "ab\xc3");
    }
    SECTION("a client in another language may send any value as b64")
    {
        auto req =
            parse_exec(exec_line(R"("argv":[{"b64":"6XTp"},"x"],"env":[{"b64":"QT0x"}],"cwd":{"b64":"L3RtcA=="})"));
        CHECK(req.argv == std::vector<std::string>{"\xe9t\xe9", "x"});
        CHECK(req.env == std::vector<std::string>{"A=1"});
        CHECK(req.cwd == "/tmp");
    }
    SECTION("sibling b64 objects are not duplicate keys")
    {
        auto req = parse_exec(exec_line(R"("argv":[{"b64":"YQ=="},{"b64":"Yg=="}],"cwd":"/")"));
        CHECK(req.argv == std::vector<std::string>{"a", "b"});
    }
}

TEST_CASE("base64 follows RFC 4648", "[protocol][bytes]")
{
    SECTION("test vectors of RFC 4648 §10")
    {
        const std::pair<std::string_view, std::string_view> vectors[] = {
            {"", ""},
            {"f", "Zg=="},
            {"fo", "Zm8="},
            {"foo", "Zm9v"},
            {"foob", "Zm9vYg=="},
            {"fooba", "Zm9vYmE="},
            {"foobar", "Zm9vYmFy"},
        };
        for (auto [plain, encoded] : vectors) {
            INFO("plain: '" << plain << "'");
            CHECK(pfd::base64_encode(plain) == encoded);
            auto decoded = pfd::base64_decode(encoded);
            REQUIRE(decoded);
            CHECK(*decoded == plain);
        }
    }
    SECTION("every byte value survives a round trip")
    {
        std::string all;
        for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
        for (std::size_t len = 0; len <= all.size(); len += 37) {
            auto part = all.substr(all.size() - len);
            auto decoded = pfd::base64_decode(pfd::base64_encode(part));
            REQUIRE(decoded);
            CHECK(*decoded == part);
        }
        CHECK(pfd::base64_encode("\xfb\xff") == "+/8=");
    }
    SECTION("malformed input is refused")
    {
        const std::string_view bad[] = {
            "Zg",             // missing padding
            "Zg=",            // length not a multiple of 4
            "Z===",           // too much padding
            "====",           // padding only
            "=Zg=",           // padding first
            "Zg=a",           // data after padding
            "Zg==Zg==",       // padding in the middle
            "Zm9v!A==",       // character outside the alphabet
            "Zm 9v",          // space
            "Zm9v\n",         // newline
            "-_-_",           // base64url alphabet
            "Zm9v\0\0\0\0"sv, // NULs
        };
        for (auto text : bad) {
            INFO("text: '" << text << "'");
            CHECK_FALSE(pfd::base64_decode(text));
        }
    }
}

TEST_CASE("is_valid_utf8 accepts well-formed UTF-8 only", "[protocol][bytes]")
{
    SECTION("well-formed")
    {
        const std::string_view good[] = {
            "",
            "plain ascii",
            "a\0b"sv,            // NUL is a valid code point (refused later, as a NUL)
            "\xc3\xa9t\xc3\xa9", // été
            "\xc2\x80",          // U+0080, smallest 2-byte
            "\xdf\xbf",          // U+07FF
            "\xe0\xa0\x80",      // U+0800, smallest 3-byte
            "\xe2\x82\xac",      // €
            "\xed\x9f\xbf",      // U+D7FF, just below the surrogates
            "\xee\x80\x80",      // U+E000, just above them
            "\xef\xbf\xbf",      // U+FFFF
            "\xf0\x90\x80\x80",  // U+10000, smallest 4-byte
            "\xf0\x9f\x98\x80",  // 😀
            "\xf4\x8f\xbf\xbf",  // U+10FFFF, the last code point
        };
        for (auto s : good) {
            INFO("bytes: " << pfd::base64_encode(s));
            CHECK(pfd::is_valid_utf8(s));
        }
    }
    SECTION("ill-formed")
    {
        const std::string_view bad[] = {
            "\xe9t\xe9",                // Latin-1
            "\x80",                     // lone continuation byte
            "\xbf",                     // lone continuation byte
            "\xc0\xaf",                 // overlong '/', 2 bytes
            "\xc1\xbf",                 // overlong, 2 bytes
            "\xe0\x80\xaf",             // overlong '/', 3 bytes
            "\xe0\x9f\xbf",             // overlong U+07FF, 3 bytes
            "\xf0\x80\x80\xaf",         // overlong '/', 4 bytes
            "\xf0\x8f\xbf\xbf",         // overlong U+FFFF, 4 bytes
            "\xed\xa0\x80",             // U+D800, high surrogate
            "\xed\xbf\xbf",             // U+DFFF, low surrogate
            "\xed\xa0\xbd\xed\xb8\x80", // CESU-8 surrogate pair
            "\xf4\x90\x80\x80",         // U+110000
            "\xf5\x80\x80\x80",         // lead byte beyond U+10FFFF
            "\xf8\x88\x80\x80\x80",     // 5-byte form
            "\xfe",
            "\xff",
            "\xc3",         // truncated 2-byte
            "\xe2\x82",     // truncated 3-byte
            "\xf0\x9f\x98", // truncated 4-byte
            "\xe2\x82"
            "A",      // continuation replaced by ASCII
            "ok\xc3", // truncated at the very end
            "\xc3(",  // bad continuation
        };
        for (auto s : bad) {
            INFO("bytes: " << pfd::base64_encode(s));
            CHECK_FALSE(pfd::is_valid_utf8(s));
        }
    }
}

TEST_CASE("the other request ops parse", "[protocol]")
{
    SECTION("ops without arguments: a type each, and back to the same line")
    {
        for (auto op : {"ps", "watch", "status", "ping", "stop", "reload", "restart"}) {
            INFO(op);
            std::string line = R"({"pfd":1,"op":")"s + op + R"("})";
            auto req = pfd::parse_request(line);
            CHECK(pfd::op_name(req) == op);
            CHECK(pfd::encode_request(req) == line + "\n");
        }
    }
    SECTION("cancel")
    {
        auto req = pfd::parse_request(R"({"pfd":1,"op":"cancel","id":7})");
        REQUIRE(std::holds_alternative<pfd::cancel_request>(req));
        CHECK(std::get<pfd::cancel_request>(req).id == 7);
    }
    SECTION("stop with a grace: 0 to an hour, back to the same line")
    {
        for (std::string ms : {"0", "200", "3600000"}) {
            std::string line = R"({"pfd":1,"op":"stop","grace_ms":)" + ms + "}";
            auto req = pfd::parse_request(line);
            REQUIRE(std::holds_alternative<pfd::stop_request>(req));
            CHECK(std::get<pfd::stop_request>(req).grace == std::chrono::milliseconds(std::stoll(ms)));
            CHECK(pfd::encode_request(req) == line + "\n");
        }
        for (std::string bad : {"-1", "3600001", "1.5", "\"200\"", "null"}) {
            INFO(bad);
            CHECK(request_outcome(R"({"pfd":1,"op":"stop","grace_ms":)" + bad + "}") == "bad_request");
        }
    }
    SECTION("exec of the login shell: no argv, no program")
    {
        auto req = parse_exec(R"({"pfd":1,"op":"exec","login_shell":true,"cwd":"/"})");
        CHECK(req.login_shell);
        CHECK(req.argv.empty());
        CHECK(pfd::encode_request(req).find(R"("login_shell":true)") != std::string::npos);
        CHECK(pfd::encode_request(req).find("argv") == std::string::npos);
        CHECK(request_outcome(R"({"pfd":1,"op":"exec","login_shell":true,"argv":["sh"],"cwd":"/"})") == "bad_request");
        CHECK(request_outcome(R"({"pfd":1,"op":"exec","login_shell":true,"program":"sh","cwd":"/"})") == "bad_request");
        CHECK(request_outcome(R"({"pfd":1,"op":"exec","login_shell":false,"cwd":"/"})") == "bad_request");
    }
    SECTION("signal with a version parses (the session, not the parser, refuses it as a first line)")
    {
        auto req = pfd::parse_request(R"({"pfd":1,"op":"signal","signal":"TERM"})");
        REQUIRE(std::holds_alternative<pfd::signal_request>(req));
        CHECK(std::get<pfd::signal_request>(req).signo == SIGTERM);
    }
}

TEST_CASE("a signal request survives encode and parse_control", "[protocol][signals]")
{
    for (int signo : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGKILL, SIGRTMIN + 1}) {
        INFO("signo " << signo);
        std::string line = pfd::encode_request(pfd::signal_request{signo});
        REQUIRE(line.ends_with('\n'));
        REQUIRE(line.find('\n') == line.size() - 1);
        CHECK(pfd::parse_control(std::string_view(line).substr(0, line.size() - 1)).signo == signo);
    }
    CHECK(pfd::encode_request(pfd::signal_request{SIGINT}) == "{\"op\":\"signal\",\"signal\":\"INT\"}\n");
}

TEST_CASE("parse_control takes signals by name or number and nothing else", "[protocol][signals]")
{
    SECTION("by name")
    {
        CHECK(pfd::parse_control(R"({"op":"signal","signal":"INT"})").signo == SIGINT);
        CHECK(pfd::parse_control(R"({"op":"signal","signal":"SIGTERM"})").signo == SIGTERM);
        CHECK(pfd::parse_control(R"({"op":"signal","signal":"kill"})").signo == SIGKILL);
        CHECK(pfd::parse_control(R"({"op":"signal","signal":"RTMIN+1"})").signo == SIGRTMIN + 1);
    }
    SECTION("by number")
    {
        CHECK(pfd::parse_control(R"({"op":"signal","signal":2})").signo == 2);
        CHECK(pfd::parse_control(R"({"op":"signal","signal":"15"})").signo == 15);
    }
    SECTION("a version may be given, but must be ours")
    {
        CHECK(pfd::parse_control(R"({"pfd":1,"op":"signal","signal":"HUP"})").signo == SIGHUP);
        CHECK(control_outcome(R"({"pfd":2,"op":"signal","signal":"HUP"})") == "version_mismatch");
    }
    SECTION("refused")
    {
        const std::vector<bad_case> cases = {
            {"bad signal name", R"({"op":"signal","signal":"NOPE"})"},
            {"empty signal name", R"({"op":"signal","signal":""})"},
            {"signal 0", R"({"op":"signal","signal":0})"},
            {"negative signal", R"({"op":"signal","signal":-2})"},
            {"signal beyond NSIG", R"({"op":"signal","signal":65})"},
            {"signal number as a float", R"({"op":"signal","signal":2.5})"},
            {"signal as a bool", R"({"op":"signal","signal":true})"},
            {"missing signal", R"({"op":"signal"})"},
            {"unknown field", R"({"op":"signal","signal":"INT","extra":1})"},
            {"an exec op on the control line", R"({"pfd":1,"op":"exec","argv":["true"],"cwd":"/"})"},
            {"a ping op on the control line", R"({"op":"ping"})"},
            {"missing op", R"({"signal":"INT"})"},
            {"malformed JSON", R"({"op":"signal","signal":"INT")"},
            {"not an object", R"(["signal","INT"])"},
            {"duplicate key", R"({"op":"signal","signal":"INT","signal":"KILL"})"},
        };
        for (auto& c : cases) {
            INFO(c.what << ": " << c.line);
            CHECK(control_outcome(c.line) == "bad_request");
        }
    }
}

TEST_CASE("the version decides before anything else", "[protocol][errors]")
{
    CHECK(request_outcome(R"({"pfd":2,"op":"exec","argv":["true"],"cwd":"/"})") == "version_mismatch");
    CHECK(request_outcome(R"({"pfd":0,"op":"ping"})") == "version_mismatch");
    // A newer client's request may hold ops and fields this version does not know.
    CHECK(request_outcome(R"({"pfd":2,"op":"teleport","warp":9})") == "version_mismatch");
    CHECK(request_outcome(R"({"pfd":"1","op":"ping"})") == "bad_request");
    CHECK(request_outcome(R"({"op":"ping"})") == "bad_request");
}

TEST_CASE("malformed lines are bad_request", "[protocol][errors]")
{
    check_all_bad_request({
        {"empty line", ""},
        {"truncated object", R"({"pfd":1,"op":"ping")"},
        {"garbage", "hello"},
        {"trailing garbage", R"({"pfd":1,"op":"ping"} x)"},
        {"two objects", R"({"pfd":1,"op":"ping"}{"pfd":1,"op":"ping"})"},
        {"single quotes", "{'pfd':1,'op':'ping'}"},
        {"a number beyond a double", R"({"pfd":1,"op":"cancel","id":1e400})"},
        {"non-UTF-8 byte in a string", "{\"pfd\":1,\"op\":\"exec\",\"argv\":[\"\xe9t\xe9\"],\"cwd\":\"/\"}"},
        {"overlong UTF-8 in a string", "{\"pfd\":1,\"op\":\"exec\",\"argv\":[\"\xc0\xaf\"],\"cwd\":\"/\"}"},
        {"non-UTF-8 byte in a key", "{\"pfd\":1,\"op\":\"exec\",\"\xe9\":1}"},
        {"non-UTF-8 byte outside strings", "{\"pfd\":1,\"op\":\"ping\"\xff}"},
        {"lone surrogate escape", R"({"pfd":1,"op":"exec","argv":["\ud800"],"cwd":"/"})"},
        {"not an object: array", R"([{"pfd":1,"op":"ping"}])"},
        {"not an object: string", R"("ping")"},
        {"not an object: number", "1"},
        {"not an object: null", "null"},
        {"missing pfd", R"({"op":"exec","argv":["true"],"cwd":"/"})"},
        {"missing op", R"({"pfd":1})"},
        {"unknown op", R"({"pfd":1,"op":"launch"})"},
        {"op in another case", R"({"pfd":1,"op":"EXEC","argv":["true"],"cwd":"/"})"},
        {"empty op", R"({"pfd":1,"op":""})"},
        {"op not a string", R"({"pfd":1,"op":1})"},
        {"unknown field in exec", exec_line(R"("argv":["true"],"cwd":"/","bogus":1)")},
        {"unknown field in ping", R"({"pfd":1,"op":"ping","bogus":1})"},
        {"unknown field in cancel", R"({"pfd":1,"op":"cancel","id":1,"bogus":1})"},
        {"cancel without id", R"({"pfd":1,"op":"cancel"})"},
        {"cancel with a negative id", R"({"pfd":1,"op":"cancel","id":-1})"},
        {"cancel with a string id", R"({"pfd":1,"op":"cancel","id":"1"})"},
        // Refused by get_int's range, which looks at an unsigned value before it is made signed.
        {"cancel with an id beyond int64", R"({"pfd":1,"op":"cancel","id":18446744073709551615})"},
    });
}

TEST_CASE("exec fields of the wrong type are bad_request", "[protocol][errors]")
{
    check_all_bad_request({
        {"missing argv", exec_line(R"("cwd":"/")")},
        {"argv not an array", exec_line(R"("argv":"true","cwd":"/")")},
        {"argv an object", exec_line(R"("argv":{"0":"true"},"cwd":"/")")},
        {"argv element a number", exec_line(R"("argv":["echo",1],"cwd":"/")")},
        {"argv element null", exec_line(R"("argv":["echo",null],"cwd":"/")")},
        {"argv element an array", exec_line(R"("argv":[["echo"]],"cwd":"/")")},
        {"env not an array", exec_line(R"("argv":["true"],"env":"A=1","cwd":"/")")},
        {"env element a number", exec_line(R"("argv":["true"],"env":[1],"cwd":"/")")},
        {"cwd a number", exec_line(R"("argv":["true"],"cwd":5)")},
        {"cwd an array", exec_line(R"("argv":["true"],"cwd":["/"])")},
        {"umask a string", exec_line(R"("argv":["true"],"cwd":"/","umask":"022")")},
        {"umask a float", exec_line(R"("argv":["true"],"cwd":"/","umask":18.5)")},
        {"umask negative", exec_line(R"("argv":["true"],"cwd":"/","umask":-1)")},
        {"umask above 0777", exec_line(R"("argv":["true"],"cwd":"/","umask":512)")},
        {"umask huge", exec_line(R"("argv":["true"],"cwd":"/","umask":18446744073709551615)")},
        {"fds not an array", exec_line(R"("argv":["true"],"cwd":"/","fds":"0,1,2")")},
        {"fds a number", exec_line(R"("argv":["true"],"cwd":"/","fds":0)")},
        {"fds negative", exec_line(R"("argv":["true"],"cwd":"/","fds":[0,-1])")},
        {"fds element a string", exec_line(R"("argv":["true"],"cwd":"/","fds":["1"])")},
        {"fds element a float", exec_line(R"("argv":["true"],"cwd":"/","fds":[1.5])")},
        {"fds element a bool", exec_line(R"("argv":["true"],"cwd":"/","fds":[true])")},
        {"fds beyond the range", exec_line(R"("argv":["true"],"cwd":"/","fds":[1048577])")},
        {"fds beyond int", exec_line(R"("argv":["true"],"cwd":"/","fds":[4294967296])")},
        {"fds duplicate", exec_line(R"("argv":["true"],"cwd":"/","fds":[0,1,0])")},
        {"tty a string", exec_line(R"("argv":["true"],"cwd":"/","tty":"true")")},
        {"tty a number", exec_line(R"("argv":["true"],"cwd":"/","tty":1)")},
        {"tty null", exec_line(R"("argv":["true"],"cwd":"/","tty":null)")},
        {"detach a number", exec_line(R"("argv":["true"],"cwd":"/","detach":1)")},
        {"detach a string", exec_line(R"("argv":["true"],"cwd":"/","detach":"yes")")},
        {"client a number", exec_line(R"("argv":["true"],"cwd":"/","client":5)")},
        {"client an object", exec_line(R"("argv":["true"],"cwd":"/","client":{"v":"1"})")},
    });
}

TEST_CASE("exec values that break the rules are bad_request", "[protocol][errors]")
{
    check_all_bad_request({
        {"empty argv", exec_line(R"("argv":[],"cwd":"/")")},
        {"empty argv[0]", exec_line(R"("argv":[""],"cwd":"/")")},
        {"empty argv[0] given as b64", exec_line(R"("argv":[{"b64":""}],"cwd":"/")")},
        {"NUL inside argv[0]", exec_line(R"("argv":["tr\u0000ue"],"cwd":"/")")},
        {"a raw NUL after the object, then anything",
         exec_line(R"("argv":["true"],"cwd":"/")") + std::string("\0\xfd x", 4)},
        {"NUL inside a later argv", exec_line(R"("argv":["echo","a\u0000b"],"cwd":"/")")},
        {"NUL inside a b64 argv", exec_line(R"("argv":["echo",{"b64":"YQBi"}],"cwd":"/")")},
        {"NUL inside an env entry", exec_line(R"("argv":["true"],"env":["A=x\u0000y"],"cwd":"/")")},
        {"NUL inside a b64 env entry", exec_line(R"("argv":["true"],"env":[{"b64":"QT0AeQ=="}],"cwd":"/")")},
        {"NUL inside cwd", exec_line(R"("argv":["true"],"cwd":"/tmp\u0000x")")},
        {"NUL inside a b64 cwd", exec_line(R"("argv":["true"],"cwd":{"b64":"L3QAeA=="})")},
        {"env entry without '='", exec_line(R"("argv":["true"],"env":["NOEQUALS"],"cwd":"/")")},
        {"env entry with an empty name", exec_line(R"("argv":["true"],"env":["=value"],"cwd":"/")")},
        {"env entry that is only '='", exec_line(R"("argv":["true"],"env":["="],"cwd":"/")")},
        {"empty env entry", exec_line(R"("argv":["true"],"env":[""],"cwd":"/")")},
        {"duplicate env name", exec_line(R"("argv":["true"],"env":["A=1","B=2","A=3"],"cwd":"/")")},
        {"duplicate env name, one in b64", exec_line(R"("argv":["true"],"env":["A=1",{"b64":"QT0y"}],"cwd":"/")")},
        {"relative cwd", exec_line(R"("argv":["true"],"cwd":"tmp")")},
        {"dot cwd", exec_line(R"("argv":["true"],"cwd":".")")},
        {"empty cwd", exec_line(R"("argv":["true"],"cwd":"")")},
        {"relative cwd given as b64", exec_line(R"("argv":["true"],"cwd":{"b64":"dG1w"})")},
        {"missing cwd", exec_line(R"("argv":["true"])")},
        {"b64 object with an extra key", exec_line(R"("argv":[{"b64":"YQ==","x":1}],"cwd":"/")")},
        {"b64 cwd with an extra key", exec_line(R"("argv":["true"],"cwd":{"b64":"Lw==","enc":"x"})")},
        {"empty object as a value", exec_line(R"("argv":[{}],"cwd":"/")")},
        {"object with another key", exec_line(R"("argv":[{"base64":"YQ=="}],"cwd":"/")")},
        {"b64 not a string", exec_line(R"("argv":[{"b64":1}],"cwd":"/")")},
        {"invalid base64", exec_line(R"("argv":[{"b64":"@@@@"}],"cwd":"/")")},
        {"unpadded base64", exec_line(R"("argv":[{"b64":"YQ"}],"cwd":"/")")},
        {"duplicate top-level key", exec_line(R"("argv":["true"],"cwd":"/","cwd":"/tmp")")},
        {"duplicate pfd key", R"({"pfd":1,"pfd":1,"op":"ping"})"},
        {"duplicate key spelled with an escape", exec_line(R"("argv":["true"],"cwd":"/","c\u0077d":"/")")},
        {"duplicate key inside the b64 object", exec_line(R"("argv":[{"b64":"YQ==","b64":"Yg=="}],"cwd":"/")")},
        {"duplicate key inside a b64 cwd", exec_line(R"("argv":["true"],"cwd":{"b64":"Lw==","b64":"Lw=="})")},
        {"cwd_fd not a bool", exec_line(R"("argv":["true"],"cwd":"/","cwd_fd":1)")},
        {"empty program", exec_line(R"("argv":["true"],"cwd":"/","program":"")")},
        {"empty container", exec_line(R"("argv":["true"],"cwd":"/","container":"")")},
        {"env_forward with a '='", exec_line(R"("argv":["true"],"cwd":"/","env_forward":["A=1"])")},
        {"unset_env with a '='", exec_line(R"("argv":["true"],"cwd":"/","unset_env":["A=1"])")},
        {"clear_env not a bool", exec_line(R"("argv":["true"],"cwd":"/","clear_env":"yes")")},
        {"winsize without tty", exec_line(R"("argv":["true"],"cwd":"/","winsize":[24,80])")},
        {"tty and ctty", exec_line(R"("argv":["true"],"cwd":"/","tty":true,"ctty":true)")},
        {"winsize of one number", exec_line(R"("argv":["true"],"cwd":"/","tty":true,"winsize":[24])")},
        {"winsize too large", exec_line(R"("argv":["true"],"cwd":"/","tty":true,"winsize":[70000,80])")},
        {"termios lacking lflag",
         exec_line(R"("argv":["true"],"cwd":"/","tty":true,"termios":{"iflag":0,"oflag":0,"cflag":0,"cc":[]})")},
        {"termios with a cc above 255",
         exec_line(
             R"("argv":["true"],"cwd":"/","tty":true,"termios":{"iflag":0,"oflag":0,"cflag":0,"lflag":0,"cc":[256]})")},
        {"descriptor 0 with tty", exec_line(R"("argv":["true"],"cwd":"/","tty":true,"fds":[0])")},
    });
}

TEST_CASE("events survive encode and parse", "[protocol][events]")
{
    SECTION("stopping, with and without what newer daemons add")
    {
        pfd::stopping_event in{42, 2, 200};
        CHECK(pfd::encode_event(in) == "{\"event\":\"stopping\",\"pid\":42,\"running\":2,\"grace_ms\":200}\n");
        auto ev = round_trip_event<pfd::stopping_event>(in);
        CHECK(ev.pid == 42);
        CHECK(ev.running == 2u);
        CHECK(ev.grace_ms == 200u);
        auto old = std::get<pfd::stopping_event>(pfd::parse_event(R"({"event":"stopping","pid":7})"));
        CHECK(old.pid == 7);
        CHECK_FALSE(old.running);
        CHECK_FALSE(old.grace_ms);
    }
    SECTION("stop steps")
    {
        CHECK(pfd::encode_event(pfd::stop_step_event{pfd::stop_step::term, 2}) ==
              "{\"event\":\"stop_step\",\"step\":\"term\",\"commands\":2}\n");
        CHECK(pfd::encode_event(pfd::stop_step_event{pfd::stop_step::ended, 0}) ==
              "{\"event\":\"stop_step\",\"step\":\"ended\"}\n");
        auto kill = round_trip_event<pfd::stop_step_event>(pfd::stop_step_event{pfd::stop_step::kill, 1});
        CHECK(kill.step == pfd::stop_step::kill);
        CHECK(kill.commands == 1);
        // A step a newer daemon adds is nothing to act on.
        CHECK(std::holds_alternative<pfd::other_event>(pfd::parse_event(R"({"event":"stop_step","step":"later"})")));
    }
    SECTION("session, with byte-string argv")
    {
        pfd::session_event in{9, 1000, 4242, {"make", "caf\xe9"}, "podman"};
        CHECK(pfd::encode_event(in) == "{\"event\":\"session\",\"id\":9,\"peer_uid\":1000,\"peer_pid\":4242,"
                                       "\"argv\":[\"make\",{\"b64\":\"Y2Fm6Q==\"}],\"origin\":\"podman\"}\n");
        auto ev = round_trip_event<pfd::session_event>(in);
        CHECK(ev.id == 9);
        CHECK(ev.peer_uid == 1000u);
        CHECK(ev.peer_pid == 4242);
        CHECK(ev.argv == in.argv);
        CHECK(ev.origin == "podman");
        CHECK_FALSE(ev.truncated);
    }
    SECTION("session and ps entries of a cut argv say so, and only then")
    {
        pfd::session_event in{9, 1000, 4242, {"echo", "xx\u2026"}, "host", true};
        CHECK(pfd::encode_event(in) == "{\"event\":\"session\",\"id\":9,\"peer_uid\":1000,\"peer_pid\":4242,"
                                       "\"argv\":[\"echo\",\"xx\u2026\"],\"truncated\":true,\"origin\":\"host\"}\n");
        CHECK(round_trip_event<pfd::session_event>(in).truncated);
        pfd::ps_event ps{
            {{7, 123, 1000, 99, {"make"}, 5120, "host", false}, {8, 124, 1000, 99, {"a\u2026"}, 1, "host", true}}};
        CHECK(pfd::encode_event(ps) == "{\"event\":\"ps\",\"sessions\":[{\"id\":7,\"pid\":123,\"peer_uid\":1000,\"peer_"
                                       "pid\":99,\"argv\":[\"make\"],"
                                       "\"age_ms\":5120,\"origin\":\"host\"},{\"id\":8,\"pid\":124,\"peer_uid\":1000,"
                                       "\"peer_pid\":99,\"argv\":[\"a\u2026\"],"
                                       "\"truncated\":true,\"age_ms\":1,\"origin\":\"host\"}]}\n");
        auto back = round_trip_event<pfd::ps_event>(ps);
        REQUIRE(back.sessions.size() == 2);
        CHECK_FALSE(back.sessions[0].truncated);
        CHECK(back.sessions[1].truncated);
    }
    SECTION("accepted")
    {
        auto line = pfd::encode_event(pfd::accepted_event{42});
        CHECK(line == "{\"event\":\"accepted\",\"id\":42}\n");
        CHECK(round_trip_event<pfd::accepted_event>(pfd::accepted_event{42}).id == 42);
    }
    SECTION("started")
    {
        auto line = pfd::encode_event(pfd::started_event{7, 12345});
        CHECK(line == "{\"event\":\"started\",\"id\":7,\"pid\":12345}\n");
        auto ev = round_trip_event<pfd::started_event>(pfd::started_event{7, 12345});
        CHECK(ev.id == 7);
        CHECK(ev.pid == 12345);
    }
    SECTION("exited with a code")
    {
        pfd::exited_event in;
        in.id = 3;
        in.code = 42;
        in.duration_ms = 17;
        CHECK(pfd::encode_event(in) == "{\"event\":\"exited\",\"id\":3,\"code\":42,\"duration_ms\":17}\n");
        auto ev = round_trip_event<pfd::exited_event>(in);
        CHECK(ev.id == 3);
        REQUIRE(ev.code);
        CHECK(*ev.code == 42);
        CHECK(ev.signo == 0);
        CHECK_FALSE(ev.core);
        CHECK(ev.duration_ms == 17);
        CHECK(pfd::shell_status(ev) == 42);
    }
    SECTION("exited with code 0 keeps the code")
    {
        pfd::exited_event in;
        in.id = 1;
        in.code = 0;
        auto ev = round_trip_event<pfd::exited_event>(in);
        REQUIRE(ev.code);
        CHECK(*ev.code == 0);
        CHECK(pfd::shell_status(ev) == 0);
    }
    SECTION("exited of a signal, no core")
    {
        pfd::exited_event in;
        in.id = 4;
        in.signo = SIGKILL;
        in.duration_ms = 5;
        CHECK(pfd::encode_event(in) ==
              "{\"event\":\"exited\",\"id\":4,\"signal\":\"KILL\",\"signo\":9,\"core\":false,\"duration_ms\":5}\n");
        auto ev = round_trip_event<pfd::exited_event>(in);
        CHECK(ev.id == 4);
        CHECK_FALSE(ev.code);
        CHECK(ev.signo == SIGKILL);
        CHECK_FALSE(ev.core);
        CHECK(ev.duration_ms == 5);
        CHECK(pfd::shell_status(ev) == 128 + 9);
    }
    SECTION("exited of a signal with a core dump and a long duration")
    {
        pfd::exited_event in;
        in.id = 18446744073709551615ull;
        in.signo = SIGSEGV;
        in.core = true;
        in.duration_ms = 1ull << 40;
        auto ev = round_trip_event<pfd::exited_event>(in);
        CHECK(ev.id == in.id);
        CHECK_FALSE(ev.code);
        CHECK(ev.signo == SIGSEGV);
        CHECK(ev.core);
        CHECK(ev.duration_ms == in.duration_ms);
    }
    SECTION("error, for every code")
    {
        for (auto code :
             {pfd::errc::bad_request, pfd::errc::too_large, pfd::errc::fd_mismatch, pfd::errc::denied, pfd::errc::busy,
              pfd::errc::limit, pfd::errc::not_found, pfd::errc::not_executable, pfd::errc::bad_cwd,
              pfd::errc::spawn_failed, pfd::errc::version_mismatch, pfd::errc::shutting_down}) {
            INFO(pfd::to_string(code));
            pfd::error_event in{code, "'nope': command not found \xc3\xa9"};
            auto line = pfd::encode_event(in);
            CHECK(line.starts_with(R"({"event":"error","code":")" + std::string(pfd::to_string(code)) + "\""));
            auto ev = round_trip_event<pfd::error_event>(in);
            CHECK(ev.code == code);
            CHECK(ev.message == in.message);
        }
    }
    SECTION("an error message quoting invalid bytes still encodes as valid UTF-8")
    {
        pfd::error_event in{pfd::errc::not_found, "'\xe9t\xe9': command not found"};
        std::string line;
        REQUIRE_NOTHROW(line = pfd::encode_event(in));
        CHECK(pfd::is_valid_utf8(line));
        auto ev = round_trip_event<pfd::error_event>(in);
        CHECK(ev.code == pfd::errc::not_found);
    }
}

TEST_CASE("parse_event is lenient with newer daemons and strict with non-events", "[protocol][events]")
{
    SECTION("unknown fields are ignored")
    {
        auto ev = pfd::parse_event(R"({"event":"accepted","id":5,"queue":3})");
        REQUIRE(std::holds_alternative<pfd::accepted_event>(ev));
        CHECK(std::get<pfd::accepted_event>(ev).id == 5);
    }
    SECTION("unknown events are kept by name")
    {
        auto ev = pfd::parse_event(R"({"event":"resized","id":5})");
        REQUIRE(std::holds_alternative<pfd::other_event>(ev));
        CHECK(std::get<pfd::other_event>(ev).name == "resized");
    }
    SECTION("an unknown error code is still an error")
    {
        auto ev = pfd::parse_event(R"({"event":"error","code":"brand_new","message":"m"})");
        REQUIRE(std::holds_alternative<pfd::error_event>(ev));
        CHECK(std::get<pfd::error_event>(ev).message == "m");
    }
    SECTION("non-events are refused")
    {
        for (std::string_view line :
             {""sv, "{"sv, "[]"sv, "{}"sv, R"({"event":1})"sv, R"({"id":1})"sv, R"({"event":"accepted"})"sv,
              R"({"event":"started","id":1})"sv, R"({"event":"exited","id":1})"sv, R"({"event":"accepted","id":"x"})"sv,
              R"({"event":"exited","id":1,"code":0,"duration_ms":1e400})"sv}) {
            INFO(line);
            try {
                pfd::parse_event(line);
                FAIL("accepted");
            } catch (const pfd::protocol_error& e) {
                CHECK(e.code() == pfd::errc::bad_request);
            }
        }
    }
}

TEST_CASE("signal names round trip", "[signals]")
{
    SECTION("every standard signal, by the C library's name for it, SIG name, lower case and number")
    {
        int named = 0;
        for (int signo = 1; signo < SIGRTMIN; ++signo) {
            const char* abbrev = sigabbrev_np(signo);
            if (!abbrev) continue; // glibc's own, below SIGRTMIN
            // glibc has SIGIO by its other name.
            std::string name = signo == SIGIO ? "IO" : abbrev;
            INFO(name);
            ++named;
            CHECK(pfd::signal_name(signo) == name);
            CHECK(pfd::signal_from_name(pfd::signal_name(signo)) == signo);
            CHECK(pfd::signal_from_name("SIG" + name) == signo);
            std::string lower;
            for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            CHECK(pfd::signal_from_name(lower) == signo);
            CHECK(pfd::signal_from_name(std::to_string(signo)) == signo);
        }
        CHECK(named == 31);
    }
    SECTION("every number from 1 to SIGRTMAX maps back to itself through its name")
    {
        for (int signo = 1; signo <= SIGRTMAX; ++signo) {
            INFO("signo " << signo << " named " << pfd::signal_name(signo));
            CHECK(pfd::signal_from_name(pfd::signal_name(signo)) == signo);
        }
    }
    SECTION("realtime signals")
    {
        CHECK(pfd::signal_from_name("RTMIN") == SIGRTMIN);
        CHECK(pfd::signal_from_name("RTMIN+1") == SIGRTMIN + 1);
        CHECK(pfd::signal_from_name("SIGRTMIN+1") == SIGRTMIN + 1);
        CHECK(pfd::signal_from_name("rtmin+1") == SIGRTMIN + 1);
        CHECK(pfd::signal_from_name("RTMAX") == SIGRTMAX);
        CHECK(pfd::signal_from_name("RTMAX-1") == SIGRTMAX - 1);
        CHECK(pfd::signal_from_name(pfd::signal_name(SIGRTMIN + 1)) == SIGRTMIN + 1);
        CHECK(pfd::signal_from_name("RTMIN+" + std::to_string(SIGRTMAX - SIGRTMIN)) == SIGRTMAX);
        CHECK_FALSE(pfd::signal_from_name("RTMIN+" + std::to_string(SIGRTMAX - SIGRTMIN + 1)));
        CHECK_FALSE(pfd::signal_from_name("RTMAX-" + std::to_string(SIGRTMAX - SIGRTMIN + 1)));
        CHECK_FALSE(pfd::signal_from_name("RTMIN+-1"));
        CHECK_FALSE(pfd::signal_from_name("RTMAX+1"));
    }
    SECTION("things that are not signals")
    {
        for (std::string_view name :
             {""sv, "NOPE"sv, "SIG"sv, "SIGINTX"sv, " INT"sv, "INT "sv, "0"sv, "-1"sv, "65"sv, "2x"sv, "RTMINUS"sv}) {
            INFO("'" << name << "'");
            CHECK_FALSE(pfd::signal_from_name(name));
        }
    }
}
