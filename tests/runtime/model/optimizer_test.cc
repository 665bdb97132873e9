// Inner and outer optimizers against hand-computed references on tiny vectors.
#include <gtest/gtest.h>

#include <cmath>

#include "runtime/model/optimizer.h"

namespace hearsay {
namespace {

std::unique_ptr<Optimizer> Make(OptimizerConfig c, size_t dim) {
  auto o = MakeOptimizer(c, dim);
  EXPECT_TRUE(o.ok()) << o.status().ToString();
  return std::move(o).value();
}

TEST(Optimizer, SgdDirectionIsTheGradientItself) {
  auto o = Make({}, 3);
  std::vector<float> x = {1, 2, 3}, g = {0.5f, -1, 0.25f}, d(3);
  o->Direction(x, g, d);
  EXPECT_EQ(d, g);
  EXPECT_TRUE(o->is_sgd());
}

TEST(Optimizer, MomentumAndNesterovMatchHandComputedSteps) {
  OptimizerConfig c;
  c.kind = "momentum";
  c.momentum = 0.5;
  auto m = Make(c, 2);
  c.kind = "nesterov";
  auto n = Make(c, 2);
  std::vector<float> x = {1, -1}, d(2), scratch(2);
  const std::vector<float> g1 = {1, 2}, g2 = {3, -4};
  m->Direction(x, g1, d);
  EXPECT_EQ(d, (std::vector<float>{1, 2}));  // v = g1
  m->Direction(x, g2, d);
  EXPECT_EQ(d, (std::vector<float>{3.5f, -3}));  // v = 0.5 v + g2
  n->Direction(x, g1, d);
  EXPECT_EQ(d, (std::vector<float>{1.5f, 3}));  // v = g1; d = g1 + 0.5 v
  n->Direction(x, g2, d);
  EXPECT_EQ(d, (std::vector<float>{4.75f, -5.5f}));  // v = (3.5, -3); d = g2 + 0.5 v
  // Step applies x - lr d.
  std::vector<float> y = {1, 1};
  auto s = Make(OptimizerConfig{}, 2);
  s->Step(y, g1, 0.5f, scratch);
  EXPECT_EQ(y, (std::vector<float>{0.5f, 0}));
}

TEST(Optimizer, AdamwBiasCorrectionAndDecoupledWeightDecay) {
  OptimizerConfig c;
  c.kind = "adamw";
  c.beta1 = 0.9;
  c.beta2 = 0.99;
  c.eps = 1e-8;
  c.weight_decay = 0.1;
  auto a = Make(c, 1);
  std::vector<float> x = {2.0f}, d(1);
  // Step 1: m1 = 0.1 g, m2 = 0.01 g^2; corrected: g and g^2, so d = g/|g| + wd x = 1 + 0.2.
  a->Direction(x, std::vector<float>{3.0f}, d);
  EXPECT_NEAR(d[0], 1.0 + 0.1 * 2.0, 1e-6);
  // Step 2 with g = -1: m1 = 0.09*3*... computed in double as the reference.
  double m1 = 0.1 * 3, m2 = 0.01 * 9;
  m1 = 0.9 * m1 + 0.1 * -1.0;
  m2 = 0.99 * m2 + 0.01 * 1.0;
  const double mhat = m1 / (1 - 0.81), vhat = m2 / (1 - 0.9801);
  a->Direction(x, std::vector<float>{-1.0f}, d);
  EXPECT_NEAR(d[0], mhat / (std::sqrt(vhat) + 1e-8) + 0.2, 1e-5);
}

TEST(Optimizer, OuterSgdAndNesterov) {
  OuterOptimizerConfig sgd;
  EXPECT_TRUE(sgd.identity());
  OuterOptimizer plain(sgd, 2);
  std::vector<float> delta = {0.25f, -3}, u(2);
  plain.Update(delta, u);
  EXPECT_EQ(u, delta);  // lr 1: exactly Delta
  OuterOptimizerConfig nc;
  nc.kind = "nesterov";
  nc.lr = 0.7;
  nc.momentum = 0.9;
  OuterOptimizer n(nc, 2);
  n.Update(delta, u);  // v = delta; u = 0.7 (delta + 0.9 delta)
  EXPECT_FLOAT_EQ(u[0], 0.7f * (0.25f + 0.9f * 0.25f));
  n.Update(delta, u);  // v = 0.9 delta + delta
  EXPECT_FLOAT_EQ(u[1], 0.7f * (-3 + 0.9f * (0.9f * -3 + -3)));
}

TEST(Optimizer, BadHyperParametersAreNamed) {
  OptimizerConfig c;
  c.kind = "adam";
  EXPECT_NE(c.Validate().message().find("'adam' is unknown"), std::string::npos);
  c.kind = "momentum";
  c.momentum = 1.5;
  EXPECT_NE(c.Validate().message().find("momentum"), std::string::npos);
  c = OptimizerConfig{};
  c.eps = NAN;
  EXPECT_FALSE(c.Validate().ok());
  c = OptimizerConfig{};
  c.weight_decay = -1;
  EXPECT_NE(c.Validate().message().find("weight_decay"), std::string::npos);
  OuterOptimizerConfig o;
  o.kind = "adamw";
  EXPECT_FALSE(o.Validate().ok());
  o = OuterOptimizerConfig{};
  o.lr = 0;
  EXPECT_NE(o.Validate().message().find("lr"), std::string::npos);
}

}  // namespace
}  // namespace hearsay
