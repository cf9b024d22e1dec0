#include "hostexec.hpp"

int main(int argc, char** argv)
{
    return pfd::hostexec_main(argc, argv);
}
