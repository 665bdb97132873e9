// MakeModel: model kind name -> implementation.
#include <memory>
#include <string>

#include "runtime/model/logistic.h"
#include "runtime/model/mlp.h"
#include "runtime/model/model.h"
#include "runtime/model/softmax.h"

namespace hearsay {

Result<std::unique_ptr<Model>> MakeModel(const ModelConfig& config, int64_t num_features,
                                         int32_t num_classes) {
  if (num_features < 1) {
    return InvalidArgument("model: num_features = " + std::to_string(num_features) +
                           "; the data must have at least one feature");
  }
  if (num_classes < 2) {
    return InvalidArgument("model: num_classes = " + std::to_string(num_classes) +
                           "; a classifier needs at least 2 classes");
  }
  if (!(config.l2 >= 0)) {
    return InvalidArgument("model.l2 = " + std::to_string(config.l2) + "; must be >= 0");
  }
  if (config.kind != "mlp" && !config.hidden.empty()) {
    return InvalidArgument("model.hidden is only used by kind mlp (kind is '" + config.kind + "')");
  }
  if (config.kind == "logistic") {
    if (num_classes > 2) {
      return InvalidArgument("model.kind = logistic is binary but the data has " +
                             std::to_string(num_classes) + " classes; use softmax");
    }
    return std::unique_ptr<Model>(new LogisticRegression(num_features, config.l2));
  }
  if (config.kind == "softmax") {
    return std::unique_ptr<Model>(new SoftmaxRegression(num_features, num_classes, config.l2));
  }
  if (config.kind == "mlp") {
    for (size_t l = 0; l < config.hidden.size(); ++l) {
      if (config.hidden[l] < 1) {
        return InvalidArgument("model.hidden[" + std::to_string(l) + "] = " +
                               std::to_string(config.hidden[l]) + "; layer widths must be >= 1");
      }
    }
    return std::unique_ptr<Model>(new Mlp(num_features, config.hidden, num_classes, config.l2));
  }
  return InvalidArgument("model.kind = '" + config.kind +
                         "'; valid kinds are logistic, softmax, mlp");
}

}  // namespace hearsay
