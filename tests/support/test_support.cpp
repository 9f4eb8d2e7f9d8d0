#include "test_support.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char **environ;

namespace plughost::test {

TempDir::TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "plughost-test-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string read_file(const std::filesystem::path &path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_file(const std::filesystem::path &path, const std::string &content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::filesystem::path copy_to(const std::filesystem::path &from, const std::filesystem::path &to) {
    std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
    // A build under umask 002 makes group-writable plugins, which plughost refuses: copies never are.
    std::filesystem::permissions(to, std::filesystem::perms::group_write | std::filesystem::perms::others_write,
                                 std::filesystem::perm_options::remove);
    return to;
}

void patch_bytes(const std::filesystem::path &path, std::uint64_t offset, const std::vector<std::uint8_t> &bytes) {
    const int fd = ::open(path.c_str(), O_WRONLY);
    if (fd < 0) throw std::runtime_error("cannot open " + path.string());
    const auto n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    ::close(fd);
    if (n != static_cast<ssize_t>(bytes.size())) throw std::runtime_error("cannot patch " + path.string());
}

void truncate_to(const std::filesystem::path &path, std::uint64_t size) { std::filesystem::resize_file(path, size); }

namespace {

std::vector<std::string> environment_with(const std::vector<std::pair<std::string, std::string>> &env) {
    std::vector<std::string> out;
    for (char **e = environ; *e; ++e) {
        const std::string entry = *e;
        bool overridden = false;
        for (const auto &[k, v] : env) overridden = overridden || entry.rfind(k + "=", 0) == 0;
        if (!overridden) out.push_back(entry);
    }
    for (const auto &[k, v] : env) out.push_back(k + "=" + v);
    return out;
}

std::vector<char *> pointers(std::vector<std::string> &strings) {
    std::vector<char *> out;
    for (auto &s : strings) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

void close_fd(int &fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

}  // namespace

Process::Process(const std::vector<std::string> &argv, const ProcessOptions &options)
    : deadline_(std::chrono::steady_clock::now() + options.timeout) {
    ::signal(SIGPIPE, SIG_IGN);  // a child that stops reading must not kill the test
    // Everything the child uses is prepared before fork(): after it, only async-signal-safe calls.
    const StdStream *streams[3] = {&options.in, &options.out, &options.err};
    int pipes[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
    int child_fd[3] = {-1, -1, -1};  // what the child gets as 0, 1, 2; -1: closed
    for (int i = 0; i < 3; ++i) {
        if (streams[i]->kind == StdStream::Kind::pipe) {
            if (::pipe2(pipes[i], O_CLOEXEC)) throw std::runtime_error("pipe failed");
            child_fd[i] = pipes[i][i == 0 ? 0 : 1];
        } else if (streams[i]->kind == StdStream::Kind::descriptor) {
            child_fd[i] = streams[i]->fd;
        }
    }
    if (options.nonblocking_in && pipes[0][0] >= 0) ::fcntl(pipes[0][0], F_SETFL, O_NONBLOCK);
    if (options.nonblocking_out && pipes[1][1] >= 0) ::fcntl(pipes[1][1], F_SETFL, O_NONBLOCK);
    std::vector<std::string> env_strings = environment_with(options.env);
    std::vector<char *> envp = pointers(env_strings);
    std::vector<std::string> args = argv;
    std::vector<char *> c_args = pointers(args);
    std::vector<std::pair<int, rlimit>> limits;
    for (const auto &[resource, value] : options.limits)
        limits.emplace_back(resource, rlimit{static_cast<rlim_t>(value), static_cast<rlim_t>(value)});

    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
    if (pid_ == 0) {
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        for (int s = 1; s < NSIG; ++s) ::sigaction(s, &dfl, nullptr);
        sigset_t none;
        ::sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        for (int i = 0; i < 3; ++i) {
            if (child_fd[i] < 0) ::close(i);
            else if (::dup2(child_fd[i], i) < 0) ::_exit(126);
        }
        for (const auto &[resource, value] : limits)
            if (::setrlimit(resource, &value)) ::_exit(126);
        ::execve(c_args[0], c_args.data(), envp.data());
        ::_exit(127);
    }
    for (int i = 0; i < 3; ++i) close_fd(pipes[i][i == 0 ? 0 : 1]);
    in_ = pipes[0][1];
    out_ = pipes[1][0];
    err_ = pipes[2][0];
    if (in_ >= 0) ::fcntl(in_, F_SETFL, O_NONBLOCK);
}

Process::~Process() {
    close_fd(in_);
    close_fd(out_);
    close_fd(err_);
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
}

// One round: reads what stdout and stderr hold, writes what stdin takes of `input`.
bool Process::pump(int timeout_ms, const std::string *input, std::size_t *written) {
    const bool writing = input && in_ >= 0 && *written < input->size();
    pollfd fds[3] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}, {writing ? in_ : -1, POLLOUT, 0}};
    if (::poll(fds, 3, timeout_ms) < 0) return errno == EINTR;
    bool progress = false;
    for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buf[65536];
        const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        if (n > 0) (i == 0 ? result_.out : result_.err).append(buf, static_cast<std::size_t>(n));
        else if (n == 0 || (errno != EINTR && errno != EAGAIN)) close_fd(i == 0 ? out_ : err_);
        progress = true;
    }
    if (writing && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
        const ssize_t n = ::write(in_, input->data() + *written, input->size() - *written);
        if (n > 0) *written += static_cast<std::size_t>(n);
        else if (errno != EINTR && errno != EAGAIN) *written = input->size();  // the child closed its stdin
        progress = true;
    }
    return progress;
}

void Process::write_input(const std::string &text) {
    std::size_t written = 0;
    while (in_ >= 0 && written < text.size() && std::chrono::steady_clock::now() < deadline_)
        pump(100, &text, &written);
}

void Process::close_input() { close_fd(in_); }

void Process::close_output() { close_fd(out_); }

const std::string &Process::read_lines(std::size_t count, std::chrono::seconds timeout) {
    const auto until = std::min(deadline_, std::chrono::steady_clock::now() + timeout);
    auto newlines = [&] { return static_cast<std::size_t>(std::count(result_.out.begin(), result_.out.end(), '\n')); };
    while (out_ >= 0 && newlines() < count && std::chrono::steady_clock::now() < until) pump(100, nullptr, nullptr);
    return result_.out;
}

void Process::send(int signal) { ::kill(pid_, signal); }

ProcessResult Process::finish(const std::string &input) {
    write_input(input);
    close_input();
    return wait();
}

ProcessResult Process::wait() {
    int status = 0;
    while (true) {
        if (std::chrono::steady_clock::now() >= deadline_) {
            ::kill(pid_, SIGKILL);
            result_.timed_out = true;
            ::waitpid(pid_, &status, 0);
            break;
        }
        if (out_ >= 0 || err_ >= 0) {
            pump(100, nullptr, nullptr);
            continue;
        }
        const pid_t done = ::waitpid(pid_, &status, WNOHANG);
        if (done == pid_ || (done < 0 && errno != EINTR)) break;
        ::usleep(10000);
    }
    pid_ = -1;
    close_input();
    close_fd(out_);
    close_fd(err_);
    result_.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result_.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    return result_;
}

ProcessResult run_with(const std::vector<std::string> &argv, const std::string &input, const ProcessOptions &options) {
    Process process(argv, options);
    return process.finish(input);
}

ProcessResult run(const std::vector<std::string> &argv, const std::string &input,
                  const std::vector<std::pair<std::string, std::string>> &env, std::chrono::seconds timeout) {
    ProcessOptions options;
    options.env = env;
    options.timeout = timeout;
    return run_with(argv, input, options);
}

std::vector<std::string> plughost_argv(const std::vector<std::string> &args) {
    std::vector<std::string> argv{paths::plughost};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

ProcessResult run_plughost(const std::vector<std::string> &args, const std::string &input,
                           const std::vector<std::pair<std::string, std::string>> &env) {
    return run(plughost_argv(args), input, env);
}

ProcessResult run_plughost_with(const std::vector<std::string> &args, const std::string &input,
                                const ProcessOptions &options) {
    return run_with(plughost_argv(args), input, options);
}

boost::json::value parse_json(const std::string &text) {
    boost::json::error_code ec;
    boost::json::value v = boost::json::parse(text, ec);
    if (ec) FAIL("not JSON (" << ec.message() << "): " << text);
    return v;
}

std::vector<std::string> lines(const std::string &text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

}  // namespace plughost::test

namespace plughost::test {

std::uint64_t ulps_apart(double a, double b) {
    // Doubles ordered as integers: flip negative ones so the mapping is monotonic.
    auto ordered = [](double d) {
        std::int64_t i;
        std::memcpy(&i, &d, sizeof i);
        return i < 0 ? std::numeric_limits<std::int64_t>::min() - i : i;
    };
    const std::int64_t x = ordered(a), y = ordered(b);
    return x > y ? static_cast<std::uint64_t>(x) - static_cast<std::uint64_t>(y)
                 : static_cast<std::uint64_t>(y) - static_cast<std::uint64_t>(x);
}

}  // namespace plughost::test

namespace plughost::test {

void overwrite_in_place(const std::filesystem::path &path, const std::string &content, std::size_t chunk,
                        std::chrono::microseconds pause) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot open " + path.string());
    for (std::size_t done = 0; done < content.size();) {
        const ssize_t n = ::write(fd, content.data() + done, std::min(chunk, content.size() - done));
        if (n <= 0) {
            ::close(fd);
            throw std::runtime_error("cannot write " + path.string());
        }
        done += static_cast<std::size_t>(n);
        if (pause.count() && done < content.size()) std::this_thread::sleep_for(pause);
    }
    ::close(fd);
}

std::size_t replace_all(std::string &content, const std::string &from, const std::string &to) {
    if (from.size() != to.size() || from.empty()) throw std::invalid_argument("replace_all: sizes differ");
    std::size_t count = 0;
    for (auto at = content.find(from); at != std::string::npos; at = content.find(from, at + to.size())) {
        content.replace(at, from.size(), to);
        ++count;
    }
    return count;
}

}  // namespace plughost::test
