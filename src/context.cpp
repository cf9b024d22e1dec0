#include "context.hpp"

#include "project_trust.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace pfd {

context resolve_context(const std::string& socket_flag, const std::string& project_flag, const std::string& config_file,
                        std::string cwd)
{
    char buf[4096];
    if (cwd.empty()) cwd = ::getcwd(buf, sizeof buf) ? buf : "/";
    auto project = honoured_project_file(cwd);
    context c;
    c.cfg = load_config(default_config_files(), config_file, project ? &*project : nullptr);
    discovery_request r;
    r.socket_flag = socket_flag;
    r.project_flag = project_flag;
    r.cwd = cwd;
    r.order = c.cfg.discovery.order;
    r.config_project = c.cfg.discovery.project;
    if (project) r.file_project = project_name(*project);
    c.where = discover(r);
    return c;
}

} // namespace pfd
