// ShardIndex: a shard's index within its stream ("shardId-000000000003" is index 3). A strong
// type so that an index never mixes with a sequence number or a count. The log uses it inside
// (its disk formats and shard state); the public log API still passes uint32_t for now.
#pragma once

#include <cstdint>

#include "base/strong_type.h"

namespace eddy {

using ShardIndex = StrongType<uint32_t, struct ShardIndexTag>;

}  // namespace eddy
