#include "context.hpp"

#include "project_trust.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace pfd {

context resolve_context(const std::string& socket_flag, const std::string& project_flag, const std::string& config_file,
                        std::string cwd, config_errors on_error)
{
    char buf[4096];
    if (cwd.empty()) cwd = ::getcwd(buf, sizeof buf) ? buf : "/";
    context c;
    auto project = honoured_project_file(cwd, c.ignored_project);
    bool leave_out = on_error == config_errors::leave_out;
    c.sources.files = default_config_files();
    c.cfg = load_config(c.sources.files, config_file, project ? &*project : nullptr, leave_out ? &c.left_out : nullptr);
    // By reference, for a daemon to read again from wherever it runs then:
    // a relative --config is the working directory's.
    if (!config_file.empty() && !config_file.starts_with('/'))
        c.sources.required = std::string(::getcwd(buf, sizeof buf) ? buf : ".") + "/" + config_file;
    else
        c.sources.required = config_file;
    if (project) c.sources.project = trusted_file{project->path, content_hash(project->content)};
    discovery_request r;
    r.socket_flag = socket_flag;
    r.project_flag = project_flag;
    r.cwd = cwd;
    r.order = c.cfg.discovery.order;
    r.config_project = c.cfg.discovery.project;
    if (project) {
        try {
            r.file_project = project_name(*project);
        } catch (const config_error&) {
            if (!leave_out) throw; // else load_config has left it out already, saying why
        }
    }
    c.where = discover(r);
    return c;
}

context context_from_sources(config_sources sources, project_check check, const std::string& socket_flag)
{
    context c;
    c.cfg = load_config(sources, check);
    c.sources = std::move(sources);
    discovery_request r;
    r.socket_flag = socket_flag;
    r.order = c.cfg.discovery.order;
    c.where = discover(r);
    return c;
}

void report_left_out(const context& ctx, std::string_view program)
{
    // Printed on every run, as direnv does for a blocked .envrc: the file
    // does nothing until trusted, and a user who expects it to should hear
    // why. Whoever means to leave it so says PFD_QUIET_UNTRUSTED=1, once,
    // where their shell or direnv sets variables.
    const char* quiet = std::getenv(quiet_untrusted_variable);
    if (!ctx.ignored_project.empty() && !(quiet && std::string_view(quiet) == "1"))
        fmt::print(stderr, "{}: {}\n", program, ctx.ignored_project);
    for (auto& socket : ctx.where.ignored) fmt::print(stderr, "{}: {}\n", program, socket);
    for (auto& error : ctx.left_out)
        fmt::print(stderr, "{}: {} (that file is left out until it is fixed)\n", program, error);
}

} // namespace pfd
