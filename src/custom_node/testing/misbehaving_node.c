/*
 * A custom node library that breaks the interface on purpose, for tests.
 * Param "mode" selects the behaviour (absent: "ok"):
 *   ok               "out" = copy of FP32 input "in", plus "extra" (one FP32 0)
 *   init_fail        initialize returns 1
 *   metadata_fail    getInputsInfo/getOutputsInfo return 2
 *   info_null        info calls succeed with a null array
 *   info_zero_count  info calls succeed with an array and count 0
 *   exec_fail        execute returns 3
 *   null_outputs     execute succeeds with a null outputs array
 *   zero_count       execute succeeds with an array and count 0
 *   wrong_size       "out" reports 4 bytes more than its dims need
 *   null_data        "out" has null data
 *   missing_name     "out" has a null name
 *   unspecified      "out" has precision UNSPECIFIED
 *   missing_output   "out" is named "other"
 * tessera_test_counters reports what the server left allocated, so tests can
 * check that every pointer handed out came back through release.
 */
#include <stdlib.h>
#include <string.h>

#include "custom_node/custom_node_interface.h"

static long g_live_allocations = 0;
static long g_live_managers = 0;
static long g_initialized = 0;

static void* Alloc(size_t bytes) {
  void* p = malloc(bytes > 0 ? bytes : 1);
  if (p != NULL) __atomic_fetch_add(&g_live_allocations, 1, __ATOMIC_SEQ_CST);
  return p;
}

static const char* Mode(const struct CustomNodeParam* params, int paramsCount) {
  for (int i = 0; i < paramsCount; i++) {
    if (strcmp(params[i].key, "mode") == 0) return params[i].value;
  }
  return "ok";
}

static int Is(const struct CustomNodeParam* params, int paramsCount, const char* mode) {
  return strcmp(Mode(params, paramsCount), mode) == 0;
}

DLL_PUBLIC void tessera_test_counters(long* live_allocations, long* live_managers, long* initialized) {
  *live_allocations = __atomic_load_n(&g_live_allocations, __ATOMIC_SEQ_CST);
  *live_managers = __atomic_load_n(&g_live_managers, __ATOMIC_SEQ_CST);
  *initialized = __atomic_load_n(&g_initialized, __ATOMIC_SEQ_CST);
}

int initialize(void** manager, const struct CustomNodeParam* params, int paramsCount) {
  if (Is(params, paramsCount, "init_fail")) return 1;
  *manager = malloc(1);
  __atomic_fetch_add(&g_live_managers, 1, __ATOMIC_SEQ_CST);
  __atomic_fetch_add(&g_initialized, 1, __ATOMIC_SEQ_CST);
  return 0;
}

int deinitialize(void* manager) {
  free(manager);
  __atomic_fetch_sub(&g_live_managers, 1, __ATOMIC_SEQ_CST);
  return 0;
}

static void FillTensor(struct CustomNodeTensor* t, const char* name, const uint64_t* dims, uint64_t dimsCount,
                       const uint8_t* data, uint64_t bytes) {
  t->name = name;
  t->dims = (uint64_t*)Alloc(sizeof(uint64_t) * dimsCount);
  memcpy(t->dims, dims, sizeof(uint64_t) * dimsCount);
  t->dimsCount = dimsCount;
  t->data = (uint8_t*)Alloc(bytes);
  if (data != NULL) memcpy(t->data, data, bytes);
  t->dataBytes = bytes;
  t->precision = FP32;
}

int execute(const struct CustomNodeTensor* inputs, int inputsCount, struct CustomNodeTensor** outputs,
            int* outputsCount, const struct CustomNodeParam* params, int paramsCount, void* manager) {
  if (Is(params, paramsCount, "exec_fail")) return 3;
  if (Is(params, paramsCount, "null_outputs")) {
    *outputs = NULL;
    *outputsCount = 1;
    return 0;
  }
  const struct CustomNodeTensor* input = NULL;
  for (int i = 0; i < inputsCount; i++) {
    if (strcmp(inputs[i].name, "in") == 0) input = &inputs[i];
  }
  if (input == NULL) return 4;

  struct CustomNodeTensor* out = (struct CustomNodeTensor*)Alloc(2 * sizeof(struct CustomNodeTensor));
  *outputs = out;
  if (Is(params, paramsCount, "zero_count")) {
    *outputsCount = 0;
    return 0;
  }
  FillTensor(&out[0], "out", input->dims, input->dimsCount, input->data, input->dataBytes);
  uint64_t one = 1;
  float zero = 0.0f;
  FillTensor(&out[1], "extra", &one, 1, (const uint8_t*)&zero, sizeof(float));
  *outputsCount = 2;

  if (Is(params, paramsCount, "wrong_size")) out[0].dataBytes += 4;
  if (Is(params, paramsCount, "null_data")) {
    free(out[0].data);
    __atomic_fetch_sub(&g_live_allocations, 1, __ATOMIC_SEQ_CST);
    out[0].data = NULL;
  }
  if (Is(params, paramsCount, "missing_name")) out[0].name = NULL;
  if (Is(params, paramsCount, "unspecified")) out[0].precision = UNSPECIFIED;
  if (Is(params, paramsCount, "missing_output")) out[0].name = "other";
  return 0;
}

static int Info(struct CustomNodeTensorInfo** info, int* infoCount, const struct CustomNodeParam* params,
                int paramsCount, const char* name) {
  if (Is(params, paramsCount, "metadata_fail")) return 2;
  if (Is(params, paramsCount, "info_null")) {
    *info = NULL;
    *infoCount = 1;
    return 0;
  }
  struct CustomNodeTensorInfo* entry = (struct CustomNodeTensorInfo*)Alloc(sizeof(struct CustomNodeTensorInfo));
  *info = entry;
  if (Is(params, paramsCount, "info_zero_count")) {
    *infoCount = 0;
    return 0;
  }
  entry->name = name;
  entry->dimsCount = 2;
  entry->dims = (uint64_t*)Alloc(2 * sizeof(uint64_t));
  entry->dims[0] = 1;
  entry->dims[1] = 0;
  entry->precision = FP32;
  *infoCount = 1;
  return 0;
}

int getInputsInfo(struct CustomNodeTensorInfo** info, int* infoCount, const struct CustomNodeParam* params,
                  int paramsCount, void* manager) {
  return Info(info, infoCount, params, paramsCount, "in");
}

int getOutputsInfo(struct CustomNodeTensorInfo** info, int* infoCount, const struct CustomNodeParam* params,
                   int paramsCount, void* manager) {
  return Info(info, infoCount, params, paramsCount, "out");
}

int release(void* ptr, void* manager) {
  if (ptr == NULL) return 1;
  free(ptr);
  __atomic_fetch_sub(&g_live_allocations, 1, __ATOMIC_SEQ_CST);
  return 0;
}
