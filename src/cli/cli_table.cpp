#include "cli_table.hpp"

#include "did_you_mean.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace pfd {

namespace {

bool takes(const cli_verb& verb, const cli_option& o)
{
    return o.id == cli_help || o.id == cli_version || (verb.options >> o.id & 1u);
}

const cli_verb* find_verb(const cli_program& program, std::string_view name)
{
    for (auto& v : program.verbs)
        if (v.name == name) return &v;
    return nullptr;
}

cli_usage_error unknown_verb(const cli_program& program, std::string_view name)
{
    closest_word close(name);
    for (auto& v : program.verbs) close.consider(v.name);
    std::string message = fmt::format("unknown verb '{}'", name);
    if (!close.best().empty()) message += fmt::format("; did you mean '{}'?", close.best());
    return {message, {}};
}

/// "--name=value" split at '=' (no value: empty view and `has_value` false).
struct spelled_option {
    std::string_view name, value;
    bool has_value = false;
};

spelled_option split(std::string_view a)
{
    if (!a.starts_with("--")) return {a, {}, false};
    auto eq = a.find('=');
    if (eq == std::string_view::npos) return {a, {}, false};
    return {a.substr(0, eq), a.substr(eq + 1), true};
}

const cli_option* find_option(const cli_program& program, std::string_view name)
{
    for (auto& o : program.options)
        if (o.name == name || (o.short_name && name.size() == 2 && name[0] == '-' && name[1] == o.short_name))
            return &o;
    return nullptr;
}

cli_usage_error unknown_option(const cli_program& program, const cli_verb* verb, std::string_view name)
{
    std::string verb_name(verb ? verb->name : "");
    const cli_option* known = find_option(program, name);
    if (known && verb) return {fmt::format("'{} {}' takes no option '{}'", program.name, verb->name, name), verb_name};
    if (known) // an option of a verb, before any verb
        return {fmt::format("'{}' goes after a verb: {} VERB {}", name, program.name, name), {}};
    closest_word close(name);
    for (auto& o : program.options)
        if (!verb || takes(*verb, o)) close.consider(o.name);
    std::string message =
        verb ? fmt::format("unknown option '{}' for '{}'", name, verb->name) : fmt::format("unknown option '{}'", name);
    if (!close.best().empty()) message += fmt::format("; did you mean '{}'?", close.best());
    return {message, verb_name};
}

/// "  -h, --help VALUE" as the option's left column.
std::string option_column(const cli_option& o)
{
    std::string left = o.short_name ? fmt::format("  -{}, {}", o.short_name, o.name) : fmt::format("      {}", o.name);
    if (!o.value.empty()) left += fmt::format(" {}", o.value);
    return left;
}

/// Rows of two columns; the second's extra lines ('\n' in it) aligned.
void print_rows(std::FILE* to, const std::vector<std::pair<std::string, std::string_view>>& rows)
{
    std::size_t width = 0;
    for (auto& [left, right] : rows) width = std::max(width, left.size());
    for (auto& [left, right] : rows) {
        std::string_view text = right;
        fmt::print(to, "{:<{}}  ", left, width);
        for (bool first = true;; first = false) {
            auto nl = text.find('\n');
            fmt::print(to, "{:<{}}{}\n", "", first ? 0 : width + 2, text.substr(0, nl));
            if (nl == std::string_view::npos) break;
            text.remove_prefix(nl + 1);
        }
    }
}

} // namespace

bool cli_parsed::has(int id) const
{
    return std::any_of(options.begin(), options.end(), [&](auto& o) { return o.first == id; });
}

const std::string* cli_parsed::value(int id) const
{
    for (auto it = options.rbegin(); it != options.rend(); ++it)
        if (it->first == id) return &it->second;
    return nullptr;
}

cli_parsed parse_command_line(const cli_program& program, int argc, char** argv)
{
    cli_parsed p;
    if (argc < 2) throw cli_usage_error{"no verb given", {}};
    std::string_view first = argv[1];
    if (first.starts_with("-")) {
        const cli_option* o = find_option(program, first);
        if (o && o->id == cli_version)
            p.version = true;
        else if (o && o->id == cli_help)
            p.help = true;
        else
            throw unknown_option(program, nullptr, split(first).name);
        if (argc > 2) throw cli_usage_error{fmt::format("unexpected argument '{}' after '{}'", argv[2], first), {}};
        return p;
    }
    p.verb = find_verb(program, first);
    if (!p.verb) throw unknown_verb(program, first);
    if (first == "help" && argc > 2 && std::string_view(argv[2]) != "--" && argv[2][0] != '-') {
        // `help VERB` is `VERB --help`.
        p.verb = find_verb(program, argv[2]);
        if (!p.verb) throw unknown_verb(program, argv[2]);
        if (argc > 3) throw cli_usage_error{fmt::format("unexpected argument '{}' for 'help'", argv[3]), "help"};
        p.help = true;
        return p;
    }
    std::string verb_name(p.verb->name);
    bool only_args = false;
    for (int i = 2; i < argc; ++i) {
        std::string_view a = argv[i];
        if (only_args || a.size() < 2 || a[0] != '-') {
            p.args.emplace_back(a);
            continue;
        }
        if (a == "--") {
            only_args = true;
            continue;
        }
        auto [name, inline_value, has_value] = split(a);
        const cli_option* o = find_option(program, name);
        if (!o || !takes(*p.verb, *o)) throw unknown_option(program, p.verb, name);
        // Whatever else is on the line, --help and --version only print.
        if (o->id == cli_help || o->id == cli_version) {
            (o->id == cli_help ? p.help : p.version) = true;
            return p;
        }
        if (o->value.empty()) {
            if (has_value) throw cli_usage_error{fmt::format("option '{}' takes no value", name), verb_name};
            p.options.emplace_back(o->id, std::string());
            continue;
        }
        if (!has_value && i + 1 >= argc)
            throw cli_usage_error{fmt::format("option '{}' needs a value ({})", name, o->value), verb_name};
        p.options.emplace_back(o->id, has_value ? std::string(inline_value) : std::string(argv[++i]));
    }
    if (p.verb->name == "help") {
        // Only `help --VERB-OPTION` and `help -- x` get here.
        if (!p.args.empty())
            throw cli_usage_error{fmt::format("unexpected argument '{}' for 'help'", p.args[0]), "help"};
        p.verb = nullptr;
        p.help = true;
        return p;
    }
    if (p.args.size() > p.verb->max_args)
        throw cli_usage_error{fmt::format("unexpected argument '{}' for '{}'", p.args[p.verb->max_args], verb_name),
                              verb_name};
    if (p.args.size() < p.verb->min_args)
        throw cli_usage_error{fmt::format("missing argument: {} {} {}", program.name, verb_name, p.verb->args),
                              verb_name};
    return p;
}

void print_help(const cli_program& program, const cli_verb* verb, std::FILE* to)
{
    std::vector<std::pair<std::string, std::string_view>> rows;
    if (!verb) {
        fmt::print(to, "Usage: {} VERB [OPTIONS] [ARGS]\n{}\n\nVerbs:\n", program.name, program.about);
        for (auto& v : program.verbs)
            rows.emplace_back(fmt::format("  {}{}{}", v.name, v.args.empty() ? "" : " ", v.args), v.summary);
        print_rows(to, rows);
        rows.clear();
        fmt::print(to, "\nOptions of every verb:\n");
        for (auto& o : program.options)
            if (o.id == cli_help || o.id == cli_version) rows.emplace_back(option_column(o), o.help);
        print_rows(to, rows);
        fmt::print(to, "\n'{} VERB --help' (or '{} help VERB') lists a verb's options.\n", program.name, program.name);
        return;
    }
    // The summary as a sentence: "Stop the daemon: ...".
    std::string_view summary = verb->summary;
    fmt::print(to, "Usage: {} {} [OPTIONS]{}{}\n{:c}{}.\n", program.name, verb->name, verb->args.empty() ? "" : " ",
               verb->args, static_cast<char>(std::toupper(static_cast<unsigned char>(summary[0]))), summary.substr(1));
    if (!verb->about.empty()) fmt::print(to, "\n{}\n", verb->about);
    fmt::print(to, "\nOptions:\n");
    for (auto& o : program.options)
        if (takes(*verb, o)) rows.emplace_back(option_column(o), o.help);
    print_rows(to, rows);
}

int report_usage_error(const cli_program& program, const cli_usage_error& e)
{
    fmt::print(stderr, "{}: {}\nTry '{}{}{} --help' for more information.\n", program.name, e.message, program.name,
               e.verb.empty() ? "" : " ", e.verb);
    return 2;
}

} // namespace pfd
