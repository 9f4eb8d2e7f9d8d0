// Arbitrary event streams through the whole runner (parse, endpoint table, scheduler with the
// in-tree plugins of the default config from $PLUGHOST_PLUGIN_DIR, output lines). Every output line must be one valid
// JSON object, and no input line may give more than one output line.
#include "common/json.hpp"
#include "load/instantiation.hpp"
#include "plan/preflight.hpp"
#include "run/output_sink.hpp"
#include "run/runner.hpp"

#include <spdlog/spdlog.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

namespace {

using namespace plughost::host;

struct World {
    Preflight pf;
    LiveInstances live;
    std::unique_ptr<Scheduler> scheduler;
    int out = ::memfd_create("fuzz-runner-output", MFD_CLOEXEC);

    World() {
        spdlog::set_level(spdlog::level::off);  // faults are logged per call: keep the fuzzer quiet
        const char *dir = std::getenv("PLUGHOST_PLUGIN_DIR");
        if (!dir) {
            std::fprintf(stderr, "fuzz_runner: set PLUGHOST_PLUGIN_DIR to a directory of in-tree plugins\n");
            std::abort();
        }
        PreflightInputs in;
        in.plugin_dir = dir;
        in.config_source = ConfigSource::built_in;
        in.keep_files_open = true;
        pf = preflight(in);
        if (!pf.ok()) std::abort();
        live = instantiate(pf, false);
        if (!live.complete()) std::abort();
        std::vector<Instance *> raw;
        for (auto &i : live.instances) raw.push_back(i.get());
        scheduler = std::make_unique<Scheduler>(raw, scheduler_plan(pf), 5);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    static World world;
    ::ftruncate(world.out, 0);
    ::lseek(world.out, 0, SEEK_SET);
    std::size_t input_lines = 0;
    {
        OutputSink sink(world.out, "fuzz output");
        Runner runner(*world.scheduler, sink, size % 2 == 0);  // with and without --explain
        const std::string_view text(reinterpret_cast<const char *>(data), size);
        for (std::size_t begin = 0; begin <= text.size();) {
            const std::size_t end = std::min(text.find('\n', begin), text.size());
            runner.process(text.substr(begin, end - begin), ++input_lines);
            begin = end + 1;
        }
        if (!sink.flush()) std::abort();
    }
    std::string written(static_cast<std::size_t>(::lseek(world.out, 0, SEEK_END)), '\0');
    if (::pread(world.out, written.data(), written.size(), 0) != static_cast<ssize_t>(written.size())) std::abort();
    std::size_t output_lines = 0;
    for (std::size_t begin = 0; begin < written.size();) {
        const std::size_t end = written.find('\n', begin);
        if (end == std::string::npos) __builtin_trap();  // a torn line
        const JsonParse line = parse_json(std::string_view(written).substr(begin, end - begin), JsonLimits{});
        if (line.error || !line.value.is_object()) __builtin_trap();
        ++output_lines;
        begin = end + 1;
    }
    if (output_lines > input_lines) __builtin_trap();
    return 0;
}
