#include "inspect/manifest_reader.hpp"

#include "inspect/file_trust.hpp"

#include <plughost/plugin.h>

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>

namespace plughost::host {
namespace {

// Enough for the ELF header and, in every toolchain output we know of, the program headers and
// the note segments too: one read usually answers everything.
constexpr std::size_t kHeadBytes = 4096;
// Bounds on what a hostile file can make us read.
constexpr std::uint64_t kMaxProgramHeaders = 512;
constexpr std::uint64_t kMaxNoteSegmentBytes = 1024 * 1024;
// A shared object's dynamic section holds a few dozen entries of 16 bytes.
constexpr std::uint64_t kMaxDynamicSegmentBytes = 64 * 1024;
// Longer run paths are refused rather than read in part.
constexpr std::uint64_t kMaxRunPathBytes = 32 * 1024;

#if defined(__x86_64__)
constexpr unsigned kHostMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr unsigned kHostMachine = EM_AARCH64;
#elif defined(__riscv) && __riscv_xlen == 64
constexpr unsigned kHostMachine = EM_RISCV;
#elif defined(__powerpc64__)
constexpr unsigned kHostMachine = EM_PPC64;
#elif defined(__s390x__)
constexpr unsigned kHostMachine = EM_S390;
#else
#error "plughost: add this architecture's e_machine value"
#endif

static_assert(sizeof(void *) == 8, "plughost reads 64-bit ELF plugins only");
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ || __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__);
constexpr unsigned char kHostData = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB;

// True when a run path names the directory of the object itself: `$ORIGIN` (not followed by a
// name character, as glibc reads it) or `${ORIGIN}`.
bool mentions_origin(std::string_view path) {
    for (std::size_t at = path.find('$'); at != std::string_view::npos; at = path.find('$', at + 1)) {
        const std::string_view rest = path.substr(at + 1);
        if (rest.substr(0, 8) == "{ORIGIN}") return true;
        if (rest.substr(0, 6) != "ORIGIN") continue;
        const char next = rest.size() > 6 ? rest[6] : '\0';
        if (!std::isalnum(static_cast<unsigned char>(next)) && next != '_') return true;
    }
    return false;
}

const char *file_kind(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISLNK(mode)) return "a symbolic link";
    return "not a regular file";
}

std::string type_name(unsigned type) {
    switch (type) {
    case ET_NONE: return "ET_NONE (no file type)";
    case ET_REL: return "ET_REL (a relocatable object file)";
    case ET_EXEC: return "ET_EXEC (an executable)";
    case ET_CORE: return "ET_CORE (a core dump)";
    default: return "type " + std::to_string(type);
    }
}

// Reads exactly `size` bytes at `offset`, retrying short reads and EINTR.
bool pread_all(int fd, void *out, std::size_t size, std::uint64_t offset) {
    auto *p = static_cast<char *>(out);
    while (size) {
        const ssize_t n = ::pread(fd, p, size, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        size -= static_cast<std::size_t>(n);
        offset += static_cast<std::uint64_t>(n);
    }
    return true;
}

class Reader {
public:
    Reader(PluginFile &file, std::uint64_t file_size) : file_(file), size_(file_size) {}

    void run() {
        head_.resize(static_cast<std::size_t>(std::min<std::uint64_t>(size_, kHeadBytes)));
        if (!read_bytes(head_.data(), head_.size(), 0)) return;
        if (head_.size() < SELFMAG || std::memcmp(head_.data(), ELFMAG, SELFMAG) != 0) {
            fail(Code::not_elf, "is not an ELF file (it does not start with the bytes 7f 45 4c 46); "
                                "only shared objects built with the plughost SDK are plugins: remove it "
                                "from the plugin directory");
            return;
        }
        if (head_.size() < EI_NIDENT) {
            fail(Code::truncated_elf, "is a truncated ELF file (" + std::to_string(size_) +
                                          " bytes, shorter than the ELF identification); rebuild or re-copy it");
            return;
        }
        const unsigned char cls = head_[EI_CLASS];
        const unsigned char data = head_[EI_DATA];
        if (cls != ELFCLASS64) {
            fail(Code::wrong_architecture,
                 std::string("is a ") + (cls == ELFCLASS32 ? "32-bit (ELFCLASS32)" : "non-64-bit (unknown EI_CLASS)") +
                     " ELF object, this host is 64-bit " + machine_name(kHostMachine) +
                     ": rebuild the plugin for 64-bit " + machine_name(kHostMachine));
            return;
        }
        if (data != kHostData) {
            fail(Code::wrong_architecture,
                 std::string("is a ") +
                     (data == ELFDATA2MSB   ? "big-endian"
                      : data == ELFDATA2LSB ? "little-endian"
                                            : "unknown-endianness") +
                     " ELF object, this host is " + (kHostData == ELFDATA2LSB ? "little-endian " : "big-endian ") +
                     machine_name(kHostMachine) + ": rebuild the plugin for " + machine_name(kHostMachine));
            return;
        }
        if (size_ < sizeof(Elf64_Ehdr)) {
            fail(Code::truncated_elf, "is a truncated ELF file (" + std::to_string(size_) +
                                          " bytes, shorter than a 64-byte ELF header); rebuild or re-copy it");
            return;
        }
        Elf64_Ehdr eh;
        std::memcpy(&eh, head_.data(), sizeof eh);
        if (eh.e_type != ET_DYN) {
            fail(Code::not_a_shared_object, "is an ELF " + type_name(eh.e_type) +
                                                ", not a shared object (ET_DYN); build plugins as shared "
                                                "modules (plughost_add_plugin in CMake, or -shared -fPIC)");
            return;
        }
        if (eh.e_machine != kHostMachine)
            fail(Code::wrong_architecture, "is built for " + machine_name(eh.e_machine) + ", this host is " +
                                               machine_name(kHostMachine) + ": rebuild the plugin for " +
                                               machine_name(kHostMachine));
        read_notes(eh);
        if (headers_walked_ && dynamic_) check_run_paths(*dynamic_);
    }

private:
    void fail(Code code, std::string what) {
        file_.reasons.push_back({code, file_.path.string() + ": " + std::move(what)});
    }

    bool read_bytes(void *out, std::size_t n, std::uint64_t offset) {
        if (n == 0) return true;
        if (!pread_all(file_.fd.get(), out, n, offset)) {
            const int err = errno;
            fail(Code::io_error, "could not be read (" +
                                     std::string(err ? std::strerror(err) : "file shrank while being read") +
                                     " at byte " + std::to_string(offset) + "); check the file and its permissions");
            return false;
        }
        return true;
    }

    // Bytes [offset, offset+n) of the file, from the head buffer when it covers them.
    bool fetch(std::vector<unsigned char> &out, std::uint64_t offset, std::uint64_t n) {
        out.resize(static_cast<std::size_t>(n));
        if (offset + n <= head_.size()) {
            std::memcpy(out.data(), head_.data() + offset, static_cast<std::size_t>(n));
            return true;
        }
        return read_bytes(out.data(), out.size(), offset);
    }

    // `offset + length <= size_` without overflow.
    bool within_file(std::uint64_t offset, std::uint64_t length) const {
        return offset <= size_ && length <= size_ - offset;
    }

    void read_notes(const Elf64_Ehdr &eh) {
        if (eh.e_phnum == 0) {
            fail(Code::no_manifest,
                 "has no program headers, so no plughost manifest note; build it with the plughost SDK "
                 "(PLUGHOST_PLUGIN or PLUGHOST_DECLARE_PLUGIN)");
            return;
        }
        if (eh.e_phnum == PN_XNUM || eh.e_phnum > kMaxProgramHeaders) {
            fail(Code::malformed_elf, "declares " + std::to_string(eh.e_phnum) + " program headers; at most " +
                                          std::to_string(kMaxProgramHeaders) + " are supported");
            return;
        }
        if (eh.e_phentsize != sizeof(Elf64_Phdr)) {
            fail(Code::malformed_elf, "has program header entries of " + std::to_string(eh.e_phentsize) +
                                          " bytes (e_phentsize); 64-bit ELF requires " +
                                          std::to_string(sizeof(Elf64_Phdr)));
            return;
        }
        const std::uint64_t table = std::uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr);
        if (!within_file(eh.e_phoff, table)) {
            fail(Code::truncated_elf, "is truncated: its program header table (" + std::to_string(table) +
                                          " bytes at offset " + std::to_string(eh.e_phoff) +
                                          ") ends beyond the end of the file (" + std::to_string(size_) +
                                          " bytes); rebuild or re-copy it");
            return;
        }
        std::vector<unsigned char> bytes;
        if (!fetch(bytes, eh.e_phoff, table)) return;

        std::vector<std::uint64_t> seen_offsets;
        std::vector<unsigned char> notes;
        for (unsigned i = 0; i < eh.e_phnum; ++i) {
            Elf64_Phdr ph;
            std::memcpy(&ph, bytes.data() + i * sizeof(Elf64_Phdr), sizeof ph);
            // dlopen maps every PT_LOAD segment whatever the file's size, and touching a page
            // beyond the end of the file raises SIGBUS: a file cut short is refused here.
            if (ph.p_type == PT_LOAD && ph.p_filesz && !within_file(ph.p_offset, ph.p_filesz)) {
                fail(Code::truncated_elf, "is truncated: PT_LOAD segment " + std::to_string(i) + " (" +
                                              std::to_string(ph.p_filesz) + " bytes at offset " +
                                              std::to_string(ph.p_offset) + ") ends beyond the end of the file (" +
                                              std::to_string(size_) + " bytes); rebuild or re-copy it");
                return;
            }
            if (ph.p_type == PT_LOAD) loads_.push_back(ph);
            if (ph.p_type == PT_DYNAMIC) dynamic_ = ph;  // the last one counts, as for glibc
            if (ph.p_type != PT_NOTE || ph.p_filesz == 0) continue;
            if (!within_file(ph.p_offset, ph.p_filesz)) {
                fail(Code::truncated_elf, "is truncated: PT_NOTE segment " + std::to_string(i) + " (" +
                                              std::to_string(ph.p_filesz) + " bytes at offset " +
                                              std::to_string(ph.p_offset) + ") ends beyond the end of the file (" +
                                              std::to_string(size_) + " bytes); rebuild or re-copy it");
                return;
            }
            if (ph.p_filesz > kMaxNoteSegmentBytes) {
                fail(Code::malformed_elf, "has a PT_NOTE segment of " + std::to_string(ph.p_filesz) +
                                              " bytes; at most " + std::to_string(kMaxNoteSegmentBytes) + " are read");
                return;
            }
            if (!fetch(notes, ph.p_offset, ph.p_filesz)) return;
            if (!walk_notes(notes, ph.p_offset, ph.p_align == 8 ? 8 : 4, seen_offsets)) return;
        }
        headers_walked_ = true;
        if (seen_offsets.empty()) {
            fail(Code::no_manifest,
                 "has no plughost manifest (no ELF note owned by \"plughost\" in a PT_NOTE segment); "
                 "declare one with PLUGHOST_PLUGIN (C++) or PLUGHOST_DECLARE_PLUGIN (C) and rebuild");
        } else if (seen_offsets.size() > 1) {
            fail(Code::multiple_manifests, "has " + std::to_string(seen_offsets.size()) +
                                               " plughost manifest notes; a plugin file holds exactly one plugin: "
                                               "build each plugin as its own shared object");
            file_.manifest_json.clear();
        } else {
            finish_manifest();
        }
    }

    // Walks the notes of one segment; false when the segment is malformed.
    bool walk_notes(const std::vector<unsigned char> &seg, std::uint64_t seg_offset, std::uint64_t align,
                    std::vector<std::uint64_t> &seen_offsets) {
        auto pad = [align](std::uint64_t n) { return (n + align - 1) & ~(align - 1); };
        std::uint64_t pos = 0;
        while (seg.size() - pos >= 12) {
            std::uint32_t word[3];
            std::memcpy(word, seg.data() + pos, sizeof word);
            const std::uint64_t namesz = word[0], descsz = word[1], type = word[2];
            const std::uint64_t name_at = pos + 12;
            const std::uint64_t desc_at = pad(name_at + namesz);
            if (desc_at > seg.size() || descsz > seg.size() - desc_at) {
                fail(Code::malformed_elf, "has a malformed ELF note at offset " + std::to_string(seg_offset + pos) +
                                              ": its name and descriptor overrun the PT_NOTE segment");
                return false;
            }
            const std::string_view name(reinterpret_cast<const char *>(seg.data() + name_at),
                                        static_cast<std::size_t>(namesz));
            if (namesz == PLUGHOST_NOTE_OWNER_SIZE &&
                name == std::string_view(PLUGHOST_NOTE_OWNER, PLUGHOST_NOTE_OWNER_SIZE) &&
                type == PLUGHOST_NOTE_TYPE_MANIFEST) {
                const std::uint64_t at = seg_offset + desc_at;
                if (std::find(seen_offsets.begin(), seen_offsets.end(), at) == seen_offsets.end()) {
                    seen_offsets.push_back(at);
                    file_.manifest_json.assign(reinterpret_cast<const char *>(seg.data() + desc_at),
                                               static_cast<std::size_t>(descsz));
                }
            }
            const std::uint64_t next = desc_at + pad(descsz);
            if (next > seg.size()) break;  // the last descriptor's padding may be cut by the segment end
            pos = next;
        }
        return true;
    }

    // The dynamic linker expands $ORIGIN in a run path to the directory of the name the object
    // was opened under. The host opens plugins as /proc/<pid>/fd/N (a sealed copy of the file
    // inspected here), so $ORIGIN is /proc/<pid>/fd and a library next to the plugin is never
    // found: refuse such a plugin now, saying why, rather than let dlopen fail later.
    void check_run_paths(const Elf64_Phdr &dynamic) {
        if (dynamic.p_filesz == 0) return;
        if (!within_file(dynamic.p_offset, dynamic.p_filesz)) {
            fail(Code::truncated_elf, "is truncated: its PT_DYNAMIC segment (" + std::to_string(dynamic.p_filesz) +
                                          " bytes at offset " + std::to_string(dynamic.p_offset) +
                                          ") ends beyond the end of the file (" + std::to_string(size_) +
                                          " bytes); rebuild or re-copy it");
            return;
        }
        if (dynamic.p_filesz > kMaxDynamicSegmentBytes) {
            fail(Code::malformed_elf, "has a PT_DYNAMIC segment of " + std::to_string(dynamic.p_filesz) +
                                          " bytes; at most " + std::to_string(kMaxDynamicSegmentBytes) + " are read");
            return;
        }
        std::vector<unsigned char> bytes;
        if (!fetch(bytes, dynamic.p_offset, dynamic.p_filesz)) return;
        std::optional<std::uint64_t> strtab, strsz, runpath, rpath;
        for (std::size_t at = 0; at + sizeof(Elf64_Dyn) <= bytes.size(); at += sizeof(Elf64_Dyn)) {
            Elf64_Dyn d;
            std::memcpy(&d, bytes.data() + at, sizeof d);
            if (d.d_tag == DT_NULL) break;
            // As for glibc, the last of each tag counts.
            if (d.d_tag == DT_STRTAB) strtab = d.d_un.d_ptr;
            else if (d.d_tag == DT_STRSZ) strsz = d.d_un.d_val;
            else if (d.d_tag == DT_RUNPATH) runpath = d.d_un.d_val;
            else if (d.d_tag == DT_RPATH) rpath = d.d_un.d_val;
        }
        if (!runpath && !rpath) return;
        if (!strtab) {
            fail(Code::malformed_elf, "has a run path (DT_RUNPATH or DT_RPATH) but no string table (DT_STRTAB) "
                                      "in its dynamic section; rebuild it");
            return;
        }
        // The string table's place in the file: the PT_LOAD segment whose file bytes hold its
        // address, and no further than that segment's file bytes (or DT_STRSZ) reach.
        std::optional<std::uint64_t> table_offset;
        std::uint64_t table_size = 0;
        for (const Elf64_Phdr &load : loads_) {
            if (*strtab < load.p_vaddr || *strtab - load.p_vaddr >= load.p_filesz) continue;
            table_offset = load.p_offset + (*strtab - load.p_vaddr);
            table_size = load.p_filesz - (*strtab - load.p_vaddr);
            break;
        }
        if (!table_offset) {
            fail(Code::malformed_elf, "has a dynamic string table (DT_STRTAB at address " + std::to_string(*strtab) +
                                          ") that lies in no loadable segment of the file; rebuild it");
            return;
        }
        if (strsz) table_size = std::min(table_size, *strsz);
        for (const auto &[tag, offset] : {std::pair{"DT_RUNPATH", runpath}, std::pair{"DT_RPATH", rpath}}) {
            if (!offset) continue;
            std::string path;
            if (!read_string(*table_offset, table_size, *offset, tag, path)) return;
            if (!mentions_origin(path)) continue;
            fail(Code::origin_runpath,
                 "has the run path \"" + sanitize_line(path) + "\" (" + tag +
                     "), which uses $ORIGIN to find libraries next to the plugin; that cannot work here: the "
                     "host loads each plugin from a sealed in-memory copy of the file it inspected, named "
                     "/proc/<pid>/fd/N, so the dynamic linker expands $ORIGIN to /proc/<pid>/fd, where no "
                     "library is; link the private library statically into the plugin (a -fPIC archive, with "
                     "-Wl,--exclude-libs,ALL), or install it where the dynamic linker finds it (a system "
                     "library directory, then ldconfig) and rebuild the plugin without the $ORIGIN run path");
            return;
        }
    }

    // The NUL-terminated string at `offset` in the string table [table, table + size).
    bool read_string(std::uint64_t table, std::uint64_t size, std::uint64_t offset, const char *tag, std::string &out) {
        if (offset >= size) {
            fail(Code::malformed_elf, std::string("has a ") + tag + " whose string (at " + std::to_string(offset) +
                                          ") lies beyond its string table (" + std::to_string(size) +
                                          " bytes); rebuild it");
            return false;
        }
        const std::uint64_t n = std::min(size - offset, kMaxRunPathBytes + 1);
        std::vector<unsigned char> bytes;
        if (!fetch(bytes, table + offset, n)) return false;
        const auto end = std::find(bytes.begin(), bytes.end(), '\0');
        if (end == bytes.end()) {
            fail(Code::malformed_elf,
                 std::string("has a ") + tag + " string that " +
                     (n > kMaxRunPathBytes ? "is longer than " + std::to_string(kMaxRunPathBytes) + " bytes"
                                           : std::string("runs past the end of its string table")) +
                     "; rebuild it");
            return false;
        }
        out.assign(bytes.begin(), end);
        return true;
    }

    void finish_manifest() {
        std::string &json = file_.manifest_json;
        while (!json.empty() && json.back() == '\0') json.pop_back();
        if (json.size() > kMaxManifestBytes) {
            fail(Code::bad_manifest, "has a manifest of " + std::to_string(json.size()) + " bytes; at most " +
                                         std::to_string(kMaxManifestBytes) + " are accepted");
            json.clear();
            return;
        }
        file_.reading = read_manifest(json);
    }

    PluginFile &file_;
    std::uint64_t size_;
    std::vector<unsigned char> head_;
    // Collected while walking the program headers, for the run path check.
    std::vector<Elf64_Phdr> loads_;
    std::optional<Elf64_Phdr> dynamic_;
    bool headers_walked_ = false;
};

}  // namespace

unsigned host_machine() { return kHostMachine; }

std::string machine_name(unsigned machine) {
    switch (machine) {
    case EM_X86_64: return "x86-64";
    case EM_AARCH64: return "aarch64";
    case EM_386: return "i386";
    case EM_ARM: return "arm";
    case EM_RISCV: return "riscv";
    case EM_PPC64: return "ppc64";
    case EM_PPC: return "ppc";
    case EM_S390: return "s390x";
    case EM_MIPS: return "mips";
    case EM_SPARCV9: return "sparc64";
    case 258: return "loongarch";  // EM_LOONGARCH, absent from older <elf.h>
    default: return "machine " + std::to_string(machine);
    }
}

PluginFile read_plugin_file(const std::filesystem::path &path, bool keep_open, bool check_owner) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        const int err = errno;
        PluginFile file;
        file.path = path;
        if (err == ELOOP)
            file.reasons.push_back(
                {Code::symbolic_link, path.string() +
                                          ": is a symbolic link; plughost does not follow links in the plugin "
                                          "directory, so that the file checked is the file loaded: copy the "
                                          "plugin itself into the directory"});
        else
            file.reasons.push_back(
                {Code::io_error, path.string() + ": could not be opened (" + std::strerror(err) +
                                     "); check that it exists and is readable" +
                                     (err == EMFILE ? " (or raise the open-file limit, ulimit -n)" : "")});
        return file;
    }
    if (check_owner) {
        // The status of the descriptor opened, so the file judged is the file read.
        struct stat st {};
        if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
            if (auto unsafe = untrusted_file(path, st, ::geteuid())) {
                ::close(fd);
                PluginFile file;
                file.path = path;
                file.reasons.push_back(std::move(*unsafe));
                return file;
            }
    }
    return read_plugin_file(path, UniqueFd(fd), keep_open);
}

PluginFile read_plugin_file(const std::filesystem::path &path, UniqueFd fd, bool keep_open) {
    PluginFile file;
    file.path = path;
    file.fd = std::move(fd);
    struct stat st {};
    if (::fstat(file.fd.get(), &st) != 0) {
        file.reasons.push_back(
            {Code::io_error, path.string() + ": could not be examined (fstat: " + std::strerror(errno) + ")"});
    } else if (!S_ISREG(st.st_mode)) {
        file.reasons.push_back({Code::not_a_regular_file,
                                path.string() + ": is " + file_kind(st.st_mode) +
                                    ", not a regular file; only regular shared-object files are plugins: remove it "
                                    "from the plugin directory"});
    } else {
        Reader(file, static_cast<std::uint64_t>(st.st_size)).run();
    }
    if (!keep_open) file.fd.reset();
    return file;
}

}  // namespace plughost::host
