// Codec between TensorFlow Serving gRPC messages and the core types. Pure
// functions: no I/O, no state, safe to call from any thread.
//
// Error texts are part of the observable behaviour (docs/tfs_grpc.md lists
// them); tests compare them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "core/model_admin.h"
#include "core/types.h"
#include "tensorflow/core/framework/tensor.pb.h"
#include "tensorflow_serving/apis/get_model_metadata.pb.h"
#include "tensorflow_serving/apis/get_model_status.pb.h"
#include "tensorflow_serving/apis/predict.pb.h"
#include "tensorflow_serving/config/model_server_config.pb.h"
#include "tensorflow_serving/util/status.pb.h"

namespace tessera::tfs_grpc {

// The one signature every model has, and what it does.
inline constexpr char kDefaultSignatureName[] = "serving_default";
inline constexpr char kPredictMethodName[] = "tensorflow/serving/predict";
// The only GetModelMetadataRequest.metadata_field supported.
inline constexpr char kSignatureDefField[] = "signature_def";

// DT_* -> DataType. nullopt for DT_INVALID and for types Tessera has no
// equivalent of (complex, quantized, resource, variant, *_REF).
std::optional<DataType> FromTfDataType(int tf_type);
// DataType -> DT_*; DT_STRING for kBytes, DT_INVALID for kInvalid.
tensorflow::DataType ToTfDataType(DataType type);

// The version a ModelSpec asks for: version.value when set (0 means the
// default version, as in OVMS; negative values reach the core and are not
// found there), kDefaultVersion when neither is set. A non-empty
// version_label is kInvalidArgument "version_label is not supported; use
// version" (labels are not implemented); an empty one counts as unset.
Result<int64_t> DecodeModelVersion(const tensorflow::serving::ModelSpec& spec);

// One input tensor. `tensor_content` is BORROWED, not copied: REQUIRES
// `proto` outlives every use of the returned tensor. Typed *_val fields are
// copied into an owned tensor (string_val into the BYTES raw form).
//
// Errors (kInvalidArgument, naming the input): missing or unsupported dtype,
// unknown_rank, negative dims, tensor_content mixed with a *_val field or
// used for DT_STRING, a *_val field that does not belong to the dtype,
// tensor_content size not elements x element size, a value count that
// differs from the element count (TensorFlow's "repeat the last value"
// shorthand is not accepted), an integer value out of the dtype's range.
Result<Tensor> DecodeTensor(const std::string& name, const tensorflow::TensorProto& proto);

// PredictRequest -> InferRequest: name, version (DecodeModelVersion), every
// input (DecodeTensor; sorted by name so the order is deterministic) and
// output_filter as requested_outputs. model_spec.signature_name is not
// checked: every model has exactly one signature (as in OVMS).
// REQUIRES: `request` outlives every use of the result (borrowed inputs).
// Errors: those of DecodeModelVersion and DecodeTensor, and kInvalidArgument
// for a name repeated in output_filter.
Result<InferRequest> DecodePredictRequest(const tensorflow::serving::PredictRequest& request);

// One output tensor: dtype, shape, and its bytes in tensor_content (BYTES
// tensors: one string_val per element). Errors: kInternal, naming `name`,
// when the tensor's type is invalid or its bytes do not fit its shape.
Status EncodeTensor(const std::string& name, const Tensor& tensor, tensorflow::TensorProto* out);

// Fills `out` from `response`: model_spec {name (`fallback_name` when the
// response has none), version (when > 0), signature_name
// "serving_default"} and every output (EncodeTensor). Errors: those of
// EncodeTensor, kInternal for an output name given twice.
Status EncodePredictResponse(const InferResponse& response, const std::string& fallback_name,
                             tensorflow::serving::PredictResponse* out);

// OK when metadata_field is exactly ["signature_def"]; otherwise
// kInvalidArgument "Invalid signature name" (OVMS's text).
Status CheckMetadataFields(const tensorflow::serving::GetModelMetadataRequest& request);

// The signature as TensorFlow describes it: "serving_default" ->
// SignatureDef{inputs, outputs (TensorInfo with name, dtype, dims; -1 for
// dynamic dims), method_name "tensorflow/serving/predict"}.
tensorflow::serving::SignatureDefMap MakeSignatureDefMap(const ModelSignature& signature);

// GetModelMetadataResponse: model_spec {name, version} and
// metadata["signature_def"] = the packed SignatureDefMap.
void EncodeModelMetadata(const ModelMetadata& metadata,
                         tensorflow::serving::GetModelMetadataResponse* out);

// StatusProto: error_code (same numbers as StatusCode) and error_message
// (empty when OK).
void EncodeStatus(const Status& status, tensorflow::serving::StatusProto* out);

// One ModelVersionStatus per entry, in the given order.
void EncodeModelStatus(const std::vector<VersionStatus>& statuses,
                       tensorflow::serving::GetModelStatusResponse* out);

// ModelServerConfig -> the model list for ModelAdmin::ReplaceModels: name,
// base_path and model_platform of each model_config_list entry (model_type
// and logging_config are ignored). Errors: kUnimplemented for
// custom_model_config, for a model_version_policy and for version_labels
// (neither can be applied through this call); kInvalidArgument when no
// config is set. Names and paths are validated by the ModelAdmin.
Result<std::vector<ModelSource>> DecodeModelServerConfig(
    const tensorflow::serving::ModelServerConfig& config);

}  // namespace tessera::tfs_grpc
