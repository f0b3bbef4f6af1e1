/*
 * image_transformation: resize, color order, value range and layout of one
 * FP32 image, with the parameters of OVMS's node of the same name.
 *
 * Input "image" [1,C,H,W] or [1,H,W,C] (original_image_layout, required:
 * NCHW or NHWC), C = 3 for BGR/RGB and 1 for GRAY. Output "image" in
 * target_image_layout (default: the original) and target_image_color_order
 * (default: the original color order, which defaults to BGR), resized to
 * target_image_width x target_image_height (each default: unchanged) with
 * bilinear interpolation (pixel centres aligned, edges clamped). Then, per
 * output channel: (value - mean_values[c]) / scale_values[c]; "scale" is one
 * divisor for every channel, ignored when scale_values is given. Lists are
 * written "[a,b,c]" with one value per output channel.
 * Order: color conversion, resize, mean/scale, layout.
 * Bad params make initialize fail; an input that does not fit them makes
 * execute fail.
 */
#include <stdlib.h>
#include <string.h>

#include "custom_node/custom_node_interface.h"

enum Color { BGR, RGB, GRAY };

struct Config {
  int nchw_in, nchw_out;
  enum Color color_in, color_out;
  long width, height; /* 0: keep */
  int channels_out;
  float mean[3], scale[3];
};

static int ParseColor(const char* text, enum Color* out) {
  if (strcmp(text, "BGR") == 0) *out = BGR;
  else if (strcmp(text, "RGB") == 0) *out = RGB;
  else if (strcmp(text, "GRAY") == 0) *out = GRAY;
  else return 0;
  return 1;
}

static int ParseLayout(const char* text, int* nchw) {
  if (strcmp(text, "NCHW") == 0) *nchw = 1;
  else if (strcmp(text, "NHWC") == 0) *nchw = 0;
  else return 0;
  return 1;
}

static int ParseSize(const char* text, long* out) {
  char* end = NULL;
  long value = strtol(text, &end, 10);
  if (end == text || *end != '\0' || value <= 0 || value > 100000) return 0;
  *out = value;
  return 1;
}

/* "[a,b,c]" or "[a]" (broadcast) into `count` values. */
static int ParseList(const char* text, float* out, int count) {
  float values[3];
  int n = 0;
  const char* p = text;
  while (*p == ' ') p++;
  if (*p++ != '[') return 0;
  for (;;) {
    char* end = NULL;
    float v = strtof(p, &end);
    if (end == p || n == 3) return 0;
    values[n++] = v;
    p = end;
    while (*p == ' ') p++;
    if (*p == ',') { p++; continue; }
    if (*p == ']') break;
    return 0;
  }
  if (n != count && n != 1) return 0;
  for (int i = 0; i < count; i++) out[i] = values[n == 1 ? 0 : i];
  return 1;
}

int initialize(void** manager, const struct CustomNodeParam* params, int paramsCount) {
  struct Config* c = (struct Config*)calloc(1, sizeof(struct Config));
  if (c == NULL) return 1;
  const char *layout_in = NULL, *layout_out = NULL, *color_in = "BGR", *color_out = NULL;
  const char *mean = NULL, *scale_values = NULL, *scale = NULL;
  int ok = 1;
  for (int i = 0; i < paramsCount; i++) {
    const char* k = params[i].key;
    const char* v = params[i].value;
    if (strcmp(k, "original_image_layout") == 0) layout_in = v;
    else if (strcmp(k, "target_image_layout") == 0) layout_out = v;
    else if (strcmp(k, "original_image_color_order") == 0) color_in = v;
    else if (strcmp(k, "target_image_color_order") == 0) color_out = v;
    else if (strcmp(k, "target_image_width") == 0) ok &= ParseSize(v, &c->width);
    else if (strcmp(k, "target_image_height") == 0) ok &= ParseSize(v, &c->height);
    else if (strcmp(k, "mean_values") == 0) mean = v;
    else if (strcmp(k, "scale_values") == 0) scale_values = v;
    else if (strcmp(k, "scale") == 0) scale = v;
  }
  ok &= layout_in != NULL && ParseLayout(layout_in, &c->nchw_in);
  c->nchw_out = c->nchw_in;
  if (ok && layout_out != NULL) ok &= ParseLayout(layout_out, &c->nchw_out);
  ok &= ParseColor(color_in, &c->color_in);
  c->color_out = c->color_in;
  if (ok && color_out != NULL) ok &= ParseColor(color_out, &c->color_out);
  c->channels_out = c->color_out == GRAY ? 1 : 3;
  for (int i = 0; i < 3; i++) {
    c->mean[i] = 0.0f;
    c->scale[i] = 1.0f;
  }
  if (ok && mean != NULL) ok &= ParseList(mean, c->mean, c->channels_out);
  if (ok && scale_values != NULL) {
    ok &= ParseList(scale_values, c->scale, c->channels_out);
  } else if (ok && scale != NULL) {
    char* end = NULL;
    float s = strtof(scale, &end);
    ok &= end != scale && *end == '\0';
    for (int i = 0; i < 3; i++) c->scale[i] = s;
  }
  for (int i = 0; ok && i < c->channels_out; i++) ok &= c->scale[i] != 0.0f;
  if (!ok) {
    free(c);
    return 2;
  }
  *manager = c;
  return 0;
}

int deinitialize(void* manager) {
  free(manager);
  return 0;
}

/* Pixel (y, x), channel ch of an HWC buffer. */
#define AT(buf, w, chs, y, x, ch) ((buf)[((size_t)(y) * (w) + (x)) * (chs) + (ch)])

static void ConvertColor(const float* in, int chs_in, enum Color from, float* out, enum Color to, size_t pixels) {
  for (size_t p = 0; p < pixels; p++) {
    const float* src = in + p * chs_in;
    float* dst = out + p * (to == GRAY ? 1 : 3);
    float b = src[0], g = src[0], r = src[0];
    if (from == BGR) { b = src[0]; g = src[1]; r = src[2]; }
    if (from == RGB) { r = src[0]; g = src[1]; b = src[2]; }
    if (to == GRAY) {
      dst[0] = from == GRAY ? src[0] : 0.299f * r + 0.587f * g + 0.114f * b;
    } else if (to == BGR) {
      dst[0] = b; dst[1] = g; dst[2] = r;
    } else {
      dst[0] = r; dst[1] = g; dst[2] = b;
    }
  }
}

static void Resize(const float* in, long h, long w, int chs, float* out, long th, long tw) {
  float sy = (float)h / (float)th, sx = (float)w / (float)tw;
  for (long y = 0; y < th; y++) {
    float fy = ((float)y + 0.5f) * sy - 0.5f;
    if (fy < 0) fy = 0;
    long y0 = (long)fy;
    if (y0 > h - 1) y0 = h - 1;
    long y1 = y0 + 1 < h ? y0 + 1 : h - 1;
    float dy = fy - (float)y0;
    for (long x = 0; x < tw; x++) {
      float fx = ((float)x + 0.5f) * sx - 0.5f;
      if (fx < 0) fx = 0;
      long x0 = (long)fx;
      if (x0 > w - 1) x0 = w - 1;
      long x1 = x0 + 1 < w ? x0 + 1 : w - 1;
      float dx = fx - (float)x0;
      for (int c = 0; c < chs; c++) {
        float top = AT(in, w, chs, y0, x0, c) * (1 - dx) + AT(in, w, chs, y0, x1, c) * dx;
        float bottom = AT(in, w, chs, y1, x0, c) * (1 - dx) + AT(in, w, chs, y1, x1, c) * dx;
        AT(out, tw, chs, y, x, c) = top * (1 - dy) + bottom * dy;
      }
    }
  }
}

int execute(const struct CustomNodeTensor* inputs, int inputsCount, struct CustomNodeTensor** outputs,
            int* outputsCount, const struct CustomNodeParam* params, int paramsCount, void* manager) {
  const struct Config* c = (const struct Config*)manager;
  const struct CustomNodeTensor* input = NULL;
  for (int i = 0; i < inputsCount; i++) {
    if (strcmp(inputs[i].name, "image") == 0) input = &inputs[i];
  }
  if (input == NULL || input->precision != FP32 || input->dimsCount != 4 || input->dims[0] != 1) return 1;
  long chs = (long)(c->nchw_in ? input->dims[1] : input->dims[3]);
  long h = (long)(c->nchw_in ? input->dims[2] : input->dims[1]);
  long w = (long)(c->nchw_in ? input->dims[3] : input->dims[2]);
  if (chs != (c->color_in == GRAY ? 1 : 3) || h <= 0 || w <= 0) return 2;
  if (input->dataBytes != (uint64_t)(chs * h * w) * sizeof(float)) return 3;
  long th = c->height ? c->height : h, tw = c->width ? c->width : w;
  int cho = c->channels_out;

  size_t pixels = (size_t)h * (size_t)w;
  float* hwc = (float*)malloc(pixels * chs * sizeof(float));
  float* colored = (float*)malloc(pixels * cho * sizeof(float));
  float* resized = (float*)malloc((size_t)th * tw * cho * sizeof(float));
  struct CustomNodeTensor* output = (struct CustomNodeTensor*)malloc(sizeof(struct CustomNodeTensor));
  uint64_t* dims = (uint64_t*)malloc(4 * sizeof(uint64_t));
  float* data = (float*)malloc((size_t)th * tw * cho * sizeof(float));
  if (!hwc || !colored || !resized || !output || !dims || !data) {
    free(hwc); free(colored); free(resized); free(output); free(dims); free(data);
    return 4;
  }
  const float* in = (const float*)input->data;
  for (long y = 0; y < h; y++) {
    for (long x = 0; x < w; x++) {
      for (long ch = 0; ch < chs; ch++) {
        AT(hwc, w, chs, y, x, ch) = c->nchw_in ? in[(ch * h + y) * w + x] : in[(y * w + x) * chs + ch];
      }
    }
  }
  ConvertColor(hwc, (int)chs, c->color_in, colored, c->color_out, pixels);
  Resize(colored, h, w, cho, resized, th, tw);
  for (long y = 0; y < th; y++) {
    for (long x = 0; x < tw; x++) {
      for (int ch = 0; ch < cho; ch++) {
        float v = (AT(resized, tw, cho, y, x, ch) - c->mean[ch]) / c->scale[ch];
        if (c->nchw_out) data[((size_t)ch * th + y) * tw + x] = v;
        else AT(data, tw, cho, y, x, ch) = v;
      }
    }
  }
  free(hwc);
  free(colored);
  free(resized);
  dims[0] = 1;
  dims[1] = (uint64_t)(c->nchw_out ? cho : th);
  dims[2] = (uint64_t)(c->nchw_out ? th : tw);
  dims[3] = (uint64_t)(c->nchw_out ? tw : cho);
  output->name = "image";
  output->data = (uint8_t*)data;
  output->dataBytes = (uint64_t)th * tw * cho * sizeof(float);
  output->dims = dims;
  output->dimsCount = 4;
  output->precision = FP32;
  *outputs = output;
  *outputsCount = 1;
  return 0;
}

static int Info(struct CustomNodeTensorInfo** info, int* infoCount, int nchw, uint64_t chs, uint64_t h,
                uint64_t w) {
  struct CustomNodeTensorInfo* entry = (struct CustomNodeTensorInfo*)malloc(sizeof(struct CustomNodeTensorInfo));
  uint64_t* dims = (uint64_t*)malloc(4 * sizeof(uint64_t));
  if (entry == NULL || dims == NULL) {
    free(entry);
    free(dims);
    return 1;
  }
  dims[0] = 1;
  dims[1] = nchw ? chs : h;
  dims[2] = nchw ? h : w;
  dims[3] = nchw ? w : chs;
  entry->name = "image";
  entry->dims = dims;
  entry->dimsCount = 4;
  entry->precision = FP32;
  *info = entry;
  *infoCount = 1;
  return 0;
}

int getInputsInfo(struct CustomNodeTensorInfo** info, int* infoCount, const struct CustomNodeParam* params,
                  int paramsCount, void* manager) {
  const struct Config* c = (const struct Config*)manager;
  return Info(info, infoCount, c->nchw_in, c->color_in == GRAY ? 1 : 3, 0, 0);
}

int getOutputsInfo(struct CustomNodeTensorInfo** info, int* infoCount, const struct CustomNodeParam* params,
                   int paramsCount, void* manager) {
  const struct Config* c = (const struct Config*)manager;
  return Info(info, infoCount, c->nchw_out, (uint64_t)c->channels_out, (uint64_t)c->height, (uint64_t)c->width);
}

int release(void* ptr, void* manager) {
  free(ptr);
  return 0;
}
