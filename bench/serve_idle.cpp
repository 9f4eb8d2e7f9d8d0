// serve_idle: holds K idle keep-alive client connections open to plughost serve, for the memory
// benchmark (bench/serve_memory.sh). Each connection sends one GET /healthz and reads the answer
// (so the server's session has parsed a request and waits for the next, as an idle keep-alive
// client's does), then stays open. Prints "held K" once all are answered, and keeps them until
// standard input closes (or the process is killed).
//
//   serve_idle HOST:PORT K
#include <boost/asio.hpp>
#include <boost/beast.hpp>

#include <unistd.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

int main(int argc, char **argv) {
    if (argc != 3) {
        std::cerr << "usage: serve_idle HOST:PORT K\n";
        return 2;
    }
    const std::string address = argv[1];
    const int k = std::stoi(argv[2]);
    const auto colon = address.rfind(':');
    const tcp::endpoint where(asio::ip::make_address(address.substr(0, colon)),
                              static_cast<unsigned short>(std::stoi(address.substr(colon + 1))));
    asio::io_context io;
    std::vector<std::unique_ptr<beast::tcp_stream>> held;
    for (int i = 0; i < k; ++i) {
        auto s = std::make_unique<beast::tcp_stream>(io);
        s->connect(where);
        http::request<http::empty_body> req{http::verb::get, "/healthz", 11};
        req.set(http::field::host, "bench");
        http::write(*s, req);
        beast::flat_buffer buffer;
        http::response<http::string_body> res;
        http::read(*s, buffer, res);
        if (res.result() != http::status::ok || !res.keep_alive()) {
            std::cerr << "serve_idle: connection " << i << " was not kept alive\n";
            return 1;
        }
        held.push_back(std::move(s));
    }
    std::cout << "held " << held.size() << std::endl;
    char c;
    while (::read(STDIN_FILENO, &c, 1) > 0) {}
    return 0;
}
