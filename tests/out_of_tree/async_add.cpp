// Built by tests/install_test.sh against the *installed* libpfd, with only
// the flags `pkg-config pfd` gives: the awaitable client and Asio from
// outside the source tree. Usage: async_add SOCKET NUMBER...
#include <pfd/async_client.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <iostream>

int main(int argc, char** argv)
{
    if (argc < 2) return 2;
    pfd::client daemon(argv[1]);
    pfd::command cmd{.argv = {"add"}};
    cmd.argv.insert(cmd.argv.end(), argv + 2, argv + argc);
    int status = 125;
    asio::io_context io;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto result = co_await pfd::async_run_capture(daemon, cmd);
            std::cout << "out=" << result.out << "err=" << result.err;
            status = pfd::shell_status(result.exit);
        },
        [](std::exception_ptr e) {
            if (!e) return;
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                std::cerr << "async_add: " << x.what() << "\n";
            }
        });
    io.run();
    return status;
}
