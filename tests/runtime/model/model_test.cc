// Models: gradients against finite differences, known values, and the factory's errors.
#include "runtime/model/model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>
#include <vector>

#include "runtime/data/random_draws.h"

namespace hearsay {
namespace {

Dataset RandomData(int64_t n, int64_t d, int32_t k, uint64_t seed) {
  Dataset data;
  data.num_features = d;
  data.num_classes = k;
  const RngKey key{seed, 0, 0, kStreamData, 99};
  for (int64_t i = 0; i < n * d; ++i)
    data.features.push_back(static_cast<float>(GaussianAt(key, i)));
  for (int64_t i = 0; i < n; ++i) data.labels.push_back(static_cast<int32_t>(i % k));
  return data;
}

std::unique_ptr<Model> Make(const ModelConfig& config, int64_t d, int32_t k) {
  auto m = MakeModel(config, d, k);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return std::move(m).value();
}

// Central differences around float parameters. For the smooth convex models h = 1e-2 gives
// truncation ~1e-5 and float rounding ~1e-5. The MLP has ReLU kinks: it uses h = 1e-3, a
// tolerance for the larger rounding noise, and `kinks`, which also accepts the one-sided
// difference on the smooth side when the +-h step crosses a kink.
void ExpectGradientMatchesFiniteDifferences(const Model& model, const Dataset& data, uint64_t seed,
                                            float h = 1e-2f, double abs_tol = 2e-4,
                                            bool kinks = false) {
  std::vector<float> x(model.num_params());
  model.Init(seed, x);
  for (size_t i = 0; i < x.size(); ++i) x[i] += 0.3f * std::sin(1.7f * static_cast<float>(i));
  std::vector<float> grad(x.size());
  const Batch batch = data.AsBatch();
  const double loss = model.LossAndGradient(x, batch, grad);
  EXPECT_NEAR(loss, model.Loss(x, batch), 1e-6);
  double max_abs = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    std::vector<float> xp = x, xm = x;
    xp[i] += h;
    xm[i] -= h;
    const double lp = model.Loss(xp, batch), lm = model.Loss(xm, batch);
    double fd = (lp - lm) / (static_cast<double>(xp[i]) - xm[i]);
    if (kinks) {
      for (double one_sided : {(lp - loss) / (static_cast<double>(xp[i]) - x[i]),
                               (loss - lm) / (static_cast<double>(x[i]) - xm[i])}) {
        if (std::fabs(one_sided - grad[i]) < std::fabs(fd - grad[i])) fd = one_sided;
      }
    }
    EXPECT_NEAR(grad[i], fd, abs_tol + 1e-3 * std::fabs(fd)) << model.Describe() << " param " << i;
    max_abs = std::max(max_abs, std::fabs(fd));
  }
  EXPECT_GT(max_abs, 1e-2);  // the check is not vacuous
}

TEST(SoftmaxRegression, GradientMatchesFiniteDifferences) {
  ModelConfig c;
  c.l2 = 0.05;
  auto model = Make(c, 5, 3);
  EXPECT_EQ(model->num_params(), 18u);
  ExpectGradientMatchesFiniteDifferences(*model, RandomData(9, 5, 3, 1), 3);
}

TEST(LogisticRegression, GradientMatchesFiniteDifferences) {
  ModelConfig c;
  c.kind = "logistic";
  c.l2 = 0.05;
  auto model = Make(c, 6, 2);
  EXPECT_EQ(model->num_params(), 7u);
  ExpectGradientMatchesFiniteDifferences(*model, RandomData(11, 6, 2, 2), 4);
}

TEST(Mlp, GradientMatchesFiniteDifferences) {
  ModelConfig c;
  c.kind = "mlp";
  c.hidden = {6, 4};
  c.l2 = 0.05;
  auto model = Make(c, 5, 3);
  EXPECT_EQ(model->num_params(), 5u * 6 + 6 + 6 * 4 + 4 + 4 * 3 + 3);
  EXPECT_EQ(model->Describe(), "mlp(d=5,hidden=[6,4],k=3,l2=0.05)");
  ExpectGradientMatchesFiniteDifferences(*model, RandomData(9, 5, 3, 5), 6, 1e-3f, 5e-4,
                                         /*kinks=*/true);
}

TEST(Mlp, WithoutHiddenLayersEqualsSoftmaxRegression) {
  ModelConfig c;
  c.l2 = 0.1;
  auto softmax = Make(c, 4, 3);
  c.kind = "mlp";
  auto mlp = Make(c, 4, 3);
  ASSERT_EQ(mlp->num_params(), softmax->num_params());
  std::vector<float> x(mlp->num_params());
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.1f * static_cast<float>(i % 7) - 0.3f;
  const Dataset data = RandomData(10, 4, 3, 7);
  std::vector<float> g1(x.size()), g2(x.size());
  EXPECT_NEAR(mlp->LossAndGradient(x, data.AsBatch(), g1),
              softmax->LossAndGradient(x, data.AsBatch(), g2), 1e-6);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(g1[i], g2[i], 1e-6);
  EXPECT_EQ(mlp->Accuracy(x, data.AsBatch()), softmax->Accuracy(x, data.AsBatch()));
}

TEST(SoftmaxRegression, LossAtZeroIsLogOfClassCount) {
  auto model = Make(ModelConfig{}, 4, 5);
  std::vector<float> x(model->num_params(), 0.0f);
  EXPECT_NEAR(model->Loss(x, RandomData(10, 4, 5, 3).AsBatch()), std::log(5.0), 1e-6);
}

TEST(LogisticRegression, LossAtZeroIsLog2AndLargeMarginsStayFinite) {
  ModelConfig c;
  c.kind = "logistic";
  c.l2 = 0;
  auto model = Make(c, 1, 2);
  std::vector<float> x = {0.0f, 0.0f};
  Dataset data;
  data.num_features = 1;
  data.num_classes = 2;
  data.features = {1.0f, -1.0f};
  data.labels = {1, 0};
  EXPECT_NEAR(model->Loss(x, data.AsBatch()), std::log(2.0), 1e-7);
  x = {1000.0f, 0.0f};  // z = +-1000, both right: loss ~ 0, no overflow
  EXPECT_NEAR(model->Loss(x, data.AsBatch()), 0.0, 1e-12);
  EXPECT_EQ(model->Accuracy(x, data.AsBatch()), 1.0);
  x = {-1000.0f, 0.0f};  // both wrong: loss ~ 1000
  EXPECT_NEAR(model->Loss(x, data.AsBatch()), 1000.0, 1e-6);
  EXPECT_EQ(model->Accuracy(x, data.AsBatch()), 0.0);
}

TEST(SoftmaxRegression, EmptyBatchGivesTheL2TermAlone) {
  ModelConfig c;
  c.l2 = 0.5;
  auto model = Make(c, 2, 2);
  std::vector<float> x = {1, 2, 3, 4, 7, 7};  // W = [[1,2],[3,4]], b = (7,7)
  std::vector<float> g(6);
  Batch empty;
  EXPECT_DOUBLE_EQ(model->LossAndGradient(x, empty, g), 0.25 * 30);
  EXPECT_EQ(g, (std::vector<float>{0.5f, 1.0f, 1.5f, 2.0f, 0.0f, 0.0f}));
}

// Wide rows (several feature chunks of linear_kernels.cc, plus a ragged tail): loss and gradient
// against a double-precision evaluation of the definition.
TEST(SoftmaxRegression, WideRowsMatchADoublePrecisionReference) {
  const int64_t n = 7, d = 2500;
  const int32_t k = 3;
  ModelConfig c;
  c.l2 = 0.01;
  auto model = Make(c, d, k);
  const Dataset data = RandomData(n, d, k, 21);
  std::vector<float> x(model->num_params()), g(x.size());
  model->Init(5, x);
  for (int32_t j = 0; j < k; ++j) x[static_cast<size_t>(k * d + j)] = 0.1f * static_cast<float>(j);
  const double loss = model->LossAndGradient(x, data.AsBatch(), g);
  std::vector<double> gref(x.size(), 0.0);
  double lref = 0;
  for (int64_t i = 0; i < n; ++i) {
    std::vector<double> z(static_cast<size_t>(k));
    double m = -1e300;
    for (int32_t j = 0; j < k; ++j) {
      double s = x[static_cast<size_t>(k * d + j)];
      for (int64_t f = 0; f < d; ++f) {
        s += static_cast<double>(x[static_cast<size_t>(j * d + f)]) *
             data.features[static_cast<size_t>(i * d + f)];
      }
      z[static_cast<size_t>(j)] = s;
      m = std::max(m, s);
    }
    double sum = 0;
    for (double v : z) sum += std::exp(v - m);
    const int32_t y = data.labels[static_cast<size_t>(i)];
    lref += std::log(sum) + m - z[static_cast<size_t>(y)];
    for (int32_t j = 0; j < k; ++j) {
      const double p = std::exp(z[static_cast<size_t>(j)] - m) / sum - (j == y ? 1.0 : 0.0);
      for (int64_t f = 0; f < d; ++f) {
        gref[static_cast<size_t>(j * d + f)] +=
            p / n * data.features[static_cast<size_t>(i * d + f)];
      }
      gref[static_cast<size_t>(k * d + j)] += p / n;
    }
  }
  double pen = 0;
  for (int64_t w = 0; w < k * d; ++w) {
    pen += static_cast<double>(x[static_cast<size_t>(w)]) * x[static_cast<size_t>(w)];
    gref[static_cast<size_t>(w)] += c.l2 * x[static_cast<size_t>(w)];
  }
  EXPECT_NEAR(loss, lref / n + 0.5 * c.l2 * pen, 1e-5);
  for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], gref[i], 1e-6) << "param " << i;
}

// A gather view (the sampler's) and its contiguous copy give the same bits, for every model.
TEST(Model, GatherViewAndContiguousRowsGiveTheSameBits) {
  const Dataset data = RandomData(40, 1100, 3, 8);
  const std::vector<int64_t> rows = {39, 2, 17, 17, 0, 25, 8, 31};
  std::vector<int32_t> labels;
  for (int64_t r : rows) labels.push_back(data.labels[static_cast<size_t>(r)]);
  const Batch view{data.features.data(), labels.data(), static_cast<int64_t>(rows.size()), 1100,
                   rows.data()};
  std::vector<float> scratch;
  const Batch copy = Contiguous(view, &scratch);
  ModelConfig mlp;
  mlp.kind = "mlp";
  mlp.hidden = {6};
  ModelConfig logistic;
  logistic.kind = "logistic";
  for (const auto& [config, k] :
       {std::pair{ModelConfig{}, 3}, std::pair{mlp, 3}, std::pair{logistic, 2}}) {
    auto model = Make(config, 1100, k);
    std::vector<int32_t> lab = labels;
    for (auto& l : lab) l %= k;
    Batch v = view, c = copy;
    v.labels = c.labels = lab.data();
    std::vector<float> x(model->num_params()), g1(x.size()), g2(x.size());
    model->Init(3, x);
    EXPECT_EQ(model->LossAndGradient(x, v, g1), model->LossAndGradient(x, c, g2));
    EXPECT_EQ(g1, g2) << model->Describe();
    EXPECT_EQ(model->Accuracy(x, v), model->Accuracy(x, c));
  }
}

TEST(Model, InitIsDeterministicPerSeed) {
  auto model = Make(ModelConfig{}, 8, 3);
  std::vector<float> a(model->num_params()), b(a.size()), c(a.size());
  model->Init(1, a);
  model->Init(1, b);
  model->Init(2, c);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a[0], 0.0f);
}

TEST(MakeModel, RejectsUnknownKindsAndImpossibleShapes) {
  ModelConfig c;
  c.kind = "svm";
  auto r = MakeModel(c, 4, 2);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("logistic, softmax, mlp"), std::string::npos);

  c.kind = "logistic";
  r = MakeModel(c, 4, 3);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("3 classes"), std::string::npos);

  c.kind = "mlp";
  c.hidden = {8, 0};
  EXPECT_FALSE(MakeModel(c, 4, 3).ok());
  c.kind = "softmax";
  c.hidden = {8};
  EXPECT_FALSE(MakeModel(c, 4, 3).ok());
  c.hidden.clear();
  c.l2 = -1;
  EXPECT_FALSE(MakeModel(c, 4, 3).ok());
  c.l2 = 0;
  EXPECT_FALSE(MakeModel(c, 0, 3).ok());
  EXPECT_FALSE(MakeModel(c, 4, 1).ok());
  EXPECT_EQ(MakeModel(c, 32, 4).value()->Describe(), "softmax(d=32,k=4,l2=0)");
}

}  // namespace
}  // namespace hearsay
