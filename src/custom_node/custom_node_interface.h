/*
 * The C interface of a custom node library, as OpenVINO Model Server defines
 * it: a shared object exporting the six functions below. Plain C, so a
 * library may be written in C or C++ and built without Tessera's sources.
 *
 * Every function returns 0 on success; any other value is a failure.
 *
 * Ownership:
 *  - initialize may set *customNodeLibraryInternalManager to private state;
 *    the same pointer is passed to every later call of this node and to
 *    deinitialize, which is called once when the node is gone. Several
 *    handles of one library may be alive at once (one per node, and a node
 *    re-initialized at each validation).
 *  - execute's inputs (the array, names, data and dims) belong to the server
 *    and are valid only during the call; they must not be modified. Look
 *    inputs up by name: their order is unspecified.
 *  - execute allocates the outputs array and each output's data and dims.
 *    After a successful execute the server copies each name (names are never
 *    freed: they must be static or library-owned), releases dims at once,
 *    keeps data as the backing store of the output tensor and releases it
 *    when that tensor dies (possibly much later, on another thread), and
 *    releases the outputs array. After a failed execute the server releases
 *    nothing.
 *  - getInputsInfo/getOutputsInfo allocate the info array and each entry's
 *    dims; the server releases every dims, then the array, never the names.
 *    A dim of 0 means "any size".
 *  - release(ptr, manager) frees one pointer the library handed out.
 *  - params: the node's "params" from config.json, the same pointers on
 *    every call, in unspecified order.
 *
 * Concurrency: execute, getInputsInfo, getOutputsInfo and release may be
 * called concurrently from several threads with the same manager.
 */
#ifndef TESSERA_CUSTOM_NODE_INTERFACE_H_
#define TESSERA_CUSTOM_NODE_INTERFACE_H_

#include <stdint.h>

#ifdef _WIN32
#define DLL_PUBLIC __declspec(dllexport)
#else
#define DLL_PUBLIC __attribute__((visibility("default")))
#endif

typedef enum {
  UNSPECIFIED,  // 0
  FP32,         // 1
  FP16,         // 2
  U8,           // 3
  I8,           // 4
  I16,          // 5
  U16,          // 6
  I32,          // 7
  FP64,         // 8
  I64           // 9
} CustomNodeTensorPrecision;

struct CustomNodeTensor {
  const char* name;
  uint8_t* data;
  uint64_t dataBytes;
  uint64_t* dims;
  uint64_t dimsCount;
  CustomNodeTensorPrecision precision;
};

struct CustomNodeTensorInfo {
  const char* name;
  uint64_t* dims;
  uint64_t dimsCount;
  CustomNodeTensorPrecision precision;
};

struct CustomNodeParam {
  const char* key;
  const char* value;
};

#ifdef __cplusplus
extern "C" {
#endif

DLL_PUBLIC int initialize(void** customNodeLibraryInternalManager, const struct CustomNodeParam* params,
                          int paramsCount);
DLL_PUBLIC int deinitialize(void* customNodeLibraryInternalManager);
DLL_PUBLIC int execute(const struct CustomNodeTensor* inputs, int inputsCount, struct CustomNodeTensor** outputs,
                       int* outputsCount, const struct CustomNodeParam* params, int paramsCount,
                       void* customNodeLibraryInternalManager);
DLL_PUBLIC int getInputsInfo(struct CustomNodeTensorInfo** info, int* infoCount, const struct CustomNodeParam* params,
                             int paramsCount, void* customNodeLibraryInternalManager);
DLL_PUBLIC int getOutputsInfo(struct CustomNodeTensorInfo** info, int* infoCount, const struct CustomNodeParam* params,
                              int paramsCount, void* customNodeLibraryInternalManager);
DLL_PUBLIC int release(void* ptr, void* customNodeLibraryInternalManager);

#ifdef __cplusplus
}
#endif

#endif  // TESSERA_CUSTOM_NODE_INTERFACE_H_
