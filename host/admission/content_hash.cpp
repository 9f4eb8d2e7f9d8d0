#include "admission/content_hash.hpp"

#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

namespace plughost::host {

std::string sha256_hex(int fd, std::uint64_t size, std::string &error) {
    const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
        error = "libcrypto could not start a SHA-256 digest";
        return {};
    }
    constexpr std::size_t kChunk = 64 * 1024;
    const std::unique_ptr<unsigned char[]> buffer(new unsigned char[kChunk]);
    for (std::uint64_t done = 0; done < size;) {
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, size - done));
        const ssize_t n = ::pread(fd, buffer.get(), want, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            error = n < 0 ? std::string("read: ") + std::strerror(errno) : "the file ended early";
            return {};
        }
        if (EVP_DigestUpdate(ctx.get(), buffer.get(), static_cast<std::size_t>(n)) != 1) {
            error = "libcrypto failed while hashing";
            return {};
        }
        done += static_cast<std::uint64_t>(n);
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(ctx.get(), digest, &length) != 1) {
        error = "libcrypto could not finish the digest";
        return {};
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out += kHex[digest[i] >> 4];
        out += kHex[digest[i] & 15];
    }
    return out;
}

}  // namespace plughost::host
