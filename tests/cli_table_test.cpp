// cli_table alone, on a small table of its own: verbs and options looked
// up, values in both spellings, the usage errors with their "did you mean",
// `help VERB`, and the --help text made from the table.
#include "cli_table.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <array>
#include <cstdio>
#include <string>
#include <vector>

using namespace pfd;

namespace {

enum { opt_socket, opt_json, opt_force };

constexpr std::array<cli_option, 5> options = {{
    {opt_socket, "--socket", 0, "PATH", "The daemon's socket"},
    {opt_json, "--json", 0, "", "Print JSON"},
    {opt_force, "--force", 'f', "", "Do not ask"},
    {cli_help, "--help", 'h', "", "Print the usage"},
    {cli_version, "--version", 'V', "", "Print the version"},
}};

constexpr std::uint32_t bit(int id)
{
    return 1u << id;
}

constexpr std::array<cli_verb, 5> verbs = {{
    {"status", "", 0, 0, "show the daemon's state", "", bit(opt_socket) | bit(opt_json)},
    {"stop", "", 0, 0, "stop the daemon", "Running commands get a grace period.", bit(opt_socket) | bit(opt_force)},
    {"cancel", "ID", 1, 1, "end a command", "", bit(opt_socket)},
    {"start", "[DIR]", 0, 1, "start the daemon", "", bit(opt_socket)},
    {"help", "[VERB]", 0, 1, "print the usage of a verb", "", 0},
}};

const cli_program program{"prog", "A program to test the table with.", verbs, options};

cli_parsed parse(std::vector<std::string> args)
{
    args.insert(args.begin(), "prog");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    return parse_command_line(program, static_cast<int>(args.size()), argv.data());
}

/// The usage error `args` makes (none: an empty message and verb "-").
cli_usage_error usage_error(std::vector<std::string> args)
{
    try {
        parse(std::move(args));
    } catch (const cli_usage_error& e) {
        return e;
    }
    return {"", "-"};
}

/// What print_help writes.
std::string help_of(const cli_verb* verb)
{
    std::FILE* f = std::tmpfile();
    REQUIRE(f);
    print_help(program, verb, f);
    std::string text(static_cast<std::size_t>(std::ftell(f)), '\0');
    std::rewind(f);
    REQUIRE(std::fread(text.data(), 1, text.size(), f) == text.size());
    std::fclose(f);
    return text;
}

} // namespace

TEST_CASE("cli_table: verbs, options and values looked up", "[cli_table]")
{
    SECTION("a verb by its name")
    {
        for (auto& v : verbs) {
            if (v.name == "help" || v.name == "cancel") continue;
            auto p = parse({std::string(v.name)});
            REQUIRE(p.verb);
            CHECK(p.verb->name == v.name);
            CHECK_FALSE(p.help);
            CHECK_FALSE(p.version);
        }
    }
    SECTION("options in order, each spelling, the last value winning")
    {
        auto p = parse({"status", "--json", "--socket", "/a", "--socket=/b"});
        CHECK(p.has(opt_json));
        CHECK(p.has(opt_socket));
        CHECK_FALSE(p.has(opt_force));
        REQUIRE(p.value(opt_socket));
        CHECK(*p.value(opt_socket) == "/b");
        REQUIRE(p.value(opt_json));
        CHECK(p.value(opt_json)->empty());
        CHECK(p.value(opt_force) == nullptr);
        REQUIRE(p.options.size() == 3);
        CHECK(p.options[0] == std::pair<int, std::string>{opt_json, ""});
        CHECK(p.options[1] == std::pair<int, std::string>{opt_socket, "/a"});
        CHECK(p.options[2] == std::pair<int, std::string>{opt_socket, "/b"});
    }
    SECTION("a value that starts with '-' or holds '='")
    {
        CHECK(*parse({"status", "--socket", "-x"}).value(opt_socket) == "-x");
        CHECK(*parse({"status", "--socket=a=b"}).value(opt_socket) == "a=b");
        CHECK(parse({"status", "--socket="}).value(opt_socket)->empty());
    }
    SECTION("a short option")
    {
        CHECK(parse({"stop", "-f"}).has(opt_force));
    }
    SECTION("arguments and options in any order; '--' ends options; '-' is an argument")
    {
        auto p = parse({"start", "--socket", "/s", "dir"});
        CHECK(p.args == std::vector<std::string>{"dir"});
        p = parse({"start", "dir", "--socket", "/s"});
        CHECK(p.args == std::vector<std::string>{"dir"});
        CHECK(*p.value(opt_socket) == "/s");
        CHECK(parse({"cancel", "--", "-5"}).args == std::vector<std::string>{"-5"});
        CHECK(parse({"start", "-"}).args == std::vector<std::string>{"-"});
        CHECK(parse({"start"}).args.empty()); // [DIR]: optional
    }
    SECTION("--help and --version, alone or after a verb")
    {
        for (const char* flag : {"--help", "-h"}) {
            auto p = parse({flag});
            CHECK(p.help);
            CHECK(p.verb == nullptr);
        }
        for (const char* flag : {"--version", "-V"}) {
            auto p = parse({flag});
            CHECK(p.version);
            CHECK(p.verb == nullptr);
        }
        auto p = parse({"stop", "--help"});
        CHECK(p.help);
        REQUIRE(p.verb);
        CHECK(p.verb->name == "stop");
        // Whatever follows, --help only prints.
        CHECK(parse({"cancel", "--help", "--no-such", "1", "2"}).help);
        CHECK(parse({"status", "--version"}).version);
    }
    SECTION("help VERB is VERB --help; help alone is the program's")
    {
        auto p = parse({"help", "stop"});
        CHECK(p.help);
        REQUIRE(p.verb);
        CHECK(p.verb->name == "stop");
        p = parse({"help"});
        CHECK(p.help);
        CHECK(p.verb == nullptr);
        p = parse({"help", "--help"});
        CHECK(p.help);
    }
}

TEST_CASE("cli_table: usage errors, with did-you-mean", "[cli_table]")
{
    struct error_case {
        std::vector<std::string> args;
        std::string message;
        std::string verb; ///< whose --help is suggested
    };
    const std::vector<error_case> cases = {
        {{}, "no verb given", ""},
        {{"stauts"}, "unknown verb 'stauts'; did you mean 'status'?", ""},
        {{"stpo"}, "unknown verb 'stpo'; did you mean 'stop'?", ""},
        {{"xyzzy"}, "unknown verb 'xyzzy'", ""},
        {{"help", "cancle"}, "unknown verb 'cancle'; did you mean 'cancel'?", ""},
        {{"help", "stop", "now"}, "unexpected argument 'now' for 'help'", "help"},
        {{"help", "--", "stop"}, "unexpected argument 'stop' for 'help'", "help"},
        {{"--version", "extra"}, "unexpected argument 'extra' after '--version'", ""},
        {{"--sockt"}, "unknown option '--sockt'; did you mean '--socket'?", ""},
        {{"--socket"}, "'--socket' goes after a verb: prog VERB --socket", ""},
        {{"--socket=/s"}, "'--socket' goes after a verb: prog VERB --socket", ""},
        {{"status", "--jsno"}, "unknown option '--jsno' for 'status'; did you mean '--json'?", "status"},
        {{"status", "--frobnicate"}, "unknown option '--frobnicate' for 'status'", "status"},
        // Only the verb's own options are suggested.
        {{"status", "--forc"}, "unknown option '--forc' for 'status'", "status"},
        {{"status", "--force"}, "'prog status' takes no option '--force'", "status"},
        {{"status", "-f"}, "'prog status' takes no option '-f'", "status"},
        {{"status", "--json=yes"}, "option '--json' takes no value", "status"},
        {{"status", "--socket"}, "option '--socket' needs a value (PATH)", "status"},
        {{"status", "now"}, "unexpected argument 'now' for 'status'", "status"},
        {{"cancel"}, "missing argument: prog cancel ID", "cancel"},
        {{"cancel", "1", "2"}, "unexpected argument '2' for 'cancel'", "cancel"},
        {{"start", "a", "b"}, "unexpected argument 'b' for 'start'", "start"},
    };
    for (auto& c : cases) {
        std::string line;
        for (auto& a : c.args) line += " " + a;
        INFO("prog" << line);
        auto e = usage_error(c.args);
        CHECK(e.message == c.message);
        CHECK(e.verb == c.verb);
    }
}

TEST_CASE("cli_table: --help made from the table", "[cli_table]")
{
    SECTION("the program's: every verb with its summary, and the options of every verb")
    {
        auto text = help_of(nullptr);
        CHECK(text.starts_with("Usage: prog VERB [OPTIONS] [ARGS]\nA program to test the table with.\n\nVerbs:\n"));
        CHECK(text.find("  status       show the daemon's state\n") != std::string::npos);
        CHECK(text.find("  cancel ID    end a command\n") != std::string::npos);
        CHECK(text.find("  help [VERB]  print the usage of a verb\n") != std::string::npos);
        CHECK(text.find("  -h, --help     Print the usage\n") != std::string::npos);
        CHECK(text.find("  -V, --version  Print the version\n") != std::string::npos);
        CHECK(text.find("--socket") == std::string::npos); // a verb's, not every verb's
        CHECK(text.ends_with("'prog VERB --help' (or 'prog help VERB') lists a verb's options.\n"));
    }
    SECTION("a verb's: its usage, its summary as a sentence, its own options only")
    {
        auto text = help_of(&verbs[1]);
        CHECK(text.starts_with("Usage: prog stop [OPTIONS]\nStop the daemon.\n\nRunning commands get a grace "
                               "period.\n\nOptions:\n"));
        CHECK(text.find("      --socket PATH  The daemon's socket\n") != std::string::npos);
        CHECK(text.find("  -f, --force        Do not ask\n") != std::string::npos);
        CHECK(text.find("--help") != std::string::npos);
        CHECK(text.find("--json") == std::string::npos);
        auto cancel = help_of(&verbs[2]);
        CHECK(cancel.starts_with("Usage: prog cancel [OPTIONS] ID\nEnd a command.\n\nOptions:\n"));
        CHECK(cancel.find("--force") == std::string::npos);
    }
}

TEST_CASE("cli_table: a usage error is reported in two lines, exit status 2", "[cli_table]")
{
    std::FILE* f = std::tmpfile();
    REQUIRE(f);
    std::fflush(stderr);
    int saved = ::dup(STDERR_FILENO);
    REQUIRE(saved >= 0);
    ::dup2(::fileno(f), STDERR_FILENO);
    int status = report_usage_error(program, {"unknown verb 'x'", ""});
    int verb_status = report_usage_error(program, {"option '--socket' needs a value (PATH)", "status"});
    std::fflush(stderr);
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
    std::string text(static_cast<std::size_t>(::lseek(::fileno(f), 0, SEEK_END)), '\0');
    ::pread(::fileno(f), text.data(), text.size(), 0);
    std::fclose(f);
    CHECK(status == 2);
    CHECK(verb_status == 2);
    CHECK(text == "prog: unknown verb 'x'\nTry 'prog --help' for more information.\n"
                  "prog: option '--socket' needs a value (PATH)\nTry 'prog status --help' for more information.\n");
}
