#pragma once

namespace pfd {

/// The whole of `pfd`: the daemon and its control verbs.
int pfd_main(int argc, char** argv);

} // namespace pfd
