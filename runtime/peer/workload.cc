#include "runtime/peer/workload.h"

#include "runtime/data/csv_data.h"
#include "runtime/data/idx.h"
#include "runtime/data/libsvm.h"
#include "runtime/data/partition.h"
#include "runtime/data/synthetic.h"

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

Status CheckShareable(const RunConfig& run, int64_t examples, int num_peers) {
  if (examples >= num_peers) return Status::Ok();
  return InvalidArgument("run '" + run.name + "': " + std::to_string(examples) +
                         " training examples cannot be shared by " + std::to_string(num_peers) +
                         " peers");
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
  HEARSAY_RETURN_IF_ERROR(CheckShareable(run, w.train.size(), num_peers));
  w.shards = PartitionIndices(w.train, num_peers, d.partition, run.seed, d.alpha);
  StoreShardsContiguously(w);
  return Status::Ok();
}

// Once w.train holds exactly shard `peer`'s rows, in its order: that shard becomes rows 0..m-1,
// the other shards and the test set are dropped.
void RenumberAsOnlyShard(Workload& w, int peer) {
  for (size_t p = 0; p < w.shards.size(); ++p) {
    std::vector<int64_t>& shard = w.shards[p];
    if (p != static_cast<size_t>(peer)) {
      std::vector<int64_t>().swap(shard);
      continue;
    }
    for (size_t r = 0; r < shard.size(); ++r) shard[r] = static_cast<int64_t>(r);
  }
  w.test = Dataset{w.train.num_features, w.train.num_classes, {}, {}};
}

// ReadData cut to shard `peer`; for synthetic data without generating the other rows: the split
// and the partition need only the labels, then the shard's rows are generated alone.
Status ReadPeerData(const RunConfig& run, int num_peers, int peer, Workload& w) {
  const DataConfig& d = run.data;
  if (d.kind != "synthetic") {
    HEARSAY_RETURN_IF_ERROR(ReadData(run, num_peers, w));
    w.train = Gather(w.train, w.shards[static_cast<size_t>(peer)]);
    RenumberAsOnlyShard(w, peer);
    return Status::Ok();
  }
  HEARSAY_ASSIGN_OR_RETURN(std::vector<int32_t> labels, SyntheticLabels(d.synthetic));
  const TrainTestRows split =
      SplitTrainTestRows(static_cast<int64_t>(labels.size()), d.test_fraction, d.synthetic.seed);
  Dataset train;  // labels only: what the partition reads
  train.num_features = d.synthetic.features;
  train.num_classes = d.synthetic.classes;
  train.labels.reserve(split.train.size());
  for (int64_t i : split.train) train.labels.push_back(labels[static_cast<size_t>(i)]);
  HEARSAY_RETURN_IF_ERROR(CheckShareable(run, train.size(), num_peers));
  w.shards = PartitionIndices(train, num_peers, d.partition, run.seed, d.alpha);
  std::vector<int64_t> rows;  // the shard's examples, as indices into the full set
  for (int64_t r : w.shards[static_cast<size_t>(peer)]) {
    rows.push_back(split.train[static_cast<size_t>(r)]);
  }
  HEARSAY_ASSIGN_OR_RETURN(w.train, MakeSyntheticRows(d.synthetic, rows));
  RenumberAsOnlyShard(w, peer);
  return Status::Ok();
}

Status AddModel(const RunConfig& run, Workload& w) {
  auto model = MakeModel(run.model, w.train.num_features, w.train.num_classes);
  if (!model.ok()) {
    return model.status().WithPrefix((run.model_at.empty() ? "" : run.model_at + ": ") + "run '" +
                                     run.name + "'");
  }
  w.model = std::move(model).value();
  return Status::Ok();
}

}  // namespace

Result<Workload> BuildWorkload(const RunConfig& run, int num_peers) {
  Workload w;
  Status data = ReadData(run, num_peers, w);
  if (!data.ok()) return AtData(run, data);
  HEARSAY_RETURN_IF_ERROR(AddModel(run, w));
  return w;
}

Result<Workload> BuildPeerWorkload(const RunConfig& run, int num_peers, int peer) {
  if (peer < 0 || peer >= num_peers) {
    return InvalidArgument("peer id " + std::to_string(peer) + " is not one of the " +
                           std::to_string(num_peers) + " peers");
  }
  Workload w;
  Status data = ReadPeerData(run, num_peers, peer, w);
  if (!data.ok()) return AtData(run, data);
  HEARSAY_RETURN_IF_ERROR(AddModel(run, w));
  return w;
}

}  // namespace hearsay
