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

// Reorders the training rows so that each peer's shard is one contiguous block, in the order of
// its indices, and renumbers the shards accordingly. Every peer draws the same rows with the same
// values as before (its sampler walks positions of its shard), so training is unchanged bit for
// bit; what changes is locality: a shard drawn at random from the whole set put every minibatch
// row on its own cache lines and pages, which the simulator's thousands of peers paid as cache and
// TLB misses in each step (docs/simulator.md). Only the order of the full-training-set evaluation's
// sum changes. Shards that are not a partition of every row are left as they are.
void StoreShardsContiguously(Workload& w) {
  const auto n = static_cast<size_t>(w.train.size());
  std::vector<int64_t> order;
  order.reserve(n);
  for (const auto& shard : w.shards) order.insert(order.end(), shard.begin(), shard.end());
  if (order.size() != n) return;
  std::vector<char> seen(n, 0);
  for (int64_t r : order) {
    if (r < 0 || static_cast<size_t>(r) >= n || seen[static_cast<size_t>(r)]) return;
    seen[static_cast<size_t>(r)] = 1;
  }
  w.train = Gather(w.train, order);
  int64_t next = 0;
  for (auto& shard : w.shards) {
    for (int64_t& r : shard) r = next++;
  }
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
  StoreShardsContiguously(w);
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
