// The exec request's usual line in one pass (exec_fields.hpp). Every
// command starts with one; nlohmann's DOM of it (a node and a string per
// argument and variable, its duplicate-key check, then a copy of each into
// the request) was the daemon's largest piece of work of its own per command.
//
// It reads the subset of JSON hostexec writes and refuses (returns nothing)
// at the first byte outside it, leaving the line to the DOM, which takes or
// refuses it as before: no error is worded here, so none can differ.

#include "exec_fields.hpp"

#include "byte_string.hpp"

#include <cstdint>

namespace pfd {

namespace {

class exec_line_reader {
public:
    explicit exec_line_reader(std::string_view line) : p_(line.data()), end_(line.data() + line.size()) {}

    std::optional<exec_fields> read()
    {
        exec_fields f;
        if (!object(f)) return std::nullopt;
        skip_space();
        if (p_ != end_ || !(seen_ & bit(key::pfd)) || !(seen_ & bit(key::op))) return std::nullopt;
        return f;
    }

private:
    enum class key {
        pfd, op, argv, env, cwd, cwd_fd, umask, fds, tty, ctty, winsize, detach, client, program, container,
        env_forward, login_shell, clear_env, unset_env, other
    };
    static std::uint32_t bit(key k) { return 1u << static_cast<int>(k); }

    static key key_of(std::string_view name)
    {
        static constexpr std::pair<std::string_view, key> keys[] = {
            {"pfd", key::pfd},         {"op", key::op},
            {"argv", key::argv},       {"env", key::env},
            {"cwd", key::cwd},         {"cwd_fd", key::cwd_fd},
            {"umask", key::umask},     {"fds", key::fds},
            {"tty", key::tty},         {"ctty", key::ctty},
            {"winsize", key::winsize},
            {"detach", key::detach},   {"client", key::client},
            {"program", key::program}, {"container", key::container},
            {"env_forward", key::env_forward}, {"login_shell", key::login_shell},
            {"clear_env", key::clear_env},     {"unset_env", key::unset_env},
        };
        for (auto& [text, k] : keys)
            if (text == name) return k;
        return key::other;
    }

    bool object(exec_fields& f)
    {
        skip_space();
        return sequence('{', '}', [&] {
            std::string name;
            if (!string(name)) return false;
            key k = key_of(name);
            // A repeated key is refused by the DOM's decoder; an unknown one too.
            if (k == key::other || (seen_ & bit(k))) return false;
            seen_ |= bit(k);
            skip_space();
            if (!eat(':')) return false;
            skip_space();
            return value(k, f);
        });
    }

    /// OPEN item, item, ... CLOSE (maybe no item), JSON whitespace around
    /// each; `item` reads one at the current byte.
    template <typename Item>
    bool sequence(char open, char close, Item item)
    {
        if (!eat(open)) return false;
        skip_space();
        if (eat(close)) return true;
        do {
            skip_space();
            if (!item()) return false;
            skip_space();
        } while (eat(','));
        return eat(close);
    }

    bool value(key k, exec_fields& f)
    {
        exec_request& req = f.req;
        switch (k) {
        case key::pfd: {
            std::int64_t version;
            return integer(version, protocol_version) && version == protocol_version;
        }
        case key::op: {
            std::string op;
            return string(op) && op == "exec";
        }
        case key::argv: f.has_argv = true; return strings(req.argv);
        case key::env: return strings(req.env);
        case key::cwd: f.has_cwd = true; return string(req.cwd);
        case key::cwd_fd: return boolean(req.cwd_fd);
        case key::umask: {
            std::int64_t umask;
            if (!integer(umask, 0777)) return false;
            req.umask = static_cast<mode_t>(umask);
            return true;
        }
        case key::fds: return integers(req.fds, 1 << 20);
        case key::tty: return boolean(req.tty);
        case key::ctty: return boolean(req.ctty);
        case key::winsize: {
            std::vector<int> size;
            if (!integers(size, 65535) || size.size() != 2) return false;
            f.has_winsize = true;
            req.rows = static_cast<std::uint16_t>(size[0]);
            req.cols = static_cast<std::uint16_t>(size[1]);
            return true;
        }
        case key::detach: return boolean(req.detach);
        case key::client: return string(req.client);
        case key::program: f.has_program = true; return string(req.program);
        case key::container: f.has_container = true; return string(req.container);
        case key::env_forward: return strings(req.env_forward);
        case key::login_shell: return boolean(req.login_shell);
        case key::clear_env: return boolean(req.clear_env);
        case key::unset_env: return strings(req.unset_env);
        case key::other: break;
        }
        return false;
    }

    /// A string with the escapes hostexec writes but \u (which may mean a NUL
    /// or a surrogate pair: the DOM's decoder knows what to do with those).
    bool string(std::string& out)
    {
        if (!eat('"')) return false;
        const char* run = p_;
        bool ascii = true;
        for (;;) {
            if (p_ == end_) return false;
            auto c = static_cast<unsigned char>(*p_);
            if (c == '"') break;
            if (c < 0x20) return false;
            if (c >= 0x80) ascii = false;
            if (c == '\\') {
                out.append(run, p_);
                if (++p_ == end_) return false;
                switch (*p_) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                default: return false;
                }
                run = ++p_;
                continue;
            }
            ++p_;
        }
        out.append(run, p_);
        ++p_;
        // JSON text is UTF-8; the DOM's lexer refuses a string that is not.
        return ascii || is_valid_utf8(out);
    }

    bool strings(std::vector<std::string>& out)
    {
        return sequence('[', ']', [&] { return string(out.emplace_back()); });
    }

    /// 0 or a number without a leading zero, sign, fraction or exponent, at
    /// most `max` (a bigger one is the DOM's to refuse, with its message).
    bool integer(std::int64_t& out, std::int64_t max)
    {
        if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
        out = 0;
        if (*p_ == '0') {
            ++p_;
        } else {
            while (p_ != end_ && *p_ >= '0' && *p_ <= '9') {
                out = out * 10 + (*p_++ - '0');
                if (out > max) return false;
            }
        }
        // "0.5", "1e3", "01": a number of another kind, or bad JSON.
        return p_ == end_ || (*p_ != '.' && *p_ != 'e' && *p_ != 'E' && (*p_ < '0' || *p_ > '9'));
    }

    bool integers(std::vector<int>& out, std::int64_t max)
    {
        return sequence('[', ']', [&] {
            std::int64_t n;
            if (!integer(n, max)) return false;
            out.push_back(static_cast<int>(n));
            return true;
        });
    }

    bool boolean(bool& out)
    {
        if (word("true"))
            out = true;
        else if (word("false"))
            out = false;
        else
            return false;
        return true;
    }

    bool word(std::string_view w)
    {
        if (static_cast<std::size_t>(end_ - p_) < w.size() || std::string_view(p_, w.size()) != w) return false;
        p_ += w.size();
        return true;
    }

    bool eat(char c)
    {
        if (p_ == end_ || *p_ != c) return false;
        ++p_;
        return true;
    }

    void skip_space()
    {
        while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
    }

    const char* p_;
    const char* end_;
    std::uint32_t seen_ = 0;
};

} // namespace

std::optional<exec_fields> read_exec_line(std::string_view line)
{
    return exec_line_reader(line).read();
}

} // namespace pfd
