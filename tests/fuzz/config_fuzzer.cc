// libFuzzer target: CheckConfigText on arbitrary YAML.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // CheckConfigText reads bearer_token_file and password_file without a size limit: an input
  // naming /dev/zero or a FIFO would hang or exhaust memory, which is about the file system,
  // not the parser. Skip inputs that could spell such a key (also through a YAML escape).
  if (text.find("file") != std::string_view::npos || text.find('\\') != std::string_view::npos) {
    return 0;
  }
  // Relative paths resolve against a directory that does not exist.
  isoscope::native::Config config;
  (void)isoscope::native::CheckConfigText(text, "/nonexistent-isoscope-fuzz/isoscope.yml", &config);
  return 0;
}
