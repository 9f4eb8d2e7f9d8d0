// Arbitrary text as a manifest document.
#include "inspect/manifest.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    const auto reading = plughost::host::read_manifest(std::string_view(reinterpret_cast<const char *>(data), size));
    if (reading.manifest && !reading.errors.empty()) std::abort();  // valid means no errors
    return 0;
}
