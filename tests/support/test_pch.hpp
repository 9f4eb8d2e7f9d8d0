// Precompiled once and reused by every test executable (tests/CMakeLists.txt): the heavy,
// never-changing headers most test files include. Project headers stay out: editing one would
// rebuild every test. Each test file still includes what it uses.
#pragma once

#include <boost/json.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>
