// The user bus side of session_environment: sd-bus loaded at the first
// container client, the manager's environment read and followed.

#include "manager_bus.hpp"

#include "session_environment.hpp"

#include <dlfcn.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#if PFD_HAVE_SD_BUS
#include <systemd/sd-bus.h>
#endif

namespace pfd {

namespace {

#if PFD_HAVE_SD_BUS

/// sd-bus, from libsystemd.so.0 opened at the first container client: linked,
/// its pages (and those of liblzma, libzstd, liblz4, libgcrypt, libcap it
/// pulls in) would be mapped and relocated in every daemon, idle ones too.
/// The functions are typed by sd-bus.h itself.
struct sd_bus_api {
// clang-format off
#define PFD_SD_BUS_FUNCTIONS(X) \
    X(sd_bus_open_user) \
    X(sd_bus_flush_close_unref) \
    X(sd_bus_set_method_call_timeout) \
    X(sd_bus_add_match) \
    X(sd_bus_match_signal) \
    X(sd_bus_slot_unref) \
    X(sd_bus_call_method) \
    X(sd_bus_call) \
    X(sd_bus_error_free) \
    X(sd_bus_message_new_method_call) \
    X(sd_bus_message_set_auto_start) \
    X(sd_bus_message_append) \
    X(sd_bus_message_unref) \
    X(sd_bus_message_read) \
    X(sd_bus_message_read_strv) \
    X(sd_bus_message_enter_container) \
    X(sd_bus_message_exit_container) \
    X(sd_bus_message_skip) \
    X(sd_bus_process) \
    X(sd_bus_get_fd) \
    X(sd_bus_get_events) \
    X(sd_bus_get_timeout)
// clang-format on
#define PFD_SD_BUS_MEMBER(name) decltype(&::name) name = nullptr;
    PFD_SD_BUS_FUNCTIONS(PFD_SD_BUS_MEMBER)
};

/// The loaded functions, or nullptr with the reason in `why`. Loaded once,
/// never unloaded.
const sd_bus_api* sd_bus_functions(std::string& why)
{
    static std::string failure;
    static const sd_bus_api* api = []() -> const sd_bus_api* {
        void* lib = ::dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
            const char* e = ::dlerror();
            failure = fmt::format("libsystemd.so.0 cannot be loaded: {}", e ? e : "?");
            return nullptr;
        }
        static sd_bus_api loaded;
#define PFD_SD_BUS_LOAD(name)                                                                                          \
    loaded.name = reinterpret_cast<decltype(&::name)>(::dlsym(lib, #name));                                            \
    if (!loaded.name) {                                                                                                \
        failure = "libsystemd.so.0 has no " #name;                                                                     \
        return nullptr;                                                                                                \
    }
        PFD_SD_BUS_FUNCTIONS(PFD_SD_BUS_LOAD)
        return &loaded;
    }();
    if (!api) why = failure;
    return api;
}

constexpr const char* manager_service = "org.freedesktop.systemd1";
constexpr const char* manager_path = "/org/freedesktop/systemd1";
constexpr const char* manager_interface = "org.freedesktop.systemd1.Manager";
constexpr std::uint64_t call_timeout_us = 1'000'000;

/// One bus thread's connection and what its signals told it; every sd-bus
/// object owned here, released by the functions that made it.
class manager_bus {
public:
    explicit manager_bus(const sd_bus_api& sd) : sd_(sd) {}
    ~manager_bus()
    {
        for (auto* slot : slots_) sd_.sd_bus_slot_unref(slot);
        if (bus_) sd_.sd_bus_flush_close_unref(bus_);
    }
    manager_bus(const manager_bus&) = delete;
    manager_bus& operator=(const manager_bus&) = delete;

    /// Connects to the user bus ($DBUS_SESSION_BUS_ADDRESS, else
    /// $XDG_RUNTIME_DIR/bus) and asks for the manager's signals. "" or why not.
    std::string connect()
    {
        if (int r = sd_.sd_bus_open_user(&bus_); r < 0) {
            bus_ = nullptr;
            return fmt::format("no user bus: {}", std::strerror(-r));
        }
        sd_.sd_bus_set_method_call_timeout(bus_, call_timeout_us);
        // Anyone on a user bus is its user: no sender check beyond the path.
        sd_bus_slot* slot = nullptr;
        if (int r = sd_.sd_bus_match_signal(bus_, &slot, nullptr, manager_path, "org.freedesktop.DBus.Properties",
                                            "PropertiesChanged", &manager_bus::on_properties_changed, this);
            r < 0)
            return fmt::format("cannot follow the user manager's changes: {}", std::strerror(-r));
        slots_.push_back(slot);
        // The manager coming (a daemon started before it) or going.
        if (int r = sd_.sd_bus_add_match(bus_, &slot,
                                         "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                                         "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
                                         "arg0='org.freedesktop.systemd1'",
                                         &manager_bus::on_owner_changed, this);
            r < 0)
            return fmt::format("cannot follow the user manager's changes: {}", std::strerror(-r));
        slots_.push_back(slot);
        return {};
    }

    /// Reads the manager's Environment property (without starting a
    /// manager by bus activation). "" or why not.
    std::string read(std::vector<std::string>& out)
    {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message* call = nullptr;
        sd_bus_message* reply = nullptr;
        char** strv = nullptr;
        int r = sd_.sd_bus_message_new_method_call(bus_, &call, manager_service, manager_path,
                                                   "org.freedesktop.DBus.Properties", "Get");
        if (r >= 0) r = sd_.sd_bus_message_set_auto_start(call, 0);
        if (r >= 0) r = sd_.sd_bus_message_append(call, "ss", manager_interface, "Environment");
        if (r >= 0) r = sd_.sd_bus_call(bus_, call, call_timeout_us, &error, &reply);
        if (r >= 0) r = sd_.sd_bus_message_enter_container(reply, 'v', "as");
        if (r >= 0) r = sd_.sd_bus_message_read_strv(reply, &strv);
        std::string why;
        if (r < 0)
            why = fmt::format("no user manager on the bus: {}", error.message ? error.message : std::strerror(-r));
        else
            out = take(strv);
        sd_.sd_bus_error_free(&error);
        if (reply) sd_.sd_bus_message_unref(reply);
        if (call) sd_.sd_bus_message_unref(call);
        return why;
    }

    /// Subscribe(): systemd sends some signals only to its subscribers.
    /// Failure changes nothing (a manager without it still signals).
    void subscribe()
    {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message* reply = nullptr;
        sd_.sd_bus_call_method(bus_, manager_service, manager_path, manager_interface, "Subscribe", &error, &reply, "");
        sd_.sd_bus_error_free(&error);
        if (reply) sd_.sd_bus_message_unref(reply);
    }

    /// Handles what arrived, until nothing is left; negative errno when the
    /// connection is gone.
    int process()
    {
        int r;
        while ((r = sd_.sd_bus_process(bus_, nullptr)) > 0) {
        }
        return r;
    }

    /// poll(2) arguments for the bus: its descriptor's events and the
    /// timeout in ms (-1: none).
    int fd() const { return sd_.sd_bus_get_fd(bus_); }
    short events() const
    {
        int e = sd_.sd_bus_get_events(bus_);
        return static_cast<short>(e < 0 ? POLLIN : e);
    }
    int timeout_ms() const
    {
        std::uint64_t until = 0;
        if (sd_.sd_bus_get_timeout(bus_, &until) < 0 || until == UINT64_MAX) return -1;
        timespec now{};
        ::clock_gettime(CLOCK_MONOTONIC, &now);
        std::uint64_t now_us = static_cast<std::uint64_t>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1000;
        return until <= now_us ? 0 : static_cast<int>(std::min<std::uint64_t>((until - now_us + 999) / 1000, 60'000));
    }

    /// What the signals said since the last look.
    bool reread = true;                           ///< read the property (again)
    bool resubscribe = true;                      ///< a manager (re)appeared
    bool gone = false;                            ///< the manager left the bus
    std::optional<std::vector<std::string>> sent; ///< a PropertiesChanged's value

private:
    static std::vector<std::string> take(char** strv)
    {
        std::vector<std::string> out;
        for (char** s = strv; s && *s; ++s) {
            out.emplace_back(*s);
            std::free(*s);
        }
        std::free(strv);
        return out;
    }

    /// PropertiesChanged(s interface, a{sv} changed, as invalidated): the new
    /// Environment with its value, or invalidated (read it again). A message
    /// of another shape is ignored.
    static int on_properties_changed(sd_bus_message* m, void* self_ptr, sd_bus_error*)
    {
        auto& self = *static_cast<manager_bus*>(self_ptr);
        const sd_bus_api& sd = self.sd_;
        const char* interface = nullptr;
        if (sd.sd_bus_message_read(m, "s", &interface) < 0 || !interface ||
            std::strcmp(interface, manager_interface) != 0)
            return 0;
        if (sd.sd_bus_message_enter_container(m, 'a', "{sv}") < 0) return 0;
        for (;;) {
            int r = sd.sd_bus_message_enter_container(m, 'e', "sv");
            if (r <= 0) break;
            const char* name = nullptr;
            if (sd.sd_bus_message_read(m, "s", &name) < 0 || !name) return 0;
            if (std::strcmp(name, "Environment") == 0) {
                char** strv = nullptr;
                if (sd.sd_bus_message_enter_container(m, 'v', "as") < 0 || sd.sd_bus_message_read_strv(m, &strv) < 0 ||
                    sd.sd_bus_message_exit_container(m) < 0) {
                    self.reread = true; // a value we cannot read: ask for it
                    return 0;
                }
                self.sent = take(strv);
            } else if (sd.sd_bus_message_skip(m, "v") < 0) {
                return 0;
            }
            if (sd.sd_bus_message_exit_container(m) < 0) return 0;
        }
        if (sd.sd_bus_message_exit_container(m) < 0) return 0;
        char** invalidated = nullptr;
        if (sd.sd_bus_message_read_strv(m, &invalidated) < 0) return 0;
        for (auto& name : take(invalidated))
            if (name == "Environment") self.reread = true;
        return 0;
    }

    /// NameOwnerChanged(name, old owner, new owner) of org.freedesktop.systemd1.
    static int on_owner_changed(sd_bus_message* m, void* self_ptr, sd_bus_error*)
    {
        auto& self = *static_cast<manager_bus*>(self_ptr);
        const char *name = nullptr, *old_owner = nullptr, *new_owner = nullptr;
        if (self.sd_.sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || !name || !new_owner ||
            std::strcmp(name, manager_service) != 0)
            return 0;
        if (*new_owner) {
            self.gone = false;
            self.reread = self.resubscribe = true;
        } else {
            self.gone = true;
        }
        return 0;
    }

    const sd_bus_api& sd_;
    sd_bus* bus_ = nullptr;
    std::vector<sd_bus_slot*> slots_;
};

#endif

} // namespace

/// Why there is plainly no user bus to connect to, before libsystemd is
/// loaded for nothing (its pages stay): sd_bus_open_user's own choice of
/// address ($DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus), a unix
/// socket's path that does not exist. "" when there may be one.
std::string no_user_bus()
{
    std::string path;
    if (const char* address = std::getenv("DBUS_SESSION_BUS_ADDRESS"); address && *address) {
        std::string_view a = address;
        if (!a.starts_with("unix:path=")) return {};
        a.remove_prefix(10);
        path = std::string(a.substr(0, a.find_first_of(",;")));
    } else if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime && *runtime) {
        path = std::string(runtime) + "/bus";
    } else {
        return "no user bus: neither $DBUS_SESSION_BUS_ADDRESS nor $XDG_RUNTIME_DIR is set";
    }
    // A path with %-escapes is the library's to read.
    if (path.find('%') != std::string::npos || ::access(path.c_str(), F_OK) == 0) return {};
    return fmt::format("no user bus: {} does not exist", path);
}

/// The bus thread: connect, read, then follow until the connection goes or
/// the daemon does. `publish` records what it found (the manager's block,
/// or null with why not) under the mutex; it returns false once stopping.
void follow_manager([[maybe_unused]] int wake, const manager_report& publish)
{
#if PFD_HAVE_SD_BUS
    std::string why;
    const sd_bus_api* sd = sd_bus_functions(why);
    if (!sd) {
        publish(nullptr, why, true);
        return;
    }
    manager_bus bus(*sd);
    if (why = bus.connect(); !why.empty()) {
        publish(nullptr, why, true);
        return;
    }
    for (;;) {
        if (int r = bus.process(); r < 0) {
            publish(nullptr, fmt::format("the user bus connection was lost: {}", std::strerror(-r)), true);
            return;
        }
        if (bus.gone) {
            bus.gone = false;
            if (!publish(nullptr, "the user manager left the bus", false)) return;
        }
        if (bus.sent) {
            auto entries = std::make_shared<const std::vector<std::string>>(session_entries(*bus.sent));
            bus.sent.reset();
            if (!publish(std::move(entries), "", false)) return;
        }
        if (bus.reread) {
            bus.reread = false;
            std::vector<std::string> block;
            why = bus.read(block);
            if (!publish(why.empty() ? std::make_shared<const std::vector<std::string>>(session_entries(block))
                                     : nullptr,
                         why, false))
                return;
            if (why.empty() && bus.resubscribe) bus.subscribe();
            bus.resubscribe = false;
            continue; // what arrived meanwhile first
        }
        pollfd fds[2] = {{bus.fd(), bus.events(), 0}, {wake, POLLIN, 0}};
        if (::poll(fds, 2, bus.timeout_ms()) < 0 && errno != EINTR) {
            publish(nullptr, fmt::format("poll: {}", std::strerror(errno)), true);
            return;
        }
        if (fds[1].revents) {
            publish(nullptr, "the daemon is stopping", true);
            return;
        }
    }
#else
    publish(nullptr, "this pfd was built without sd-bus", true);
#endif
}

} // namespace pfd
