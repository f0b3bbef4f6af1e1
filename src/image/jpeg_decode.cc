#include "image/jpeg_decode.h"

// clang-format off
#include <cstdio>  // jpeglib.h needs FILE and size_t first
#include <jpeglib.h>
#include <jerror.h>
// clang-format on

#include <csetjmp>
#include <exception>
#include <string>

namespace tessera::image {
namespace {

struct ErrorManager {
  jpeg_error_mgr pub;  // first: libjpeg sees only this
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void Fail(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  cinfo->err->format_message(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Warnings after which libjpeg goes on with invented pixels.
bool LosesData(int code) {
  return code == JWRN_HIT_MARKER || code == JWRN_JPEG_EOF || code == JWRN_HUFF_BAD_CODE ||
         code == JWRN_MUST_RESYNC || code == JWRN_ARITH_BAD_CODE;
}

// Data-losing warnings are errors; other warnings and traces are dropped
// (libjpeg would print them on stderr).
void OnMessage(j_common_ptr cinfo, int level) {
  if (level < 0 && LosesData(cinfo->err->msg_code)) Fail(cinfo);
}

struct Job {
  jpeg_decompress_struct cinfo{};
  ErrorManager err{};
  cv::Mat image;
  bool four_components = false;
};

// libjpeg's calls, with setjmp for its errors: only `job` (not locals) is
// touched after setjmp. False on error (job.err.message says why).
bool Run(Job& job, std::string_view bytes) {
  jpeg_decompress_struct& cinfo = job.cinfo;
  if (setjmp(job.err.jump)) return false;
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(bytes.data()),
               static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.num_components == 4) {
    job.four_components = true;
    return true;
  }
  cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_EXT_BGR;
  jpeg_start_decompress(&cinfo);
  try {
    job.image.create(static_cast<int>(cinfo.output_height), static_cast<int>(cinfo.output_width),
                     CV_8UC(cinfo.output_components));
  } catch (const std::exception&) {
    std::snprintf(job.err.message, sizeof job.err.message, "out of memory");
    return false;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = job.image.ptr(static_cast<int>(cinfo.output_scanline));
    if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) ERREXIT(&cinfo, JERR_INPUT_EMPTY);
  }
  jpeg_finish_decompress(&cinfo);
  return true;
}

}  // namespace

Result<std::optional<cv::Mat>> DecodeJpeg(std::string_view bytes) {
  Job job;
  job.cinfo.err = jpeg_std_error(&job.err.pub);
  job.err.pub.error_exit = Fail;
  job.err.pub.emit_message = OnMessage;
  jpeg_create_decompress(&job.cinfo);
  const bool ok = Run(job, bytes);
  jpeg_destroy_decompress(&job.cinfo);
  if (!ok) {
    std::string reason = job.err.message;
    const std::string prefix = "Corrupt JPEG data: ";
    if (reason.rfind(prefix, 0) == 0) reason.erase(0, prefix.size());
    return InvalidArgument("corrupt JPEG data (" + reason + ")");
  }
  if (job.four_components) return std::optional<cv::Mat>();
  return std::optional<cv::Mat>(std::move(job.image));
}

}  // namespace tessera::image
