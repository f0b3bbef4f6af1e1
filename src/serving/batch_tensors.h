// Joining requests into one batch along dim 0 and splitting the outputs back.
// Pure functions over tensors; used by the Scheduler (which requests may
// join) and the Servable (concatenate, run once, split).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/result.h"
#include "tensor/signature.h"

namespace tessera {

// The rows a request contributes to a batch: the first dim, shared by all of
// its inputs. nullopt when the request must run alone: no inputs, an input
// of rank 0 or of type BYTES, first dims that differ, or zero rows.
std::optional<int64_t> BatchRows(const std::vector<NamedTensor>& inputs);

// True when two requests' inputs may be concatenated: as many inputs, and
// input by input the same datatype, rank and dims after the first.
// REQUIRES: both have BatchRows.
bool SameRowShape(const std::vector<NamedTensor>& a, const std::vector<NamedTensor>& b);

// One owned tensor per input holding every request's rows, in the order of
// `requests` (the one copy batching adds). REQUIRES: `requests` is not empty
// and every pair is SameRowShape.
std::vector<NamedTensor> ConcatRows(const std::vector<const std::vector<NamedTensor>*>& requests);

// Splits every output along dim 0 into consecutive parts of `rows[i]` rows.
// The parts are views sharing the output's bytes (no copy); each keeps the
// whole output alive. kInternal when an output has rank 0, a variable-size
// type (BYTES), or a first dim other than the sum of `rows`.
Result<std::vector<std::vector<NamedTensor>>> SplitRows(const std::vector<NamedTensor>& outputs,
                                                        const std::vector<int64_t>& rows);

// OK when the model may be fed concatenated requests: every input has a
// dynamic first dim (-1) or an unknown rank. kFailedPrecondition naming the
// first input that does not.
Status CheckBatchable(const ModelSignature& signature);

}  // namespace tessera
