// Arbitrary text as an operator config, through parsing and strict reading.
#include "common/json_document.hpp"
#include "plan/config.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    const auto doc =
        plughost::host::parse_json_document(std::string_view(reinterpret_cast<const char *>(data), size), "fuzz");
    if (doc.problem) return 0;
    std::vector<plughost::host::Issue> issues;
    (void)plughost::host::read_config(doc.value, "fuzz", issues);
    return 0;
}
