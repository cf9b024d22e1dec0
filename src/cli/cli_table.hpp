#pragma once
// A command line of verbs, each with its options and arguments, described
// once as a table (pfd_cli.cpp holds pfd's) from which come the parser, the
// program's --help and every verb's --help, so that none of them can say
// something the others do not. git, systemctl and podman conventions:
// options checked per verb, "--name VALUE" or "--name=VALUE", options and
// arguments in any order, "--" ends options, usage errors one line plus
// "Try '... --help'", "did you mean" for a misspelled verb or option.

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pfd {

struct cli_option {
    int id;                 ///< the program's own number for it
    std::string_view name;  ///< "--socket"
    char short_name;        ///< 'h', or 0 for none
    std::string_view value; ///< what it takes, "PATH"; empty: it takes none
    std::string_view help;
};

struct cli_verb {
    std::string_view name;
    std::string_view args; ///< synopsis of the arguments, "ID" or "[DIR]"; empty: none
    unsigned min_args = 0, max_args = 0;
    std::string_view summary;  ///< one line, for the program's --help
    std::string_view about;    ///< more, for the verb's --help (may be empty)
    std::uint32_t options = 0; ///< bit i set: takes the option whose id is i
};

/// Options every verb takes besides its own, and every program: the table's
/// ids for them.
inline constexpr int cli_help = 30, cli_version = 31;

struct cli_program {
    std::string_view name;  ///< "pfd"
    std::string_view about; ///< what it is, for its --help
    std::span<const cli_verb> verbs;
    std::span<const cli_option> options; ///< every verb's, help and version included
};

/// A usage error: printed as "NAME: MESSAGE" and "Try 'NAME [VERB] --help'
/// for more information.", exit status 2.
struct cli_usage_error {
    std::string message;
    std::string verb; ///< the verb whose --help to suggest; empty: the program's
};

/// What one command line says.
struct cli_parsed {
    const cli_verb* verb = nullptr; ///< null: only --help or --version given, or `help`
    bool help = false, version = false;
    std::vector<std::pair<int, std::string>> options; ///< id and value ("" for a flag), in order
    std::vector<std::string> args;

    bool has(int id) const;
    /// The last value given for `id`, if any.
    const std::string* value(int id) const;
};

/// Parses argv[1...] (argv[0] is the program). `help VERB` is read as
/// `VERB --help`. Throws cli_usage_error.
cli_parsed parse_command_line(const cli_program& program, int argc, char** argv);

/// The program's --help (verb == nullptr) or a verb's.
void print_help(const cli_program& program, const cli_verb* verb, std::FILE* to);

/// Prints a usage error as described above and returns 2.
int report_usage_error(const cli_program& program, const cli_usage_error& e);

} // namespace pfd
