// The attributes approx-prefix-cache-producer publishes, by name: a contract for every plugin
// that reads them (prefix-cache-scorer, no-hit-lru-scorer, and plugins written elsewhere).
// docs/plugins.md describes each; the names never change meaning.
#pragma once

#include <string_view>

namespace plughost::plugins::prefix_attributes {

/// Endpoint scope: how many blocks of the request's prompt, counted from the first, the
/// endpoint is believed to hold in its KV cache.
inline constexpr std::string_view kMatchBlocks = "prefix-cache.match-blocks";
/// Request scope: how many blocks of the prompt were looked up (the last one may be partial).
inline constexpr std::string_view kTotalBlocks = "prefix-cache.total-blocks";
/// Request scope: the size of a block in tokens (the effective one, after auto-tuning and the
/// minimum).
inline constexpr std::string_view kBlockSizeTokens = "prefix-cache.block-size-tokens";
/// Request scope: the prompt's length in estimated tokens (4 bytes each, rounded up).
inline constexpr std::string_view kPromptTokens = "prefix-cache.prompt-tokens";

/// The plugin type that produces them; consumers name it as their default producer.
inline constexpr std::string_view kProducerType = "approx-prefix-cache-producer";

}  // namespace plughost::plugins::prefix_attributes
