#include "pfd_cli.hpp"

int main(int argc, char** argv)
{
    return pfd::pfd_main(argc, argv);
}
