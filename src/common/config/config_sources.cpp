#include "config_sources.hpp"

#include "project_trust.hpp"
#include "quote.hpp"

#include <algorithm>
#include <exception>

#include <fmt/format.h>

namespace pfd {

namespace {

/// The error for a project file the daemon runs with that cannot be read
/// as it must be: its path, why, and the way out.
[[noreturn]] void refuse(const std::string& path, const std::string& why, const std::string& way_out = {})
{
    throw config_error(fmt::format("{}: {}; {}", printable(path), why,
                                   way_out.empty() ? fmt::format("the daemon runs with that file, so it must stay "
                                                                 "trusted: `pfd trust {}` once it is as you mean it",
                                                                 shell_word(path))
                                                   : way_out));
}

/// The project file `ref` names, read once, as it must be now.
project_file reread(const trusted_file& ref, project_check check)
{
    std::string why;
    auto file = read_project_file(ref.path, why);
    if (!file) refuse(ref.path, why);
    std::string hash = content_hash(file->content);
    bool trusted = false, recorded = false;
    try {
        trust_store store;
        trusted = store.trusts(*file);
        for (auto& e : store.entries()) recorded = recorded || e.path == file->path;
    } catch (const std::exception&) {
        // No trust store (no HOME): nothing is trusted.
    }
    if (!trusted) refuse(ref.path, recorded ? "changed since it was trusted" : "not trusted");
    if (check == project_check::unchanged && hash != ref.hash)
        refuse(ref.path, "changed since the running daemon read it, and trusted again",
               "`pfd reload` applies it to the running daemon first");
    return *file;
}

/// '\' and newline escaped, so that a path is one field of one line.
std::string escaped(std::string_view s)
{
    std::string out;
    for (char c : s) out += c == '\\' ? std::string("\\\\") : c == '\n' ? std::string("\\n") : std::string(1, c);
    return out;
}

std::string unescaped(std::string_view s)
{
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\') {
            out += s[i];
            continue;
        }
        if (++i == s.size() || (s[i] != '\\' && s[i] != 'n')) throw config_error("PFD_CONFIG_SOURCES: a bad escape");
        out += s[i] == 'n' ? '\n' : '\\';
    }
    return out;
}

bool is_hash(std::string_view s)
{
    return s.size() == 64 &&
           std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

} // namespace

config load_config(config_sources& sources, project_check check)
{
    std::optional<project_file> project;
    if (sources.project) project = reread(*sources.project, check);
    config cfg = load_config(sources.files, sources.required, project ? &*project : nullptr);
    if (project) sources.project->hash = content_hash(project->content);
    return cfg;
}

// One line a source: "file PATH", "required PATH", "project SHA256 PATH".
std::string encode_sources(const config_sources& sources)
{
    std::string out;
    for (auto& f : sources.files) out += "file " + escaped(f) + "\n";
    if (!sources.required.empty()) out += "required " + escaped(sources.required) + "\n";
    if (sources.project) out += "project " + sources.project->hash + " " + escaped(sources.project->path) + "\n";
    return out;
}

config_sources decode_sources(std::string_view text)
{
    config_sources out;
    while (!text.empty()) {
        auto nl = text.find('\n');
        if (nl == std::string_view::npos) throw config_error("PFD_CONFIG_SOURCES: a line without its end");
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl + 1);
        auto space = line.find(' ');
        std::string_view kind = line.substr(0, space), rest = space == line.npos ? "" : line.substr(space + 1);
        auto absolute = [](std::string path) {
            if (!path.starts_with('/')) throw config_error("PFD_CONFIG_SOURCES: a path that is not absolute");
            return path;
        };
        if (kind == "file") {
            out.files.push_back(absolute(unescaped(rest)));
        } else if (kind == "required" && out.required.empty()) {
            out.required = absolute(unescaped(rest));
        } else if (kind == "project" && !out.project && rest.size() > 65 && is_hash(rest.substr(0, 64)) &&
                   rest[64] == ' ') {
            out.project = trusted_file{absolute(unescaped(rest.substr(65))), std::string(rest.substr(0, 64))};
        } else {
            throw config_error(fmt::format("PFD_CONFIG_SOURCES: '{}' is not a source", kind));
        }
    }
    return out;
}

} // namespace pfd
