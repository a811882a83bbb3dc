#pragma once

// Everything about features, in the slices a user of the core may include alone: time.h (time,
// weekly windows, durations), feature_spec.h (derived features, `auto`, FeatureSpec),
// feature_rows.h (BuildFeatureRows, row problems), feature_stream.h (one row at a time).

#include "isoscope/feature_rows.h"
#include "isoscope/feature_spec.h"
#include "isoscope/feature_stream.h"
#include "isoscope/time.h"
