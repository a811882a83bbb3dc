#include "clock.h"

#include <chrono>

namespace isoscope::native {

TimeMs NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace isoscope::native
