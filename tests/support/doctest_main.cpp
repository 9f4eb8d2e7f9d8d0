// doctest's main, made to fail when a test-case filter matched nothing: CTest runs each test
// case by name, and a name that stopped matching must not pass silently.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

namespace {

int started = 0;

struct StartCounter : doctest::IReporter {
    explicit StartCounter(const doctest::ContextOptions &) {}
    void report_query(const doctest::QueryData &) override {}
    void test_run_start() override {}
    void test_run_end(const doctest::TestRunStats &) override {}
    void test_case_start(const doctest::TestCaseData &) override { ++started; }
    void test_case_reenter(const doctest::TestCaseData &) override {}
    void test_case_end(const doctest::CurrentTestCaseStats &) override {}
    void test_case_exception(const doctest::TestCaseException &) override {}
    void subcase_start(const doctest::SubcaseSignature &) override {}
    void subcase_end() override {}
    void log_assert(const doctest::AssertData &) override {}
    void log_message(const doctest::MessageData &) override {}
    void test_case_skipped(const doctest::TestCaseData &) override {}
};

}  // namespace

DOCTEST_REGISTER_LISTENER("start-counter", 1, StartCounter);

int main(int argc, char **argv) {
    // plughost refuses plugin files and directories the group or others can write: the files the
    // tests make must not be, whatever umask the suite was started with.
    ::umask(022);
    // The plughost processes the tests start must not read or write the developer's own state
    // (the probe's results in ${XDG_STATE_HOME:-~/.local/state}/plughost): each test process gets
    // an empty state directory of its own. Tests that need one pass --probe-state.
    std::string state = (std::filesystem::temp_directory_path() / "plughost-test-state-XXXXXX").string();
    if (!::mkdtemp(state.data())) {
        std::perror("mkdtemp");
        return 1;
    }
    ::setenv("XDG_STATE_HOME", state.c_str(), 1);
    doctest::Context context(argc, argv);
    const int result = context.run();
    std::error_code ignored;
    std::filesystem::remove_all(state, ignored);
    if (context.shouldExit()) return result;
    bool filtered = false;
    for (int i = 1; i < argc; ++i) filtered = filtered || std::strncmp(argv[i], "--test-case=", 12) == 0;
    if (result == 0 && filtered && started == 0) {
        std::fprintf(stderr, "no test case matched the filter\n");
        return 1;
    }
    return result;
}
