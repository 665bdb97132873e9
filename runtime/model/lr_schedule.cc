#include "runtime/model/lr_schedule.h"

#include <cmath>

namespace hearsay {

float LrSchedule::At(int64_t round) const {
  const auto t = static_cast<double>(round);
  if (kind == "inverse") return static_cast<float>(base / (1.0 + decay * t));
  if (kind == "step") {
    const int64_t steps = step_every > 0 ? round / step_every : 0;
    return static_cast<float>(base * std::pow(decay, static_cast<double>(steps)));
  }
  return static_cast<float>(base);
}

Status LrSchedule::Validate() const {
  if (kind != "constant" && kind != "inverse" && kind != "step") {
    return InvalidArgument("lr.kind = '" + kind + "'; valid kinds are constant, inverse, step");
  }
  if (!(base > 0) || !std::isfinite(base)) {
    return InvalidArgument("lr.base = " + std::to_string(base) + "; must be a finite number > 0");
  }
  if (kind == "inverse" && (!(decay >= 0) || !std::isfinite(decay))) {
    return InvalidArgument("lr.decay = " + std::to_string(decay) +
                           "; must be a finite number >= 0 for the inverse schedule");
  }
  if (kind == "step") {
    if (!(decay > 0 && decay <= 1)) {
      return InvalidArgument("lr.decay = " + std::to_string(decay) +
                             "; the step schedule multiplies by decay, which must be in (0, 1]");
    }
    if (step_every < 1) {
      return InvalidArgument("lr.step_every = " + std::to_string(step_every) +
                             "; must be >= 1 for the step schedule");
    }
  }
  return Status::Ok();
}

}  // namespace hearsay
