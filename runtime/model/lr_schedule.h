// LrSchedule: the SGD step size as a function of the (1-based) round.
//
//   constant: base
//   inverse:  base / (1 + decay * t)
//   step:     base * decay^floor(t / step_every)
// Value type; Validate() says what is wrong with a user-written schedule.
// Thread-safety: value type.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace hearsay {

struct LrSchedule {
  std::string kind = "constant";  // constant | inverse | step
  double base = 0.1;              // step size at t = 0 (> 0)
  double decay = 0;               // inverse: decay rate (>= 0); step: factor in (0, 1]
  int64_t step_every = 0;         // step: rounds between decays (>= 1)

  // Step size at round t. Valid only for a schedule that passes Validate().
  float At(int64_t round) const;
  // Errors name the field and its valid range, e.g. "lr.step_every = 0; must be >= 1 for step".
  Status Validate() const;
};

}  // namespace hearsay
