// Arbitrary bytes as a plugin file: the reader must never crash, hang or read out of bounds.
#include "inspect/manifest_reader.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    const int fd = ::memfd_create("fuzz.so", MFD_CLOEXEC);
    if (fd < 0) std::abort();
    if (size && ::write(fd, data, size) != static_cast<ssize_t>(size)) std::abort();
    auto file = plughost::host::read_plugin_file("fuzz.so", plughost::host::UniqueFd(fd), false);
    // A file is either refused, or carries a manifest reading.
    if (file.reasons.empty() && !file.reading) std::abort();
    return 0;
}
