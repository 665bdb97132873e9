#include "runtime/peer/workload.h"

#include "runtime/data/csv_data.h"
#include "runtime/data/idx.h"
#include "runtime/data/libsvm.h"

namespace hearsay {

namespace {

// Data errors name the data file (and its line); the prefix says which experiment setting led
// there.
Status AtData(const RunConfig& run, const Status& s) {
  return run.data_at.empty() ? s : s.WithPrefix(run.data_at + ": data");
}

// One data file (with its labels file for idx). `features`: libsvm's declared width (the test
// file takes the training file's).
Result<Dataset> LoadFile(const DataConfig& d, const std::string& path, const std::string& labels,
                         int64_t features) {
  if (d.kind == "csv") return LoadCsv(path, d.csv);
  if (d.kind == "idx") return LoadIdx(path, labels);
  return LoadLibsvm(path, features);
}

Status ReadData(const RunConfig& run, int num_peers, Workload& w) {
  const DataConfig& d = run.data;
  if (d.kind == "synthetic") {
    HEARSAY_ASSIGN_OR_RETURN(Dataset all, MakeSynthetic(d.synthetic));
    TrainTest split = SplitTrainTest(all, d.test_fraction, d.synthetic.seed);
    w.train = std::move(split.train);
    w.test = std::move(split.test);
  } else {
    HEARSAY_ASSIGN_OR_RETURN(Dataset all, LoadFile(d, d.path, d.labels, d.features));
    if (d.test_path.empty()) {
      TrainTest split = SplitTrainTest(all, d.test_fraction, run.seed);
      w.train = std::move(split.train);
      w.test = std::move(split.test);
    } else {
      w.train = std::move(all);
      HEARSAY_ASSIGN_OR_RETURN(w.test,
                               LoadFile(d, d.test_path, d.test_labels, w.train.num_features));
      if (w.test.num_features != w.train.num_features) {
        return InvalidArgument(d.test_path + ": has " + std::to_string(w.test.num_features) +
                               " features, the training file " + d.path + " has " +
                               std::to_string(w.train.num_features));
      }
      w.test.num_classes = std::max(w.test.num_classes, w.train.num_classes);
      w.train.num_classes = w.test.num_classes;
    }
  }
  if (w.train.size() < num_peers) {
    return InvalidArgument("run '" + run.name + "': " + std::to_string(w.train.size()) +
                           " training examples cannot be shared by " + std::to_string(num_peers) +
                           " peers");
  }
  w.shards = PartitionIndices(w.train, num_peers, d.partition, run.seed, d.alpha);
  return Status::Ok();
}

}  // namespace

Result<Workload> BuildWorkload(const RunConfig& run, int num_peers) {
  Workload w;
  Status data = ReadData(run, num_peers, w);
  if (!data.ok()) return AtData(run, data);
  auto model = MakeModel(run.model, w.train.num_features, w.train.num_classes);
  if (!model.ok()) {
    return model.status().WithPrefix((run.model_at.empty() ? "" : run.model_at + ": ") + "run '" +
                                     run.name + "'");
  }
  w.model = std::move(model).value();
  return w;
}

}  // namespace hearsay
