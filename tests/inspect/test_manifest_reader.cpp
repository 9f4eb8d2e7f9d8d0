// Reading manifests straight from plugin files, including hostile and broken ones.
#include "inspect/manifest_reader.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cstring>

using namespace plughost::host;
using namespace plughost::test;

namespace {

bool has_reason(const PluginFile &f, Code code, const std::string &text = "") {
    for (const auto &r : f.reasons)
        if (r.code == code && contains(r.message, text)) return true;
    return false;
}

std::string dump(const PluginFile &f) {
    std::string s;
    for (const auto &r : f.reasons) s += std::string(to_string(r.code)) + ": " + r.message + "\n";
    return s;
}

// Offset of the program header that holds `file`'s plughost note.
std::uint64_t note_phdr_offset(const std::filesystem::path &file) {
    const std::string bytes = read_file(file);
    Elf64_Ehdr eh;
    std::memcpy(&eh, bytes.data(), sizeof eh);
    for (unsigned i = 0; i < eh.e_phnum; ++i) {
        Elf64_Phdr ph;
        const std::uint64_t at = eh.e_phoff + i * sizeof ph;
        std::memcpy(&ph, bytes.data() + at, sizeof ph);
        if (ph.p_type == PT_NOTE && bytes.substr(ph.p_offset, ph.p_filesz).find("plughost") != std::string::npos)
            return at;
    }
    FAIL("no PT_NOTE with the plughost note in " << file);
    return 0;
}

// File offsets of `file`'s PT_DYNAMIC program header and of its first dynamic entry tagged `tag`.
struct DynamicAt {
    std::uint64_t phdr = 0;
    std::uint64_t entry = 0;
};
DynamicAt dynamic_entry(const std::filesystem::path &file, std::int64_t tag) {
    const std::string bytes = read_file(file);
    Elf64_Ehdr eh;
    std::memcpy(&eh, bytes.data(), sizeof eh);
    for (unsigned i = 0; i < eh.e_phnum; ++i) {
        Elf64_Phdr ph;
        const std::uint64_t at = eh.e_phoff + i * sizeof ph;
        std::memcpy(&ph, bytes.data() + at, sizeof ph);
        if (ph.p_type != PT_DYNAMIC) continue;
        for (std::uint64_t d = ph.p_offset; d + sizeof(Elf64_Dyn) <= ph.p_offset + ph.p_filesz;
             d += sizeof(Elf64_Dyn)) {
            Elf64_Dyn dyn;
            std::memcpy(&dyn, bytes.data() + d, sizeof dyn);
            if (dyn.d_tag == tag) return {at, d};
        }
    }
    FAIL("no dynamic entry with tag " << tag << " in " << file);
    return {};
}

template <class T> std::vector<std::uint8_t> le(T value) {
    std::vector<std::uint8_t> out(sizeof(T));
    std::memcpy(out.data(), &value, sizeof(T));
    return out;
}

}  // namespace

TEST_CASE("a plugin written in C: its manifest is read without loading it") {
    const auto f = read_plugin_file(paths::good_scorer, false);
    CHECK_MESSAGE(f.reasons.empty(), dump(f));
    REQUIRE(f.reading);
    REQUIRE(f.reading->manifest);
    CHECK(f.reading->manifest->type == "good-scorer");
    CHECK(f.reading->manifest->stability == Stability::stable);
    CHECK(!f.fd);
}

TEST_CASE("an in-tree C++ plugin: the manifest rendered at compile time is valid") {
    const auto f = read_plugin_file(paths::plugin_queue_scorer, true);
    CHECK_MESSAGE(f.reasons.empty(), dump(f));
    REQUIRE(f.reading->manifest);
    CHECK(f.reading->manifest->type == "queue-scorer");
    CHECK(f.fd);  // kept open: loading will use this very descriptor
}

TEST_CASE("no manifest note") {
    const auto f = read_plugin_file(paths::no_note, false);
    CHECK(has_reason(f, Code::no_manifest, "PLUGHOST_PLUGIN"));
    CHECK(!f.reading);
}

TEST_CASE("a note that is not JSON, and a note missing a mandatory field") {
    const auto not_json = read_plugin_file(paths::note_not_json, false);
    CHECK(not_json.reasons.empty());
    REQUIRE(not_json.reading);
    REQUIRE(not_json.reading->errors.size() == 1);
    CHECK(contains(not_json.reading->errors[0].message, "is not valid JSON"));

    const auto missing = read_plugin_file(paths::missing_mandatory_field, false);
    REQUIRE(missing.reading);
    CHECK(!missing.reading->manifest);
    REQUIRE(missing.reading->errors.size() == 1);
    CHECK(missing.reading->errors[0].field == "stability");
}

TEST_CASE("two manifest notes in one file") {
    CHECK(has_reason(read_plugin_file(paths::two_manifests, false), Code::multiple_manifests, "has 2"));
}

TEST_CASE("files that are not ELF at all") {
    TempDir dir;
    write_file(dir / "text.so", "#!/bin/sh\necho hi\n");
    CHECK(has_reason(read_plugin_file(dir / "text.so", false), Code::not_elf, "text.so: is not an ELF file"));
    write_file(dir / "empty.so", "");
    CHECK(has_reason(read_plugin_file(dir / "empty.so", false), Code::not_elf));
}

TEST_CASE("truncated ELF files, cut at every length, never crash and are refused") {
    TempDir dir;
    const std::string whole = read_file(paths::good_scorer);
    CHECK(has_reason(read_plugin_file(copy_to(paths::good_scorer, dir / "a.so"), false), Code::truncated_elf) == false);

    write_file(dir / "cut40.so", whole.substr(0, 40));
    CHECK(has_reason(read_plugin_file(dir / "cut40.so", false), Code::truncated_elf,
                     "shorter than a 64-byte ELF header"));
    write_file(dir / "cut100.so", whole.substr(0, 100));
    CHECK(has_reason(read_plugin_file(dir / "cut100.so", false), Code::truncated_elf, "program header table"));

    for (std::size_t size = 0; size < 4200; size += 7) {
        write_file(dir / "cut.so", whole.substr(0, size));
        const auto f = read_plugin_file(dir / "cut.so", false);
        const bool refused = !f.reasons.empty();
        const bool manifest_complete = f.reading && f.reading->manifest;
        CHECK_MESSAGE((refused || manifest_complete), "size " << size);
    }
}

TEST_CASE("a FIFO, a directory and a symlink named .so are neither read nor followed") {
    TempDir dir;
    REQUIRE(::mkfifo((dir / "pipe.so").c_str(), 0600) == 0);
    // Opening a FIFO for reading would block forever without O_NONBLOCK; reading it would too.
    CHECK(has_reason(read_plugin_file(dir / "pipe.so", false), Code::not_a_regular_file, "FIFO"));
    std::filesystem::create_directory(dir / "dir.so");
    CHECK(has_reason(read_plugin_file(dir / "dir.so", false), Code::not_a_regular_file, "directory"));
    std::filesystem::create_symlink(paths::good_scorer, dir / "link.so");
    CHECK(has_reason(read_plugin_file(dir / "link.so", false), Code::symbolic_link, "copy the plugin itself"));
    CHECK(has_reason(read_plugin_file(dir / "absent.so", false), Code::io_error, "No such file"));
}

TEST_CASE("foreign class, endianness and machine are refused with the architecture named") {
    TempDir dir;
    const auto cls = copy_to(paths::good_scorer, dir / "class32.so");
    patch_bytes(cls, EI_CLASS, {ELFCLASS32});
    CHECK(has_reason(read_plugin_file(cls, false), Code::wrong_architecture, "32-bit (ELFCLASS32)"));

    const auto endian = copy_to(paths::good_scorer, dir / "bigendian.so");
    patch_bytes(endian, EI_DATA, {ELFDATA2MSB});
    CHECK(has_reason(read_plugin_file(endian, false), Code::wrong_architecture, "big-endian"));

    const auto machine = copy_to(paths::good_scorer, dir / "aarch64.so");
    patch_bytes(machine, offsetof(Elf64_Ehdr, e_machine), le<std::uint16_t>(EM_AARCH64));
    const auto f = read_plugin_file(machine, false);
    CHECK_MESSAGE(has_reason(f, Code::wrong_architecture, "is built for aarch64, this host is x86-64"), dump(f));
    REQUIRE(f.reading);  // same layout: the manifest is still shown to the operator
    CHECK(f.reading->type == "good-scorer");

    const auto exec = copy_to(paths::good_scorer, dir / "exec.so");
    patch_bytes(exec, offsetof(Elf64_Ehdr, e_type), le<std::uint16_t>(ET_EXEC));
    CHECK(has_reason(read_plugin_file(exec, false), Code::not_a_shared_object, "ET_EXEC (an executable)"));
}

TEST_CASE("stripped, and with section headers zeroed, the manifest is still found") {
    const auto stripped = read_plugin_file(paths::stripped_scorer, false);
    CHECK_MESSAGE(stripped.reasons.empty(), dump(stripped));
    REQUIRE(stripped.reading->manifest);
    CHECK(stripped.reading->manifest->type == "good-scorer");

    TempDir dir;
    const auto bare = copy_to(paths::stripped_scorer, dir / "no-sections.so");
    patch_bytes(bare, offsetof(Elf64_Ehdr, e_shoff), le<std::uint64_t>(0));
    patch_bytes(bare, offsetof(Elf64_Ehdr, e_shnum), le<std::uint16_t>(0));
    patch_bytes(bare, offsetof(Elf64_Ehdr, e_shstrndx), le<std::uint16_t>(0));
    const auto f = read_plugin_file(bare, false);
    CHECK_MESSAGE(f.reasons.empty(), dump(f));
    REQUIRE(f.reading->manifest);
    CHECK(f.reading->manifest->type == "good-scorer");
}

TEST_CASE("hostile headers: every offset and size is checked against the file") {
    TempDir dir;
    const auto phnum = copy_to(paths::good_scorer, dir / "phnum.so");
    patch_bytes(phnum, offsetof(Elf64_Ehdr, e_phnum), le<std::uint16_t>(0xffff));
    CHECK(has_reason(read_plugin_file(phnum, false), Code::malformed_elf, "program headers"));

    const auto phentsize = copy_to(paths::good_scorer, dir / "phentsize.so");
    patch_bytes(phentsize, offsetof(Elf64_Ehdr, e_phentsize), le<std::uint16_t>(12));
    CHECK(has_reason(read_plugin_file(phentsize, false), Code::malformed_elf, "e_phentsize"));

    const auto phoff = copy_to(paths::good_scorer, dir / "phoff.so");
    patch_bytes(phoff, offsetof(Elf64_Ehdr, e_phoff), le<std::uint64_t>(~0ull - 8));
    CHECK(has_reason(read_plugin_file(phoff, false), Code::truncated_elf, "program header table"));

    const auto note_at = note_phdr_offset(paths::good_scorer);
    const auto offset = copy_to(paths::good_scorer, dir / "note-offset.so");
    patch_bytes(offset, note_at + offsetof(Elf64_Phdr, p_offset), le<std::uint64_t>(~0ull - 16));
    CHECK(has_reason(read_plugin_file(offset, false), Code::truncated_elf, "PT_NOTE segment"));

    const auto size = copy_to(paths::good_scorer, dir / "note-size.so");
    patch_bytes(size, note_at + offsetof(Elf64_Phdr, p_filesz), le<std::uint64_t>(~0ull));
    CHECK(has_reason(read_plugin_file(size, false), Code::truncated_elf, "PT_NOTE segment"));

    // A note whose descriptor size runs past its segment.
    const std::string bytes = read_file(paths::good_scorer);
    Elf64_Phdr ph;
    std::memcpy(&ph, bytes.data() + note_at, sizeof ph);
    const auto name_at = bytes.find("plughost", ph.p_offset);
    const auto descsz = copy_to(paths::good_scorer, dir / "descsz.so");
    patch_bytes(descsz, name_at - 8, le<std::uint32_t>(0x7fffffff));
    CHECK(has_reason(read_plugin_file(descsz, false), Code::malformed_elf, "overrun"));
}

TEST_CASE("a run path with $ORIGIN is refused at inspection, saying what was found, why and what to do") {
    const auto runpath = read_plugin_file(paths::origin_runpath_scorer, false);
    CHECK_MESSAGE(has_reason(runpath, Code::origin_runpath, "has the run path \"$ORIGIN\" (DT_RUNPATH)"),
                  dump(runpath));
    CHECK(has_reason(runpath, Code::origin_runpath, "/proc/<pid>/fd"));
    CHECK(has_reason(runpath, Code::origin_runpath, "link the private library statically"));
    CHECK(has_reason(runpath, Code::origin_runpath, "ldconfig"));
    REQUIRE(runpath.reading);  // the manifest is still read, so list shows what the file is
    CHECK(runpath.reading->manifest->type == "origin-runpath-scorer");
    const auto rpath = read_plugin_file(paths::origin_rpath_scorer, false);
    CHECK_MESSAGE(has_reason(rpath, Code::origin_runpath, "\"${ORIGIN}/../lib\" (DT_RPATH)"), dump(rpath));
    // An absolute run path is the dynamic linker's business, not the host's; no run path at all too.
    const auto absolute = read_plugin_file(paths::absolute_runpath_scorer, false);
    CHECK_MESSAGE(absolute.reasons.empty(), dump(absolute));
    const auto none = read_plugin_file(paths::missing_library_scorer, false);
    CHECK_MESSAGE(none.reasons.empty(), dump(none));
}

TEST_CASE("hostile dynamic sections: every address, offset and size is checked against the file") {
    TempDir dir;
    const auto runpath = dynamic_entry(paths::origin_runpath_scorer, DT_RUNPATH);
    const auto strtab = dynamic_entry(paths::origin_runpath_scorer, DT_STRTAB);

    const auto offset = copy_to(paths::origin_runpath_scorer, dir / "dynamic-offset.so");
    patch_bytes(offset, runpath.phdr + offsetof(Elf64_Phdr, p_offset), le<std::uint64_t>(~0ull - 16));
    CHECK(has_reason(read_plugin_file(offset, false), Code::truncated_elf, "PT_DYNAMIC segment"));

    const auto size = copy_to(paths::origin_runpath_scorer, dir / "dynamic-size.so");
    patch_bytes(size, runpath.phdr + offsetof(Elf64_Phdr, p_filesz), le<std::uint64_t>(~0ull));
    CHECK(has_reason(read_plugin_file(size, false), Code::truncated_elf, "PT_DYNAMIC segment"));

    const auto table = copy_to(paths::origin_runpath_scorer, dir / "strtab.so");
    patch_bytes(table, strtab.entry + offsetof(Elf64_Dyn, d_un), le<std::uint64_t>(~0ull - 4));
    CHECK(has_reason(read_plugin_file(table, false), Code::malformed_elf, "lies in no loadable segment"));

    const auto string = copy_to(paths::origin_runpath_scorer, dir / "runpath-offset.so");
    patch_bytes(string, runpath.entry + offsetof(Elf64_Dyn, d_un), le<std::uint64_t>(~0ull - 4));
    CHECK(has_reason(read_plugin_file(string, false), Code::malformed_elf, "beyond its string table"));

    // A run path whose string table is said to end inside it: no byte past DT_STRSZ is read.
    const auto strsz = dynamic_entry(paths::origin_runpath_scorer, DT_STRSZ);
    const std::string bytes = read_file(paths::origin_runpath_scorer);
    Elf64_Dyn path_entry;
    std::memcpy(&path_entry, bytes.data() + runpath.entry, sizeof path_entry);
    const auto cut = copy_to(paths::origin_runpath_scorer, dir / "strsz.so");
    patch_bytes(cut, strsz.entry + offsetof(Elf64_Dyn, d_un), le<std::uint64_t>(path_entry.d_un.d_val + 3));
    CHECK(has_reason(read_plugin_file(cut, false), Code::malformed_elf, "runs past the end of its string table"));

    // No DT_STRTAB at all (its tag overwritten): a run path with no table to read it from.
    const auto untagged = copy_to(paths::origin_runpath_scorer, dir / "no-strtab.so");
    patch_bytes(untagged, strtab.entry + offsetof(Elf64_Dyn, d_tag), le<std::int64_t>(DT_DEBUG));
    CHECK(has_reason(read_plugin_file(untagged, false), Code::malformed_elf, "no string table"));
}

TEST_CASE("the same bytes through an open descriptor") {
    const int fd = ::open(paths::good_scorer.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    const auto f = read_plugin_file("described.so", UniqueFd(fd), true);
    CHECK(f.reasons.empty());
    CHECK(f.fd.get() == fd);
}
