#pragma once

#include "isoscope/features.h"

namespace isoscope::native {

/// Milliseconds since the epoch from the system clock: the native side owns the clock (the
/// core takes time as an argument).
TimeMs NowMs();

}  // namespace isoscope::native
