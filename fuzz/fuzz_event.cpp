// Arbitrary lines as events.
#include "run/event_stream.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    (void)plughost::host::parse_event(std::string_view(reinterpret_cast<const char *>(data), size));
    return 0;
}
