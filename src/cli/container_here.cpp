#include "container_here.hpp"

#include <unistd.h>

#include <cstdlib>

namespace pfd {

std::string container_kind_here()
{
    auto exists = [](const char* path) { return ::access(path, F_OK) == 0; };
    if (exists("/.flatpak-info")) return "flatpak";
    if (exists("/run/.toolboxenv")) return "toolbox";
    if (exists("/run/.containerenv")) return "podman";
    if (const char* kind = std::getenv("container"); kind && *kind) return kind;
    return {};
}

} // namespace pfd
