// agate: the command-line client of agated (see `agate --help`).

#include <iostream>

#include "tools/agate/cli.h"

int main(int argc, char** argv) { return agate::cli::run(argc, argv, std::cout, std::cerr); }
