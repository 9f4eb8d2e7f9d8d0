#include "test_support.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
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

ProcessResult run(const std::vector<std::string> &argv, const std::string &input,
                  const std::vector<std::pair<std::string, std::string>> &env, std::chrono::seconds timeout) {
    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) || ::pipe2(out_pipe, O_CLOEXEC) || ::pipe2(err_pipe, O_CLOEXEC))
        throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);

    std::vector<std::string> env_strings;
    for (char **e = environ; *e; ++e) {
        const std::string entry = *e;
        bool overridden = false;
        for (const auto &[k, v] : env) overridden = overridden || entry.rfind(k + "=", 0) == 0;
        if (!overridden) env_strings.push_back(entry);
    }
    for (const auto &[k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char *> envp;
    for (auto &s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = argv;
    std::vector<char *> c_args;
    for (auto &a : args) c_args.push_back(a.data());
    c_args.push_back(nullptr);

    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, c_args[0], &actions, nullptr, c_args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    if (rc != 0) {
        ::close(in_pipe[1]);
        ::close(out_pipe[0]);
        ::close(err_pipe[0]);
        throw std::runtime_error("cannot run " + argv[0] + ": " + std::strerror(rc));
    }

    ProcessResult result;
    std::size_t written = 0;
    int in_fd = in_pipe[1];
    ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
    if (input.empty()) {
        ::close(in_fd);
        in_fd = -1;
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int open_outputs = 2;
    pollfd fds[3] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}, {in_fd, POLLOUT, 0}};
    ::signal(SIGPIPE, SIG_IGN);
    while (open_outputs > 0 || in_fd >= 0) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            ::kill(pid, SIGKILL);
            result.timed_out = true;
            break;
        }
        fds[2].fd = in_fd;
        if (::poll(fds, 3, static_cast<int>(std::min<long long>(left.count(), 1000))) < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[65536];
            const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n > 0) (i == 0 ? result.out : result.err).append(buf, static_cast<std::size_t>(n));
            else {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_outputs;
            }
        }
        if (in_fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
            const ssize_t n = ::write(in_fd, input.data() + written, input.size() - written);
            if (n > 0) written += static_cast<std::size_t>(n);
            if (n < 0 || written == input.size()) {
                ::close(in_fd);
                in_fd = -1;
            }
        }
    }
    for (int i = 0; i < 2; ++i)
        if (fds[i].fd >= 0) ::close(fds[i].fd);
    if (in_fd >= 0) ::close(in_fd);
    int status = 0;
    ::waitpid(pid, &status, 0);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (WIFSIGNALED(status) && !result.timed_out) result.term_signal = WTERMSIG(status);
    return result;
}

StreamingProcess::StreamingProcess(const std::vector<std::string> &argv) {
    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (::pipe2(in_pipe, O_CLOEXEC) || ::pipe2(out_pipe, O_CLOEXEC) || ::pipe2(err_pipe, O_CLOEXEC))
        throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    std::vector<std::string> args = argv;
    std::vector<char *> c_args;
    for (auto &a : args) c_args.push_back(a.data());
    c_args.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, c_args[0], &actions, nullptr, c_args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    in_ = in_pipe[1];
    out_ = out_pipe[0];
    err_ = err_pipe[0];
    if (rc != 0) {
        pid_ = -1;
        throw std::runtime_error("cannot run " + argv[0] + ": " + std::strerror(rc));
    }
    ::signal(SIGPIPE, SIG_IGN);
    for (int fd : {in_, out_, err_}) ::fcntl(fd, F_SETFL, O_NONBLOCK);
}

StreamingProcess::~StreamingProcess() {
    if (pid_ > 0 && !exited_) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    for (int fd : {in_, out_, err_})
        if (fd >= 0) ::close(fd);
}

bool StreamingProcess::pump(std::chrono::steady_clock::time_point deadline, bool want_write) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd fds[3] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}, {want_write ? in_ : -1, POLLOUT, 0}};
    if (::poll(fds, 3, static_cast<int>(std::min<long long>(left.count(), 1000))) < 0 && errno != EINTR)
        throw std::runtime_error("poll failed");
    for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buf[65536];
        const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        if (n > 0) (i == 0 ? out_buffer_ : err_text_).append(buf, static_cast<std::size_t>(n));
        else if (n == 0 || errno != EAGAIN) {
            ::close(fds[i].fd);
            (i == 0 ? out_ : err_) = -1;
        }
    }
    return true;
}

bool StreamingProcess::write(const std::string &text, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t done = 0;
    while (done < text.size()) {
        if (in_ < 0) return false;
        const ssize_t n = ::write(in_, text.data() + done, text.size() - done);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) return false;  // EPIPE: it exited
        if (!pump(deadline, true)) return false;
    }
    return true;
}

std::optional<std::string> StreamingProcess::read_line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        if (const auto nl = out_buffer_.find('\n'); nl != std::string::npos) {
            std::string line = out_buffer_.substr(0, nl);
            out_buffer_.erase(0, nl + 1);
            return line;
        }
        if (out_ < 0 || !pump(deadline, false)) return std::nullopt;
    }
}

void StreamingProcess::close_input() {
    if (in_ >= 0) ::close(in_);
    in_ = -1;
}

ProcessResult StreamingProcess::wait(std::chrono::milliseconds timeout) {
    close_input();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out_ >= 0 || err_ >= 0)
        if (!pump(deadline, false)) {
            ::kill(pid_, SIGKILL);
            result_.timed_out = true;
            break;
        }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exited_ = true;
    result_.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (WIFSIGNALED(status) && !result_.timed_out) result_.term_signal = WTERMSIG(status);
    result_.out = std::move(out_buffer_);
    result_.err = std::move(err_text_);
    return result_;
}

ProcessResult run_plughost(const std::vector<std::string> &args, const std::string &input,
                           const std::vector<std::pair<std::string, std::string>> &env) {
    std::vector<std::string> argv{paths::plughost};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, input, env);
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
