// bench_inspect: what reading a plugin file's manifest costs, next to the two things it sits
// between: the bare I/O of the same bytes (a floor) and dlopen of the same file (what reading
// the manifest first lets the host avoid for rejected plugins).
//
// Every benchmark iterates round-robin over its own directory of copies of the in-tree
// queue-scorer plugin, so no result comes from one hot file. One iteration is one file, except
// BM_InspectDirectory (one iteration is a whole directory; its per_file counter is per file).
// After the benchmarks the binary prints the ratios the issue sets targets for, computed from
// the figures of this very run. BM_Snapshot and BM_SnapshotDlopen measure what loading an
// admitted plugin from a sealed in-memory copy adds (no target: they are reported as ratios).
//
// Usage: bench_inspect [google benchmark flags]; bench/run.sh uses
//   bench_inspect --benchmark_repetitions=10 --benchmark_enable_random_interleaving=true
//                 --benchmark_report_aggregates_only=true
// Also: bench_inspect --make-copies DIR N [--distinct-types] writes N copies of the plugin to DIR
// (used by bench/run.sh) and exits.
#include "admission/admission.hpp"
#include "inspect/manifest_reader.hpp"
#include "load/snapshot.hpp"

#include <plughost/plugin.h>

#include <benchmark/benchmark.h>

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#ifndef PLUGHOST_BENCH_PLUGIN
#error "PLUGHOST_BENCH_PLUGIN (the path of the in-tree plugin to copy) must come from CMake"
#endif

namespace fs = std::filesystem;
namespace host = plughost::host;

namespace {

constexpr std::size_t kCopies = 300;

[[noreturn]] void die(const std::string &message) {
    std::cerr << "bench_inspect: " << message << '\n';
    std::exit(2);
}

std::vector<char> read_whole(const fs::path &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) die("cannot read " + path.string());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_whole(const fs::path &path, const std::vector<char> &bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) die("cannot write " + path.string());
}

/// A byte range of the plugin file.
struct Range {
    std::uint64_t offset;
    std::uint64_t size;
};

/// Where the reader finds what it needs in this plugin: computed once with <elf.h>.
struct Layout {
    std::array<Range, 3> ranges;  ///< ELF header, program header table, the plughost PT_NOTE segment
    Range manifest;               ///< the manifest JSON (note descriptor) inside the file
};

Layout find_layout(const std::vector<char> &file) {
    auto at = [&](std::uint64_t offset, std::uint64_t size) {
        if (offset > file.size() || size > file.size() - offset) die("the plugin is truncated");
        return file.data() + offset;
    };
    Elf64_Ehdr eh;
    std::memcpy(&eh, at(0, sizeof eh), sizeof eh);
    if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64)
        die("the plugin is not a 64-bit ELF file");
    const std::uint64_t table = std::uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr);
    const char *phdrs = at(eh.e_phoff, table);
    for (unsigned i = 0; i < eh.e_phnum; ++i) {
        Elf64_Phdr ph;
        std::memcpy(&ph, phdrs + i * sizeof ph, sizeof ph);
        if (ph.p_type != PT_NOTE) continue;
        const char *seg = at(ph.p_offset, ph.p_filesz);
        const std::uint64_t align = ph.p_align == 8 ? 8 : 4;
        auto pad = [align](std::uint64_t n) { return (n + align - 1) & ~(align - 1); };
        for (std::uint64_t pos = 0; ph.p_filesz - pos >= 12;) {
            std::uint32_t word[3];
            std::memcpy(word, seg + pos, sizeof word);
            const std::uint64_t desc_at = pad(pos + 12 + word[0]);
            if (desc_at + word[1] > ph.p_filesz) break;
            if (word[0] == PLUGHOST_NOTE_OWNER_SIZE && word[2] == PLUGHOST_NOTE_TYPE_MANIFEST &&
                std::memcmp(seg + pos + 12, PLUGHOST_NOTE_OWNER, PLUGHOST_NOTE_OWNER_SIZE) == 0)
                return {{Range{0, sizeof(Elf64_Ehdr)}, Range{eh.e_phoff, table}, Range{ph.p_offset, ph.p_filesz}},
                        Range{ph.p_offset + desc_at, word[1]}};
            pos = desc_at + pad(word[1]);
        }
    }
    die("the plugin has no plughost manifest note");
}

/// Copies of the plugin. With `distinct_types`, copy i declares the type "<type minus its last
/// four characters><i as 4 digits>" (same length, rewritten in place in the note), so that a
/// directory of copies is admitted like a directory of different plugins instead of being
/// rejected for duplicate types.
std::vector<fs::path> make_copies(const fs::path &dir, std::size_t count, bool distinct_types,
                                  std::size_t first_index = 0) {
    const std::vector<char> original = read_whole(PLUGHOST_BENCH_PLUGIN);
    fs::create_directories(dir);
    std::vector<fs::path> paths;
    std::optional<std::size_t> type_at;  // offset of the type's last four characters
    if (distinct_types) {
        const Layout layout = find_layout(original);
        const std::string_view json(original.data() + layout.manifest.offset, layout.manifest.size);
        constexpr std::string_view key = "\"type\":\"";
        const auto start = json.find(key);
        const auto end = start == std::string_view::npos ? start : json.find('"', start + key.size());
        if (end == std::string_view::npos || end - (start + key.size()) < 5)
            die("cannot find a type of 5 or more characters in the manifest to rewrite");
        type_at = layout.manifest.offset + end - 4;
        if (count + first_index > 10000) die("at most 10000 distinct types");
    }
    std::vector<char> bytes = original;
    for (std::size_t i = first_index; i < first_index + count; ++i) {
        char name[64];
        std::snprintf(name, sizeof name, "copy-%05zu.so", i);
        if (type_at) {
            char digits[5];
            std::snprintf(digits, sizeof digits, "%04zu", i);
            std::memcpy(bytes.data() + *type_at, digits, 4);
        }
        paths.push_back(dir / name);
        write_whole(paths.back(), bytes);
    }
    return paths;
}

/// The files every benchmark uses, created once and removed at exit.
struct Fixture {
    fs::path root;
    Layout layout;
    std::vector<fs::path> inspect_files;   ///< identical copies: BM_RawRead, BM_Inspect, BM_InspectDirectory/identical
    std::vector<fs::path> distinct_files;  ///< one type each: BM_InspectDirectory/distinct
    std::vector<fs::path> dlopen_files;    ///< only ever dlopened
    bool first_copy_pinned = false;        ///< the first copy loaded stays mapped after dlclose
    bool dlclose_unmaps = false;           ///< later copies are unmapped by dlclose (dl_iterate_phdr)
    std::size_t next_dlopen_batch = 1;

    Fixture() {
        const fs::path base = fs::temp_directory_path() / "plughost-bench-XXXXXX";
        std::string templ = base.string();
        if (!::mkdtemp(templ.data())) die("cannot create a temporary directory under " + base.parent_path().string());
        root = templ;
        layout = find_layout(read_whole(PLUGHOST_BENCH_PLUGIN));
        inspect_files = make_copies(root / "inspect", kCopies, false);
        distinct_files = make_copies(root / "distinct", kCopies, true);
        dlopen_files = make_copies(root / "dlopen", kCopies, false);
        check_plugin();
        probe_dlclose();
    }
    ~Fixture() {
        std::error_code ec;
        fs::remove_all(root, ec);
    }

    // Benchmarks of an error path would be meaningless: the copies must be good plugins.
    void check_plugin() const {
        for (const auto *files : {&inspect_files, &distinct_files}) {
            const host::PluginFile f = host::read_plugin_file(files->front(), false);
            if (!f.reasons.empty() || !f.reading || !f.reading->manifest)
                die(f.path.string() + " is not a valid plugin: " +
                    (f.reasons.empty() ? std::string("invalid manifest") : f.reasons.front().message));
        }
        auto admission = host::admit_directory(root / "distinct", host::foundation_rules(), false);
        if (admission.candidates.size() != kCopies ||
            !std::all_of(admission.candidates.begin(), admission.candidates.end(),
                         [](const host::Candidate &c) { return c.admitted(); }))
            die("the copies with distinct types are not all admitted");
    }

    // Does dlclose really unmap the plugin? A library that stays loaded would make every later
    // dlopen of the same path a mere refcount increment. Two copies are probed: glibc pins
    // (marks NODELETE) the first object that defines an STB_GNU_UNIQUE symbol (libstdc++'s
    // inline statics, e.g. the to_chars digit table), while later copies bind to that first
    // definition and unload normally. The first probe copy plays the part of a host's first
    // plugin; the benchmark needs to know about the steady state, the second copy.
    void probe_dlclose() {
        const std::vector<fs::path> probes = make_copies(root / "probe", 2, false);
        for (std::size_t i = 0; i < probes.size(); ++i) {
            const int before = mapped_under(root / "probe");
            void *h = ::dlopen(probes[i].c_str(), RTLD_NOW | RTLD_LOCAL);
            if (!h) die(std::string("dlopen failed: ") + ::dlerror());
            if (mapped_under(root / "probe") != before + 1) die("dl_iterate_phdr does not show the loaded plugin");
            ::dlclose(h);
            const bool unmapped = mapped_under(root / "probe") == before;
            if (i == 0) first_copy_pinned = !unmapped;
            else dlclose_unmaps = unmapped;
        }
    }

    /// Number of loaded objects whose file is in `dir`.
    static int mapped_under(const fs::path &dir) {
        struct Query {
            std::string prefix;
            int count = 0;
        } query{dir.string() + "/"};
        ::dl_iterate_phdr(
            [](dl_phdr_info *info, std::size_t, void *data) {
                auto *q = static_cast<Query *>(data);
                if (info->dlpi_name && std::string_view(info->dlpi_name).starts_with(q->prefix)) ++q->count;
                return 0;
            },
            &query);
        return query.count;
    }

    /// When dlclose does not unmap, a fresh batch of never-loaded copies.
    void add_dlopen_batch() {
        auto more = make_copies(root / ("dlopen-" + std::to_string(next_dlopen_batch)), kCopies, false,
                                next_dlopen_batch * kCopies);
        ++next_dlopen_batch;
        dlopen_files.insert(dlopen_files.end(), more.begin(), more.end());
    }
};

Fixture *fixture = nullptr;

void BM_RawRead(benchmark::State &state) {
    const auto &files = fixture->inspect_files;
    const auto &ranges = fixture->layout.ranges;
    std::vector<char> buffer(std::max({ranges[0].size, ranges[1].size, ranges[2].size}));
    std::size_t i = 0;
    for (auto _ : state) {
        const int fd = ::open(files[i].c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) {
            state.SkipWithError("open failed");
            break;
        }
        for (const Range &r : ranges)
            if (::pread(fd, buffer.data(), r.size, static_cast<off_t>(r.offset)) != static_cast<ssize_t>(r.size))
                state.SkipWithError("short read");
        benchmark::DoNotOptimize(buffer.data());
        benchmark::ClobberMemory();
        ::close(fd);
        i = i + 1 == files.size() ? 0 : i + 1;
    }
}
BENCHMARK(BM_RawRead)->Unit(benchmark::kMicrosecond);

// The reader's own system calls, no parsing: open, fstat, one pread of the first 4 KiB, close.
// Not a target, but it splits BM_Inspect into I/O and user-space work.
void BM_RawHead(benchmark::State &state) {
    const auto &files = fixture->inspect_files;
    std::vector<char> buffer(4096);
    std::size_t i = 0;
    for (auto _ : state) {
        const int fd = ::open(files[i].c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        struct stat st {};
        if (fd < 0 || ::fstat(fd, &st) != 0) {
            state.SkipWithError("open or fstat failed");
            break;
        }
        const auto n = std::min<std::size_t>(buffer.size(), static_cast<std::size_t>(st.st_size));
        if (::pread(fd, buffer.data(), n, 0) != static_cast<ssize_t>(n)) state.SkipWithError("short read");
        benchmark::DoNotOptimize(buffer.data());
        benchmark::ClobberMemory();
        ::close(fd);
        i = i + 1 == files.size() ? 0 : i + 1;
    }
}
BENCHMARK(BM_RawHead)->Unit(benchmark::kMicrosecond);

void BM_Inspect(benchmark::State &state) {
    const auto &files = fixture->inspect_files;
    std::size_t i = 0;
    for (auto _ : state) {
        host::PluginFile file = host::read_plugin_file(files[i], false);
        if (!file.reading || !file.reading->manifest) {
            state.SkipWithError("the manifest was not read");
            break;
        }
        benchmark::DoNotOptimize(file);
        i = i + 1 == files.size() ? 0 : i + 1;
    }
}
BENCHMARK(BM_Inspect)->Unit(benchmark::kMicrosecond);

void BM_Dlopen(benchmark::State &state) {
    auto &files = fixture->dlopen_files;
    // When dlclose unmaps, round-robin over the copies maps a fresh file every time. When it
    // does not, every iteration takes a never-loaded copy and a new batch is written (outside
    // the timing) when they run out; either way no dlopen is a mere refcount increment.
    const bool reuse = fixture->dlclose_unmaps;
    static std::size_t next_unused = 0;
    std::size_t i = 0;
    for (auto _ : state) {
        if (!reuse && next_unused == files.size()) {
            state.PauseTiming();
            fixture->add_dlopen_batch();
            state.ResumeTiming();
        }
        const fs::path &path = reuse ? files[i] : files[next_unused++];
        void *h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            state.SkipWithError(::dlerror());
            break;
        }
        ::dlclose(h);
        i = i + 1 == files.size() ? 0 : i + 1;
    }
    // How many copies are still mapped after dlclose: 0 when the library really unloads.
    int mapped = 0;
    for (std::size_t b = 0; b < fixture->next_dlopen_batch; ++b)
        mapped +=
            Fixture::mapped_under(fixture->root / (b == 0 ? std::string("dlopen") : "dlopen-" + std::to_string(b)));
    state.counters["still_mapped"] = mapped;
    state.SetLabel(reuse ? "dlclose unmaps: round-robin" : "dlclose keeps it mapped: fresh file per dlopen");
}
BENCHMARK(BM_Dlopen)->Unit(benchmark::kMicrosecond);

/// Descriptors of the inspection copies, opened once: the loader snapshots a descriptor that
/// admission already holds, so opening the file is not part of the snapshot's cost.
std::vector<host::UniqueFd> open_all(const std::vector<fs::path> &files) {
    std::vector<host::UniqueFd> fds;
    for (const auto &path : files) {
        fds.emplace_back(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
        if (!fds.back()) die("cannot open " + path.string());
    }
    return fds;
}

// What loading from a snapshot adds: memfd_create, pread+write of the whole file into it, the
// seals, and closing it (freeing its memory).
void BM_Snapshot(benchmark::State &state) {
    const auto &files = fixture->inspect_files;
    const std::vector<host::UniqueFd> fds = open_all(files);
    std::size_t i = 0;
    for (auto _ : state) {
        host::SnapshotResult taken = host::snapshot_file(files[i], fds[i].get());
        if (!taken.snapshot) {
            state.SkipWithError(taken.error->message.c_str());
            break;
        }
        benchmark::DoNotOptimize(taken.snapshot->fd.get());
        i = i + 1 == files.size() ? 0 : i + 1;
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(fs::file_size(files.front())));
}
BENCHMARK(BM_Snapshot)->Unit(benchmark::kMicrosecond);

/// Loaded objects named /proc/<pid>/fd/...: 0 when every snapshot really unloaded.
int mapped_from_proc() {
    struct Query {
        std::string prefix = "/proc/" + std::to_string(::getpid()) + "/fd/";
        int count = 0;
    } query;
    ::dl_iterate_phdr(
        [](dl_phdr_info *info, std::size_t, void *data) {
            auto *q = static_cast<Query *>(data);
            if (info->dlpi_name && std::string_view(info->dlpi_name).starts_with(q->prefix)) ++q->count;
            return 0;
        },
        &query);
    return query.count;
}

// The loader's mapping path next to BM_Dlopen: snapshot, dlopen of /proc/<pid>/fd/<memfd>
// (RTLD_NOW|RTLD_LOCAL), dlclose, close. Each snapshot is a new file, so no dlopen is a
// reference count increment. (The loader also re-reads the manifest from the snapshot: that is
// one BM_Inspect minus the open.)
void BM_SnapshotDlopen(benchmark::State &state) {
    const auto &files = fixture->inspect_files;
    const std::vector<host::UniqueFd> fds = open_all(files);
    const std::string prefix = "/proc/" + std::to_string(::getpid()) + "/fd/";
    std::size_t i = 0;
    for (auto _ : state) {
        host::SnapshotResult taken = host::snapshot_file(files[i], fds[i].get());
        if (!taken.snapshot) {
            state.SkipWithError(taken.error->message.c_str());
            break;
        }
        const std::string name = prefix + std::to_string(taken.snapshot->fd.get());
        void *h = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            state.SkipWithError(::dlerror());
            break;
        }
        ::dlclose(h);
        i = i + 1 == files.size() ? 0 : i + 1;
    }
    state.counters["still_mapped"] = mapped_from_proc();
}
BENCHMARK(BM_SnapshotDlopen)->Unit(benchmark::kMicrosecond);

// The `plughost list` path without output: discovery, one read per file, the foundation rules.
// identical: 300 copies of one plugin, all rejected as duplicates of each other (the rule's
// message names the 299 others). distinct: 300 copies with one type each, all admitted.
void BM_InspectDirectory(benchmark::State &state) {
    const bool distinct = state.range(0) != 0;
    const fs::path dir = fixture->root / (distinct ? "distinct" : "inspect");
    const std::vector<host::Rule> rules = host::foundation_rules();
    for (auto _ : state) {
        host::Admission admission = host::admit_directory(dir, rules, false);
        if (admission.candidates.size() != kCopies) {
            state.SkipWithError("not every copy was read");
            break;
        }
        benchmark::DoNotOptimize(admission);
    }
    state.counters["per_file"] = benchmark::Counter(
        static_cast<double>(kCopies), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
    state.SetLabel(distinct ? "300 distinct types, all admitted" : "300 identical copies, all duplicates");
}
BENCHMARK(BM_InspectDirectory)->ArgName("distinct")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

/// Time per iteration of one benchmark, in microseconds.
struct Timing {
    double real_us;
    double cpu_us;
};

/// Prints as the console reporter does and keeps each benchmark's time per iteration.
class CollectingReporter : public benchmark::ConsoleReporter {
public:
    // Colours only on a terminal (a reporter passed in does not follow --benchmark_color).
    CollectingReporter() : ConsoleReporter(::isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular) {}

    void ReportRuns(const std::vector<Run> &runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const Run &run : runs) {
            if (run.error_occurred) continue;
            const std::string name =
                run.run_name.function_name + (run.run_name.args.empty() ? "" : "/" + run.run_name.args);
            const double scale = to_microseconds(run.time_unit);
            const Timing t{run.GetAdjustedRealTime() * scale, run.GetAdjustedCPUTime() * scale};
            Figures &f = figures_[name];
            if (run.run_type == Run::RT_Aggregate) {
                if (run.aggregate_name == "median") f.median = t;
            } else {
                f.sum.real_us += t.real_us;
                f.sum.cpu_us += t.cpu_us;
                ++f.count;
            }
        }
    }

    /// The median over repetitions, or else the mean of the runs.
    std::optional<Timing> per_iteration(const std::string &name) const {
        const auto it = figures_.find(name);
        if (it == figures_.end()) return std::nullopt;
        const Figures &f = it->second;
        if (f.median) return f.median;
        if (f.count) return Timing{f.sum.real_us / f.count, f.sum.cpu_us / f.count};
        return std::nullopt;
    }

private:
    struct Figures {
        std::optional<Timing> median;
        Timing sum{0, 0};
        int count = 0;
    };
    static double to_microseconds(benchmark::TimeUnit unit) {
        switch (unit) {
        case benchmark::kNanosecond: return 1e-3;
        case benchmark::kMicrosecond: return 1;
        case benchmark::kMillisecond: return 1e3;
        case benchmark::kSecond: return 1e6;
        }
        return 1;
    }
    std::map<std::string, Figures> figures_;
};

void print_summary(const CollectingReporter &reporter) {
    const auto raw = reporter.per_iteration("BM_RawRead");
    const auto inspect = reporter.per_iteration("BM_Inspect");
    const auto dlopen = reporter.per_iteration("BM_Dlopen");
    std::printf("\nPer file (median over repetitions when repeated)       real        CPU\n");
    auto line = [](const char *what, std::optional<Timing> t, double divisor = 1) {
        if (t) std::printf("  %-48s %8.2f us %8.2f us\n", what, t->real_us / divisor, t->cpu_us / divisor);
    };
    line("raw open+pread+close (BM_RawRead)", raw);
    std::printf("    (3 preads: ELF header %llu B at %llu, program headers %llu B at %llu, PT_NOTE %llu B at %llu)\n",
                static_cast<unsigned long long>(fixture->layout.ranges[0].size),
                static_cast<unsigned long long>(fixture->layout.ranges[0].offset),
                static_cast<unsigned long long>(fixture->layout.ranges[1].size),
                static_cast<unsigned long long>(fixture->layout.ranges[1].offset),
                static_cast<unsigned long long>(fixture->layout.ranges[2].size),
                static_cast<unsigned long long>(fixture->layout.ranges[2].offset));
    line("open+fstat+pread 4 KiB+close (BM_RawHead)", reporter.per_iteration("BM_RawHead"));
    line("inspection (BM_Inspect)", inspect);
    line("dlopen+dlclose (BM_Dlopen)", dlopen);
    const auto snapshot = reporter.per_iteration("BM_Snapshot");
    const auto snapshot_dlopen = reporter.per_iteration("BM_SnapshotDlopen");
    line("snapshot: memfd+copy+seal+close (BM_Snapshot)", snapshot);
    line("snapshot+dlopen+dlclose (BM_SnapshotDlopen)", snapshot_dlopen);
    std::printf("    (the plugin file is %llu B)\n",
                static_cast<unsigned long long>(fs::file_size(fixture->inspect_files.front())));
    line("admit_directory, identical copies", reporter.per_iteration("BM_InspectDirectory/distinct:0"), kCopies);
    line("admit_directory, distinct types", reporter.per_iteration("BM_InspectDirectory/distinct:1"), kCopies);
    std::printf("dlclose unmaps the plugin: %s (the first copy loaded in the process %s)\n",
                fixture->dlclose_unmaps ? "yes" : "no",
                fixture->first_copy_pinned ? "stays mapped: it owns STB_GNU_UNIQUE symbols" : "is unmapped too");
    // The targets are judged on real time; CPU time is shown because it is less disturbed by
    // other processes on a busy machine.
    if (inspect && raw)
        std::printf("inspect/raw = %.2f (target <= 3): %s   [CPU time: %.2f]\n", inspect->real_us / raw->real_us,
                    inspect->real_us / raw->real_us <= 3 ? "met" : "MISSED", inspect->cpu_us / raw->cpu_us);
    if (inspect && dlopen)
        std::printf("inspect/dlopen = %.3f (target <= 0.15): %s   [CPU time: %.3f]\n",
                    inspect->real_us / dlopen->real_us, inspect->real_us / dlopen->real_us <= 0.15 ? "met" : "MISSED",
                    inspect->cpu_us / dlopen->cpu_us);
    // Loading from a snapshot has no target; these say what it costs next to the two figures
    // the targets use.
    if (snapshot && inspect)
        std::printf("snapshot/inspect = %.2f   [CPU time: %.2f]\n", snapshot->real_us / inspect->real_us,
                    snapshot->cpu_us / inspect->cpu_us);
    if (snapshot && dlopen)
        std::printf("snapshot/dlopen = %.3f   [CPU time: %.3f]\n", snapshot->real_us / dlopen->real_us,
                    snapshot->cpu_us / dlopen->cpu_us);
    if (snapshot_dlopen && dlopen)
        std::printf("(snapshot+dlopen)/dlopen = %.3f   [CPU time: %.3f]\n", snapshot_dlopen->real_us / dlopen->real_us,
                    snapshot_dlopen->cpu_us / dlopen->cpu_us);
}

}  // namespace

int main(int argc, char **argv) {
    if (argc >= 4 && std::string_view(argv[1]) == "--make-copies") {
        const bool distinct = argc >= 5 && std::string_view(argv[4]) == "--distinct-types";
        char *end = nullptr;
        const unsigned long count = std::strtoul(argv[3], &end, 10);
        if (*end || count == 0) die("usage: bench_inspect --make-copies DIR N [--distinct-types]");
        make_copies(argv[2], count, distinct);
        return 0;
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    Fixture files;
    fixture = &files;
    CollectingReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    print_summary(reporter);
    fixture = nullptr;
    return 0;
}
