#include "inspect/file_trust.hpp"

#include <string>

namespace plughost::host {
namespace {

std::string octal_mode(mode_t mode) {
    const unsigned bits = static_cast<unsigned>(mode) & 07777U;
    std::string out;
    for (int shift = 9; shift >= 0; shift -= 3) out += static_cast<char>('0' + ((bits >> shift) & 7U));
    return out;
}

std::string who_may_write(mode_t mode) {
    const bool group = (mode & S_IWGRP) != 0, others = (mode & S_IWOTH) != 0;
    return group && others ? "its group and all users" : group ? "its group" : "all users";
}

}  // namespace

bool trusted_owner(uid_t owner, uid_t host_user) { return owner == 0 || owner == host_user; }

std::optional<Reason> untrusted_file(const std::filesystem::path &path, const struct stat &st, uid_t host_user) {
    const std::string where = path.string() + ": ";
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return Reason{Code::writable_by_others,
                      where + "is writable by " + who_may_write(st.st_mode) + " (mode " + octal_mode(st.st_mode) +
                          "), so they could make plughost run their code: it is refused before it is read; fix: "
                          "chmod go-w " +
                          path.string() + "; " + kAllowUnsafePermissionsSwitch};
    if (!trusted_owner(st.st_uid, host_user))
        return Reason{Code::untrusted_owner,
                      where + "is owned by user id " + std::to_string(st.st_uid) +
                          ", neither root nor the user plughost runs as (" + std::to_string(host_user) +
                          "), so that user could make plughost run their code: it is refused before it is read; "
                          "fix: chown root (or the host's user) " +
                          path.string() + "; " + kAllowUnsafePermissionsSwitch};
    return std::nullopt;
}

std::optional<Reason> untrusted_directory(const std::filesystem::path &dir, const struct stat &st, uid_t host_user) {
    const std::string where = "plugin directory " + dir.string() + " ";
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return Reason{Code::directory_writable_by_others,
                      where + "is writable by " + who_may_write(st.st_mode) + " (mode " + octal_mode(st.st_mode) +
                          "), so they could add or replace plugins: every file in it is refused before it is "
                          "read; fix: chmod go-w " +
                          dir.string() + "; " + kAllowUnsafePermissionsSwitch};
    if (!trusted_owner(st.st_uid, host_user))
        return Reason{Code::directory_untrusted_owner,
                      where + "is owned by user id " + std::to_string(st.st_uid) +
                          ", neither root nor the user plughost runs as (" + std::to_string(host_user) +
                          "), so that user could add or replace plugins: every file in it is refused before it is "
                          "read; fix: chown root (or the host's user) " +
                          dir.string() + "; " + kAllowUnsafePermissionsSwitch};
    return std::nullopt;
}

}  // namespace plughost::host
