// Which model versions to serve: a pure function of the policy and of the
// version directories found on disk (see repository.h). How a switch between
// versions happens is the serving layer's business.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "repository/model_config.h"

namespace tessera {

// The versions `policy` selects among `on_disk` (any order, duplicates
// allowed), ascending and without duplicates:
//   all          -> every version on disk;
//   latest{n}    -> the n highest (all of them when fewer exist; none when
//                   n < 1, which the parser never produces);
//   specific{l}  -> those listed in l that are on disk.
std::vector<int64_t> SelectVersions(const VersionPolicy& policy, std::vector<int64_t> on_disk);

// OVMS's JSON form of the policy, compact: {"all":{}},
// {"latest":{"num_versions":2}}, {"specific":{"versions":[1,3]}}.
std::string VersionPolicyToJson(const VersionPolicy& policy);

}  // namespace tessera
