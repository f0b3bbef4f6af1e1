/*
 * add_sub: output_numbers = input_numbers + add_value - sub_value, element
 * by element, FP32 of any shape. Params add_value and sub_value (decimal
 * text, default 0) are read once by initialize; a value that is not a number
 * makes initialize fail. The same operation as OVMS's add_sub test node.
 * Metadata: input_numbers / output_numbers FP32 [1, any]; with the param
 * metadata_rank (2..8) every one of that many dims is any instead (e.g. 3
 * for a node that gathers [N,1,X] shards).
 */
#include <stdlib.h>
#include <string.h>

#include "custom_node/custom_node_interface.h"

struct AddSub {
  float add;
  float sub;
  int rank; /* 0: [1, any] */
};

static int ParseFloat(const char* text, float* out) {
  char* end = NULL;
  *out = strtof(text, &end);
  return end != text && *end == '\0';
}

int initialize(void** manager, const struct CustomNodeParam* params, int paramsCount) {
  struct AddSub* state = (struct AddSub*)malloc(sizeof(struct AddSub));
  if (state == NULL) return 1;
  state->add = 0.0f;
  state->sub = 0.0f;
  state->rank = 0;
  for (int i = 0; i < paramsCount; i++) {
    if (strcmp(params[i].key, "metadata_rank") == 0) {
      char* end = NULL;
      long rank = strtol(params[i].value, &end, 10);
      if (end == params[i].value || *end != '\0' || rank < 2 || rank > 8) {
        free(state);
        return 3;
      }
      state->rank = (int)rank;
    }
    float* target = NULL;
    if (strcmp(params[i].key, "add_value") == 0) target = &state->add;
    if (strcmp(params[i].key, "sub_value") == 0) target = &state->sub;
    if (target != NULL && !ParseFloat(params[i].value, target)) {
      free(state);
      return 2;
    }
  }
  *manager = state;
  return 0;
}

int deinitialize(void* manager) {
  free(manager);
  return 0;
}

int execute(const struct CustomNodeTensor* inputs, int inputsCount, struct CustomNodeTensor** outputs,
            int* outputsCount, const struct CustomNodeParam* params, int paramsCount, void* manager) {
  const struct AddSub* state = (const struct AddSub*)manager;
  const struct CustomNodeTensor* input = NULL;
  for (int i = 0; i < inputsCount; i++) {
    if (strcmp(inputs[i].name, "input_numbers") == 0) input = &inputs[i];
  }
  if (input == NULL) return 1;
  if (input->precision != FP32) return 2;

  struct CustomNodeTensor* output = (struct CustomNodeTensor*)malloc(sizeof(struct CustomNodeTensor));
  float* data = (float*)malloc(input->dataBytes > 0 ? input->dataBytes : 1);
  uint64_t* dims = (uint64_t*)malloc(sizeof(uint64_t) * (input->dimsCount > 0 ? input->dimsCount : 1));
  if (output == NULL || data == NULL || dims == NULL) {
    free(output);
    free(data);
    free(dims);
    return 3;
  }
  const float* in = (const float*)input->data;
  uint64_t count = input->dataBytes / sizeof(float);
  for (uint64_t i = 0; i < count; i++) data[i] = in[i] + state->add - state->sub;
  memcpy(dims, input->dims, sizeof(uint64_t) * input->dimsCount);

  output->name = "output_numbers";
  output->data = (uint8_t*)data;
  output->dataBytes = input->dataBytes;
  output->dims = dims;
  output->dimsCount = input->dimsCount;
  output->precision = FP32;
  *outputs = output;
  *outputsCount = 1;
  return 0;
}

static int Info(struct CustomNodeTensorInfo** info, int* infoCount, const char* name, const void* manager) {
  const struct AddSub* state = (const struct AddSub*)manager;
  int rank = state != NULL && state->rank > 0 ? state->rank : 2;
  struct CustomNodeTensorInfo* entry = (struct CustomNodeTensorInfo*)malloc(sizeof(struct CustomNodeTensorInfo));
  uint64_t* dims = (uint64_t*)malloc((size_t)rank * sizeof(uint64_t));
  if (entry == NULL || dims == NULL) {
    free(entry);
    free(dims);
    return 1;
  }
  for (int i = 0; i < rank; i++) dims[i] = 0; /* any */
  if (state == NULL || state->rank == 0) dims[0] = 1;
  entry->name = name;
  entry->dims = dims;
  entry->dimsCount = (uint64_t)rank;
  entry->precision = FP32;
  *info = entry;
  *infoCount = 1;
  return 0;
}

int getInputsInfo(struct CustomNodeTensorInfo** info, int* infoCount, const struct CustomNodeParam* params,
                  int paramsCount, void* manager) {
  return Info(info, infoCount, "input_numbers", manager);
}

int getOutputsInfo(struct CustomNodeTensorInfo** info, int* infoCount, const struct CustomNodeParam* params,
                   int paramsCount, void* manager) {
  return Info(info, infoCount, "output_numbers", manager);
}

int release(void* ptr, void* manager) {
  free(ptr);
  return 0;
}
