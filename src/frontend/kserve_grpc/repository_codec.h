// Codec of the KServe v2 gRPC messages of Triton's model repository and
// statistics extensions. Pure functions: no I/O, no state, safe to call from
// any thread.
#pragma once

#include <vector>

#include "core/repository_admin.h"
#include "kserve/grpc_predict_v2.pb.h"

namespace tessera::kserve_grpc {

// One ModelIndex per entry; `version` empty for a model without any.
void EncodeRepositoryIndex(const std::vector<RepositoryIndexEntry>& entries,
                           inference::RepositoryIndexResponse* out);

// One ModelStatistics per entry (version as decimal text; cache_hit and
// cache_miss zero).
void EncodeModelStatistics(const std::vector<ModelStatistics>& stats,
                           inference::ModelStatisticsResponse* out);

// The parameters of a load or unload request, for CheckRepositoryParameters,
// sorted by name.
std::vector<RepositoryParameter> DecodeRepositoryParameters(
    const google::protobuf::Map<std::string, inference::ModelRepositoryParameter>& parameters);

}  // namespace tessera::kserve_grpc
