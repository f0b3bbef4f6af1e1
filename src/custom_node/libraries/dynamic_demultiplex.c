/*
 * dynamic_demultiplex: a demultiplexer with a data-dependent count, for
 * "demultiply_count": -1. From FP32 input_numbers [1,N] it emits
 * dynamic_demultiplex_results [count,1,N], row k = input_numbers + k. The
 * count is param "count" when given, else the first input value (truncated;
 * below 0 counts as 0), at most 10000. A count of 0 is a valid answer ("no
 * results"), which the pipeline turns into its no-content error.
 */
#include <stdlib.h>
#include <string.h>

#include "custom_node/custom_node_interface.h"

#define MAX_COUNT 10000

int initialize(void** manager, const struct CustomNodeParam* params, int paramsCount) {
  *manager = NULL;
  return 0;
}

int deinitialize(void* manager) { return 0; }

static long Count(const struct CustomNodeTensor* input, const struct CustomNodeParam* params, int paramsCount) {
  double value = input->dataBytes >= sizeof(float) ? ((const float*)input->data)[0] : 0.0;
  for (int i = 0; i < paramsCount; i++) {
    if (strcmp(params[i].key, "count") == 0) value = atof(params[i].value);
  }
  if (value < 0) return 0;
  if (value > MAX_COUNT) return MAX_COUNT;
  return (long)value;
}

int execute(const struct CustomNodeTensor* inputs, int inputsCount, struct CustomNodeTensor** outputs,
            int* outputsCount, const struct CustomNodeParam* params, int paramsCount, void* manager) {
  const struct CustomNodeTensor* input = NULL;
  for (int i = 0; i < inputsCount; i++) {
    if (strcmp(inputs[i].name, "input_numbers") == 0) input = &inputs[i];
  }
  if (input == NULL) return 1;
  if (input->precision != FP32 || input->dimsCount != 2 || input->dims[0] != 1) return 2;
  uint64_t width = input->dims[1];
  long count = Count(input, params, paramsCount);

  struct CustomNodeTensor* output = (struct CustomNodeTensor*)malloc(sizeof(struct CustomNodeTensor));
  uint64_t bytes = (uint64_t)count * width * sizeof(float);
  float* data = (float*)malloc(bytes > 0 ? bytes : 1);
  uint64_t* dims = (uint64_t*)malloc(3 * sizeof(uint64_t));
  if (output == NULL || data == NULL || dims == NULL) {
    free(output);
    free(data);
    free(dims);
    return 3;
  }
  const float* in = (const float*)input->data;
  for (long k = 0; k < count; k++) {
    for (uint64_t i = 0; i < width; i++) data[k * width + i] = in[i] + (float)k;
  }
  dims[0] = (uint64_t)count;
  dims[1] = 1;
  dims[2] = width;
  output->name = "dynamic_demultiplex_results";
  output->data = (uint8_t*)data;
  output->dataBytes = bytes;
  output->dims = dims;
  output->dimsCount = 3;
  output->precision = FP32;
  *outputs = output;
  *outputsCount = 1;
  return 0;
}

static int Info(struct CustomNodeTensorInfo** info, int* infoCount, const char* name, uint64_t dimsCount,
                const uint64_t* dimValues) {
  struct CustomNodeTensorInfo* entry = (struct CustomNodeTensorInfo*)malloc(sizeof(struct CustomNodeTensorInfo));
  uint64_t* dims = (uint64_t*)malloc(dimsCount * sizeof(uint64_t));
  if (entry == NULL || dims == NULL) {
    free(entry);
    free(dims);
    return 1;
  }
  memcpy(dims, dimValues, dimsCount * sizeof(uint64_t));
  entry->name = name;
  entry->dims = dims;
  entry->dimsCount = dimsCount;
  entry->precision = FP32;
  *info = entry;
  *infoCount = 1;
  return 0;
}

int getInputsInfo(struct CustomNodeTensorInfo** info, int* infoCount, const struct CustomNodeParam* params,
                  int paramsCount, void* manager) {
  const uint64_t dims[2] = {1, 0};
  return Info(info, infoCount, "input_numbers", 2, dims);
}

int getOutputsInfo(struct CustomNodeTensorInfo** info, int* infoCount, const struct CustomNodeParam* params,
                   int paramsCount, void* manager) {
  const uint64_t dims[3] = {0, 1, 0};
  return Info(info, infoCount, "dynamic_demultiplex_results", 3, dims);
}

int release(void* ptr, void* manager) {
  free(ptr);
  return 0;
}
