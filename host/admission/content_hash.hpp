// SHA-256 of a file's bytes, with OpenSSL's libcrypto (the lock file pins plugins by it).
#pragma once

#include <cstdint>
#include <string>

namespace plughost::host {

/// The SHA-256 of the first `size` bytes of the file open on `fd` (read with pread; the offset is
/// not moved), as 64 lowercase hex digits. Returns "" and sets `error` when the file cannot be
/// read whole or libcrypto fails.
std::string sha256_hex(int fd, std::uint64_t size, std::string &error);

}  // namespace plughost::host
