// Manifests in memory, for policy tests that need no plugin file.
#pragma once

#include "admission/admission.hpp"
#include "inspect/manifest.hpp"

#include <string>
#include <vector>

namespace plughost::test {

/// A valid manifest document; `extra` is appended inside the object (",\"deprecated\":true,...").
inline std::string manifest_json(const std::string &type, const std::string &stability, const std::string &gate = "",
                                 const std::string &role = "scorer", const std::string &extra = "") {
    return "{\"type\":\"" + type + "\",\"role\":\"" + role + "\",\"version\":\"1.0.0\",\"abiVersion\":\"" +
           host::host_abi_version().str() + "\",\"stability\":\"" + stability + "\",\"description\":\"In memory.\"" +
           (gate.empty() ? "" : ",\"featureGate\":\"" + gate + "\"") + extra + "}";
}

/// A plugin file that exists only in memory, named `<type>.so`.
inline host::PluginFile in_memory(const std::string &json) {
    host::PluginFile f;
    f.manifest_json = json;
    f.reading = host::read_manifest(json);
    f.path = (f.reading->type ? *f.reading->type : std::string("unnamed")) + ".so";
    return f;
}

inline std::vector<host::PluginFile> in_memory(const std::vector<std::string> &jsons) {
    std::vector<host::PluginFile> files;
    for (const auto &j : jsons) files.push_back(in_memory(j));
    return files;
}

}  // namespace plughost::test
